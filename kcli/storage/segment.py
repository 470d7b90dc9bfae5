"""`LogSegment`: one `.log` file of record batches plus its `.index` and `.timeindex`.

Files (see files.py): `<dir>/<20-digit base offset>.log|.index|.timeindex`. The `.log` file is
record batches v2 back to back, exactly as appended (layout in kcli/protocol/batch.py); nothing
else is in it. A segment holds offsets from its base offset up to base + 2**31 - 1 (relative
offsets are int32 in the indexes).

Contract:
- Appends go to the end with one `pwrite` per call; the caller (`Log`) has validated the batches.
  An offset index entry (batch last offset -> batch position) and a time index entry are added
  when more than `index.interval.bytes` were appended since the last entry (Kafka's rule).
- Reads return a file region (`FetchData`) suitable for `os.sendfile`; nothing is copied.
- After a crash the `.log` file is the truth: `recover()` re-validates every batch (size, magic,
  CRC-32C, offsets in range and increasing), truncates at the first invalid or torn one and
  rebuilds both indexes. The indexes are never trusted over the log.
- Not thread-safe. Its `Log` (one per partition) is the only caller; the cleaner builds new
  segments with `LogSegment.open(..., suffix=".cleaned")` and hands them to
  `Log.replace_segments`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import crc32c

from kcli.clock import Clock
from kcli.protocol.batch import (
    CRC_START,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    CorruptBatchError,
    parse_header,
)
from kcli.storage import files
from kcli.storage.config import LogConfig
from kcli.storage.index import OffsetIndex, TimeIndex
from kcli.storage.recent_batches import RecentBatches

_SCAN_CHUNK = 16 * 1024  # header scans read this much at a time
_RECOVER_CHUNK = 1024 * 1024
_INT32_MAX = 2**31 - 1
_LENGTH = struct.Struct(">i")


class BatchInfo(NamedTuple):
    """What the segment needs to know of each appended batch (no record decoding)."""

    last_offset: int
    max_timestamp: int
    size: int


class BatchPosition(NamedTuple):
    """A batch found in a segment: its header and where it starts."""

    position: int
    header: BatchHeader


@dataclass(slots=True)
class FetchData:
    """A region of a segment file holding whole batches (the last one may be cut by max_bytes,
    as Kafka does; clients drop a partial trailing batch).

    `file`/`position`/`size` are ready for `os.sendfile(sock_fd, data.fd, position, size)` or
    `loop.sendfile(transport, data.file, position, size)`; `to_bytes()` is the in-memory
    fallback. Storage itself only uses pread/pwrite, so the file object's position means
    nothing to it; but the file object is shared by every reader of the segment, so a reader
    that seeks and reads it from another thread (asyncio's non-native sendfile fallback does)
    must not run concurrently with another such reader: prefer `os.sendfile` with explicit
    offsets, or `to_bytes()`. The file stays open at least `file.delete.delay.ms` after its
    segment is deleted, so a send in progress finishes; a follower truncation can still shorten
    it (Kafka alike).
    """

    file: BinaryIO | None
    position: int
    size: int
    first_offset: int  # the offset asked for
    segment_base_offset: int = -1

    @property
    def fd(self) -> int:
        return self.file.fileno() if self.file is not None else -1

    def to_bytes(self) -> bytes:
        if self.file is None or self.size == 0:
            return b""
        return os.pread(self.file.fileno(), self.size, self.position)


def empty_fetch(offset: int) -> FetchData:
    return FetchData(None, 0, 0, offset)


class LogSegment:
    """One segment of a partition log (see the module docstring for the contract)."""

    def __init__(
        self,
        directory: Path,
        base_offset: int,
        *,
        index_interval_bytes: int,
        max_index_size: int,
        created_ms: int,
        suffix: str = "",
    ) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self.suffix = suffix
        self.index_interval_bytes = index_interval_bytes
        self.log_path = files.segment_file(directory, base_offset, files.LOG_SUFFIX, suffix)
        self.file: BinaryIO = open(self.log_path, "a+b", buffering=0)  # noqa: SIM115
        self.fd = self.file.fileno()
        self._size = os.fstat(self.fd).st_size
        self.offset_index = OffsetIndex(
            files.segment_file(directory, base_offset, files.INDEX_SUFFIX, suffix),
            base_offset,
            max_index_size,
        )
        self.time_index = TimeIndex(
            files.segment_file(directory, base_offset, files.TIME_INDEX_SUFFIX, suffix),
            base_offset,
            max_index_size,
        )
        self.created_ms = created_ms
        self.roll_jitter_ms = 0
        self._bytes_since_index_entry = 0
        # largest batch timestamp so far and the last offset of its batch (time index values)
        self.max_timestamp_so_far = -1
        self.offset_of_max_timestamp = -1
        self._rolling_based_ts: int | None = None
        self._next_offset: int | None = None if self._size else base_offset
        # positions of the latest appends (translate_offset's fast path); an existing file's
        # tail is learnt from the first append on (`_recent_ready`)
        self._recent = RecentBatches()
        self._recent_ready = False
        if self._size and self.time_index.entries:
            self.max_timestamp_so_far, self.offset_of_max_timestamp = self.time_index.last_entry()
        self._refresh_room()

    @classmethod
    def open(
        cls,
        directory: Path,
        base_offset: int,
        *,
        index_interval_bytes: int = 4096,
        max_index_size: int = 10 * 1024 * 1024,
        created_ms: int = 0,
        suffix: str = "",
    ) -> LogSegment:
        """Open (or create) the segment files; `suffix` is "" or files.CLEANED_SUFFIX etc."""
        return cls(
            directory,
            base_offset,
            index_interval_bytes=index_interval_bytes,
            max_index_size=max_index_size,
            created_ms=created_ms,
            suffix=suffix,
        )

    def __repr__(self) -> str:
        return (
            f"LogSegment(base_offset={self.base_offset}, size={self._size}, suffix={self.suffix!r})"
        )

    # -- state -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    def next_offset(self) -> int:
        """The offset after the last batch in this segment (base offset when empty)."""
        if self._next_offset is None:
            nxt = self.base_offset
            start = self.offset_index.last_entry().position if self.offset_index.entries else 0
            for _, header in self.iter_batches(start):
                nxt = header.base_offset + header.last_offset_delta + 1
            self._next_offset = nxt
        return self._next_offset

    def largest_timestamp(self) -> int:
        """Max batch timestamp in the segment, or the file's mtime when none (Kafka alike)."""
        if self.max_timestamp_so_far >= 0:
            return self.max_timestamp_so_far
        return os.fstat(self.fd).st_mtime_ns // 1_000_000

    def time_waited_for_roll(self, now_ms: int, message_timestamp: int) -> int:
        """Kafka's rule: by the first batch's timestamp when known, else by creation time."""
        if self._rolling_based_ts is None and self._size:
            first = next(self.iter_batches(0), None)
            self._rolling_based_ts = first.header.max_timestamp if first else None
        if self._rolling_based_ts is not None and self._rolling_based_ts >= 0:
            return message_timestamp - self._rolling_based_ts
        return now_ms - self.created_ms

    def roll_time_reached(self, message_timestamp: int, segment_ms: int, clock: Clock) -> bool:
        """segment.ms (less jitter) has passed for this segment; reads the clock only when the
        segment's first timestamp is unknown."""
        first = self._rolling_based_ts
        if first is not None and first >= 0:
            return message_timestamp - first > segment_ms - self.roll_jitter_ms
        return self.time_waited_for_roll(clock.time_ms(), message_timestamp) > (
            segment_ms - self.roll_jitter_ms
        )

    def _refresh_room(self) -> None:
        """Recount the free index slots (after anything but an append changed the indexes)."""
        self._offset_room = self.offset_index.room()
        self._time_room = self.time_index.room()
        self.indexes_full = self._offset_room < 1 or self._time_room < 1

    def can_hold(self, offset: int) -> bool:
        return 0 <= offset - self.base_offset <= _INT32_MAX

    # -- append ----------------------------------------------------------------------------

    def should_roll(
        self,
        config: LogConfig,
        size: int,
        batches: int,
        *,
        max_timestamp: int,
        last_offset: int,
        now_ms: int,
    ) -> bool:
        """Kafka's shouldRoll for an append of `size` bytes in `batches` batches: segment.bytes,
        segment.ms (less the jitter), room in both indexes, relative offsets in int32."""
        return (
            self._size > config.segment_bytes - size
            or (
                self._size > 0
                and self.time_waited_for_roll(now_ms, max_timestamp)
                > config.segment_ms - self.roll_jitter_ms
            )
            or self.offset_index.room() < batches
            or self.time_index.room() < batches
            or last_offset - self.base_offset > _INT32_MAX
        )

    def append(
        self,
        data: memoryview | bytes | bytearray,
        batches: Sequence[tuple[int, int, int]] | Sequence[BatchInfo],
    ) -> None:
        """Write validated batches at the end in one write and index them.

        `batches` gives (last offset, max timestamp, size) of each batch, in order.
        """
        position = self._size
        if not self._recent_ready:
            self._start_recent()
        total = len(data)
        written = os.pwrite(self.fd, data, position)
        while written < total:  # regular files rarely write short, but the API allows it
            written += os.pwrite(self.fd, memoryview(data)[written:], position + written)
        if self._rolling_based_ts is None and position == 0:
            self._rolling_based_ts = batches[0][1]
        interval = self.index_interval_bytes
        since = self._bytes_since_index_entry
        recent = self._recent
        for last_offset, max_timestamp, size in batches:
            recent.add(last_offset, position)
            if max_timestamp > self.max_timestamp_so_far:
                self.max_timestamp_so_far, self.offset_of_max_timestamp = max_timestamp, last_offset
            if since > interval and not self.indexes_full:
                # (a full index only makes lookups scan further; the Log rolls before that)
                self._add_index_entry(last_offset, position)
                since = 0
            position += size
            since += size
        self._bytes_since_index_entry = since
        self._size = position
        self._next_offset = batches[-1][0] + 1

    def append_one(self, data: memoryview, last_offset: int, max_timestamp: int) -> None:
        """`append` for exactly one batch (the produce fast path)."""
        position = self._size
        if not self._recent_ready:
            self._start_recent()
        total = len(data)
        written = os.pwrite(self.fd, data, position)
        while written < total:
            written += os.pwrite(self.fd, data[written:], position + written)
        self._recent.add(last_offset, position)
        if position == 0 and self._rolling_based_ts is None:
            self._rolling_based_ts = max_timestamp
        if max_timestamp > self.max_timestamp_so_far:
            self.max_timestamp_so_far, self.offset_of_max_timestamp = max_timestamp, last_offset
        if self._bytes_since_index_entry > self.index_interval_bytes and not self.indexes_full:
            self._add_index_entry(last_offset, position)
            self._bytes_since_index_entry = total
        else:
            self._bytes_since_index_entry += total
        self._size = position + total
        self._next_offset = last_offset + 1

    def _start_recent(self) -> None:
        """Begin remembering appends: everything already here ends at next_offset() - 1."""
        self._recent.reset(self.next_offset() - 1)
        self._recent_ready = True

    def _forget_recent(self) -> None:
        self._recent.reset(None)
        self._recent_ready = False

    def _add_index_entry(self, last_offset: int, position: int) -> None:
        """One offset index entry, and a time index entry if the max timestamp grew."""
        if not self.offset_index.append_next(last_offset - self.base_offset, position):
            self._refresh_room()  # the file had no slot: count again
            return
        self._offset_room -= 1
        # Batches without timestamps (-1) leave nothing to index by time.
        if self.max_timestamp_so_far >= 0 and self.time_index.maybe_append(
            self.max_timestamp_so_far, self.offset_of_max_timestamp
        ):
            self._time_room -= 1
        if self._offset_room < 1 or self._time_room < 1:
            self.indexes_full = True

    def append_batches(self, data: bytes | bytearray | memoryview) -> None:
        """Append already-offset batches (cleaner, tests): parses headers, checks nothing else."""
        infos: list[BatchInfo] = []
        pos = 0
        while pos < len(data):
            h = parse_header(data, pos)
            infos.append(BatchInfo(h.base_offset + h.last_offset_delta, h.max_timestamp, h.size))
            pos += h.size
        self.append(data, infos)

    # -- scanning and reading ----------------------------------------------------------------

    def iter_batches(
        self, start_position: int = 0, end: int | None = None
    ) -> Iterator[BatchPosition]:
        """Headers of the whole batches from `start_position` (headers only, CRC not checked).

        Stops quietly at a torn or unparsable tail.
        """
        end = self._size if end is None else end
        pos = start_position
        buf = b""
        buf_start = pos
        while pos + HEADER_SIZE <= end:
            off = pos - buf_start
            if off < 0 or off + HEADER_SIZE > len(buf):
                buf = os.pread(self.fd, max(_SCAN_CHUNK, HEADER_SIZE), pos)
                buf_start, off = pos, 0
            try:
                header = parse_header(buf, off)
            except CorruptBatchError:
                return
            if pos + header.size > end:
                return
            yield BatchPosition(pos, header)
            pos += header.size

    def translate_offset(self, offset: int, starting_position: int = 0) -> BatchPosition | None:
        """The first batch whose last offset >= `offset`, scanning from the index's hint.

        If nothing is found from the hint (a damaged index pointing into a batch), the scan is
        repeated from `starting_position`: a bad index costs time, never data.
        """
        if starting_position == 0:
            known = self._recent.lookup(offset)  # the tail: no scan
            if known is not None:
                if known < 0:
                    return None
                try:
                    return BatchPosition(known, parse_header(os.pread(self.fd, HEADER_SIZE, known)))
                except CorruptBatchError:
                    pass  # the file changed under us: scan as below
        hint = max(self.offset_index.lookup(offset).position, starting_position)
        for start in (hint, starting_position) if hint > starting_position else (hint,):
            for found in self.iter_batches(start):
                if found.header.base_offset + found.header.last_offset_delta >= offset:
                    return found
        return None

    def read(
        self,
        start_offset: int,
        max_size: int,
        max_position: int | None = None,
        min_one_batch: bool = True,
    ) -> FetchData | None:
        """Region from the batch holding `start_offset`, at most `max_size` bytes (but the whole
        first batch when `min_one_batch`) and not past `max_position`. None if no batch here
        has offsets >= start_offset."""
        found = self.translate_offset(start_offset)
        if found is None:
            return None
        limit = self._size if max_position is None else min(max_position, self._size)
        start = found.position
        size = max_size if not min_one_batch else max(max_size, found.header.size)
        size = max(min(size, limit - start), 0)
        return FetchData(self.file, start, size, start_offset, self.base_offset)

    def read_bytes(self, position: int, size: int) -> bytes:
        return os.pread(self.fd, size, position)

    def find_offset_by_timestamp(
        self, timestamp: int, starting_offset: int
    ) -> BatchPosition | None:
        """The first batch at or after `starting_offset` whose max timestamp >= `timestamp`."""
        hint = self.time_index.lookup(timestamp)
        position = self.offset_index.lookup(max(hint.offset, starting_offset)).position
        for found in self.iter_batches(position):
            h = found.header
            if (
                h.max_timestamp >= timestamp
                and h.base_offset + h.last_offset_delta >= starting_offset
            ):
                return found
        return None

    # -- recovery, truncation, lifecycle ------------------------------------------------------

    def recover(self) -> int:
        """Re-validate every batch, truncate at the first invalid one, rebuild both indexes.

        Returns the number of bytes truncated. Checks per batch: a parsable header (magic 2,
        length), the whole batch present, CRC-32C, base offset not below the previous batch's
        next offset nor this segment's base, last offset within int32 of the base.
        """
        self.offset_index.reset()
        self.time_index.reset()
        self._bytes_since_index_entry = 0
        self.max_timestamp_so_far, self.offset_of_max_timestamp = -1, -1
        self._rolling_based_ts = None
        valid = 0
        expected = self.base_offset
        end = os.fstat(self.fd).st_size
        buf = b""
        buf_start = 0
        while valid + LOG_OVERHEAD <= end:
            off = valid - buf_start
            if off + HEADER_SIZE > len(buf):
                buf = os.pread(self.fd, _RECOVER_CHUNK, valid)
                buf_start, off = valid, 0
            try:
                h = parse_header(buf, off)
            except CorruptBatchError:
                break
            if valid + h.size > end:
                break
            if off + h.size > len(buf):
                buf = os.pread(self.fd, max(_RECOVER_CHUNK, h.size), valid)
                buf_start, off = valid, 0
                if len(buf) < h.size:
                    break
            last = h.base_offset + h.last_offset_delta
            if (
                h.base_offset < expected
                or h.last_offset_delta < 0
                or not self.can_hold(last)
                or crc32c.crc32c(memoryview(buf)[off + CRC_START : off + h.size]) != h.crc
            ):
                break
            if self._rolling_based_ts is None:
                self._rolling_based_ts = h.max_timestamp
            if h.max_timestamp > self.max_timestamp_so_far:
                self.max_timestamp_so_far, self.offset_of_max_timestamp = h.max_timestamp, last
            if self._bytes_since_index_entry > self.index_interval_bytes and (
                self.offset_index.room() > 0 and self.time_index.room() > 0
            ):
                self.offset_index.append(last, valid)
                self.time_index.maybe_append(
                    self.max_timestamp_so_far, self.offset_of_max_timestamp
                )
                self._bytes_since_index_entry = 0
            self._bytes_since_index_entry += h.size
            valid += h.size
            expected = last + 1
        truncated = end - valid
        if truncated:
            os.ftruncate(self.fd, valid)
        self._size = valid
        self._next_offset = expected if valid else self.base_offset
        self._forget_recent()
        self._refresh_room()
        return truncated

    def truncate_to(self, offset: int) -> int:
        """Drop every batch whose last offset >= `offset`; returns bytes removed."""
        found = self.translate_offset(offset)
        if found is None:
            return 0
        removed = self._size - found.position
        self._forget_recent()
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        os.ftruncate(self.fd, found.position)
        self._size = found.position
        self._next_offset = None if self._size else self.base_offset
        self._bytes_since_index_entry = 0
        if self._size == 0:
            self._rolling_based_ts = None
        # the max timestamp may have been in the dropped part: recompute from what is left
        self.max_timestamp_so_far, self.offset_of_max_timestamp = -1, -1
        if self.time_index.entries:
            self.max_timestamp_so_far, self.offset_of_max_timestamp = self.time_index.last_entry()
        for pos_header in self.iter_batches(self.offset_index.last_entry().position):
            h = pos_header.header
            if h.max_timestamp > self.max_timestamp_so_far:
                self.max_timestamp_so_far = h.max_timestamp
                self.offset_of_max_timestamp = h.base_offset + h.last_offset_delta
        self._refresh_room()
        return removed

    def resize_indexes(self, max_index_size: int) -> None:
        """Make room for appends (the active segment after load)."""
        self.offset_index.max_index_size = max_index_size - max_index_size % 8
        self.time_index.max_index_size = max_index_size - max_index_size % 12
        self.offset_index.resize(max_index_size)
        self.time_index.resize(max_index_size)
        self._refresh_room()

    def on_become_inactive(self) -> None:
        """The segment was rolled: write the final time index entry and trim both indexes."""
        if self.max_timestamp_so_far >= 0:
            self.time_index.maybe_append(
                self.max_timestamp_so_far, self.offset_of_max_timestamp, skip_full_check=True
            )
        self.offset_index.trim()
        self.time_index.trim()
        self._forget_recent()  # no more appends; fetches here fall back to the index

    def flush(self) -> None:
        os.fsync(self.fd)
        self.offset_index.flush()
        self.time_index.flush()

    def close(self) -> None:
        """Clean close: final time index entry, indexes trimmed, files closed."""
        if self.file.closed:
            return
        self.on_become_inactive()
        self.close_handles()

    def close_handles(self) -> None:
        """Close the files without touching their contents."""
        self.offset_index.close(trim=False)
        self.time_index.close(trim=False)
        self.file.close()

    def paths(self) -> list[Path]:
        return [self.log_path, self.offset_index.path, self.time_index.path]

    def change_suffix(self, new_suffix: str) -> None:
        """Rename the three files from the current suffix to `new_suffix` (e.g. to .deleted)."""
        new_log = files.segment_file(self.directory, self.base_offset, files.LOG_SUFFIX, new_suffix)
        os.replace(self.log_path, new_log)
        self.log_path = new_log
        for index, kind in (
            (self.offset_index, files.INDEX_SUFFIX),
            (self.time_index, files.TIME_INDEX_SUFFIX),
        ):
            index.rename(files.segment_file(self.directory, self.base_offset, kind, new_suffix))
        self.suffix = new_suffix

    def delete_files(self) -> None:
        """Close and unlink the three files (missing files are fine)."""
        self.close_handles()
        for path in self.paths():
            path.unlink(missing_ok=True)


def whole_batches_size(buf: bytes | bytearray | memoryview) -> int:
    """Bytes of `buf` made of whole batches by their length fields (a fetch response's data
    may end in a cut batch: Kafka's readers stop there)."""
    pos, end = 0, len(buf)
    while end - pos >= LOG_OVERHEAD:
        (length,) = _LENGTH.unpack_from(buf, pos + 8)
        if length < 0 or pos + LOG_OVERHEAD + length > end:
            break
        pos += LOG_OVERHEAD + length
    return pos
