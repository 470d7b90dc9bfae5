"""Reading segment files for `kcli dump-log` (kafka.tools.DumpLogSegments), read-only.

Turns a `.log`, `.index` or `.timeindex` file into plain data that the command renders as Kafka's
text or as JSON. Files are only read, never mapped for writing or created, so dumping a live
broker's active segment is safe (its preallocated index tail of zeros ends the entries, as in
Kafka: an entry whose offset equals the base offset after the first one is treated as the end).

    .index      entry = relativeOffset int32 | position int32      (8 bytes, big-endian)
    .timeindex  entry = timestamp int64      | relativeOffset int32 (12 bytes)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import BatchHeader, CorruptBatchError
from kcli.protocol.records import Record, decode_records, records_section

LOG, INDEX, TIME_INDEX = ".log", ".index", ".timeindex"
TRANSIENT_SUFFIXES = (".deleted", ".cleaned", ".swap")
_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
MAX_BATCH_SIZE = 2**31 - 1


def file_kind(path: Path) -> str | None:
    """`.log`, `.index`, `.timeindex`, or None for files dump-log does not read.

    Kafka looks only at the last suffix; kcli also reads the cleaner's and retention's
    transient copies (`<base>.log.cleaned`, `.swap`, `.deleted`) as what they hold.
    """
    name = path.name
    for transient in TRANSIENT_SUFFIXES:
        if name.endswith(transient):
            name = name[: -len(transient)]
    suffix = name[name.rfind(".") :] if "." in name else ""
    return suffix if suffix in (LOG, INDEX, TIME_INDEX) else None


def base_offset_of(path: Path) -> int | None:
    stem = path.name.split(".", 1)[0]
    return int(stem) if stem.isdigit() else None


def sibling(path: Path, kind: str) -> Path:
    return path.with_name(path.name.split(".", 1)[0] + kind)


@dataclass
class BatchDump:
    position: int
    header: BatchHeader
    is_valid: bool
    records: list[Record] = field(default_factory=list)
    error: str | None = None  # records that could not be decoded


@dataclass
class LogDump:
    base_offset: int | None
    batches: list[BatchDump]
    invalid_bytes: int  # bytes after the last whole batch (reported only without --max-bytes)
    corrupt_header: str | None  # why batch iteration stopped early, if it did
    non_consecutive: list[tuple[int, int]]


def read_log(data: bytes, base_offset: int | None, deep: bool) -> LogDump:
    """Every whole batch in `data`, with records decoded when `deep`."""
    batches: list[BatchDump] = []
    pos = 0
    corrupt: str | None = None
    last_offset = -1
    non_consecutive: list[tuple[int, int]] = []
    end = len(data)
    while pos + batchmod.LOG_OVERHEAD <= end:
        size = batchmod.peek_size(data, pos)
        if size is None or pos + size > end:
            break  # a partial batch at the tail: counted as invalid bytes
        try:
            header = batchmod.parse_header(data, pos)
        except CorruptBatchError as exc:
            corrupt = f"Corrupt batch at position {pos}: {exc}"
            break
        dump = BatchDump(pos, header, batchmod.verify_crc(data, header, pos))
        if deep:
            try:
                dump.records = decode_records(records_section(data, header, pos), header)
            except CorruptBatchError as exc:
                dump.error = str(exc)
            for rec in dump.records:
                if last_offset != -1 and rec.offset != last_offset + 1:
                    non_consecutive.append((last_offset, rec.offset))
                last_offset = rec.offset
        batches.append(dump)
        pos += header.size
    return LogDump(base_offset, batches, end - pos, corrupt, non_consecutive)


def read_offset_index(data: bytes, base_offset: int) -> list[tuple[int, int]]:
    """(offset, position) entries up to the first empty slot."""
    out = []
    for i in range(len(data) // _OFFSET_ENTRY.size):
        rel, position = _OFFSET_ENTRY.unpack_from(data, i * _OFFSET_ENTRY.size)
        if i > 0 and rel == 0:
            break
        out.append((base_offset + rel, position))
    return out


def read_time_index(data: bytes, base_offset: int) -> list[tuple[int, int]]:
    """(timestamp, offset) entries up to the first empty slot."""
    out = []
    for i in range(len(data) // _TIME_ENTRY.size):
        timestamp, rel = _TIME_ENTRY.unpack_from(data, i * _TIME_ENTRY.size)
        if i > 0 and rel == 0:
            break
        out.append((timestamp, base_offset + rel))
    return out


def offset_index_sanity(
    path: Path, size: int, entries: list[tuple[int, int]], base: int
) -> str | None:
    """Kafka's OffsetIndex.sanityCheck; None when it passes, else the failure message."""
    if size % _OFFSET_ENTRY.size:
        return (
            f"Index file {path} is corrupt, found {size} bytes which is neither positive nor "
            f"a multiple of {_OFFSET_ENTRY.size}."
        )
    if entries and entries[-1][0] < base:
        return (
            f"Corrupt index found, index file ({path}) has non-zero size but the last offset "
            f"is {entries[-1][0]} which is less than the base offset {base}."
        )
    return None


def time_index_sanity(
    path: Path, size: int, entries: list[tuple[int, int]], base: int
) -> str | None:
    """Kafka's TimeIndex.sanityCheck."""
    if size % _TIME_ENTRY.size:
        return (
            f"Time index file {path} is corrupt, found {size} bytes which is neither positive "
            f"nor a multiple of {_TIME_ENTRY.size}."
        )
    if entries:
        if entries[-1][0] < entries[0][0]:
            return (
                f"Corrupt time index found, time index file ({path}) has non-zero size but the "
                f"last timestamp is {entries[-1][0]} which is less than the first timestamp "
                f"{entries[0][0]}"
            )
        if entries[-1][1] < base:
            return (
                f"Corrupt time index found, time index file ({path}) has non-zero size but the "
                f"last offset is {entries[-1][1]} which is less than the base offset {base}"
            )
    return None


def first_batch_last_offset(log: bytes, position: int) -> int | None:
    """Last offset of the batch starting at `position` of a segment, None if there is none."""
    try:
        return batchmod.parse_header(log, position).last_offset
    except CorruptBatchError:
        return None


def batch_max_timestamp_at(
    log: bytes, index: list[tuple[int, int]], offset: int
) -> tuple[int, int | None]:
    """For a time index entry: (last offset of the first batch ending at/after `offset`, its max
    record timestamp), scanning from the offset index's position for `offset`."""
    position = 0
    for entry_offset, entry_position in index:
        if entry_offset > offset:
            break
        position = entry_position
    dump = read_log(log[position:], None, deep=True)
    for b in dump.batches:
        if b.header.last_offset >= offset:
            if b.header.last_offset != offset:
                return b.header.last_offset, None
            ts = max((r.timestamp for r in b.records), default=-1)
            return b.header.last_offset, ts
    return -1, None
