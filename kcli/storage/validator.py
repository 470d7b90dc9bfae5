"""Batch-level validation and offset assignment for appends (Kafka's LogValidator, v2 only).

Records are never decoded: each batch's 61-byte header (layout in kcli/protocol/batch.py) is
parsed once, its CRC-32C checked over bytes [21, end), and offsets are assigned by patching
baseOffset (and partitionLeaderEpoch, which sits beside it outside the CRC) in place. Setting
LogAppendTime rewrites maxTimestamp and attributes, so it recomputes the CRC.

`parsed` entries are (position, baseOffset, lastOffsetDelta, maxTimestamp, size); `infos`
entries are (last offset, max timestamp, size), what LogSegment.append indexes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import crc32c

from kcli.clock import Clock
from kcli.protocol import batch as batchmod
from kcli.protocol.batch import CRC_START, HEADER_SIZE, LOG_OVERHEAD, MAGIC_V2
from kcli.storage.config import LONG_MAX, LogConfig
from kcli.storage.errors import (
    CorruptRecordError,
    InvalidRecordError,
    OffsetsOutOfOrderError,
    RecordBatchTooLargeError,
    RecordTooLargeError,
    UnexpectedAppendOffsetError,
)

HEADER = struct.Struct(">qiibIhiqqqhii")  # the whole 61-byte batch header
BASE_LENGTH_EPOCH = struct.Struct(">qii")  # baseOffset, batchLength, partitionLeaderEpoch
MIN_LENGTH = HEADER_SIZE - LOG_OVERHEAD
crc32c_of = crc32c.crc32c

Parsed = tuple[int, int, int, int, int]
Info = tuple[int, int, int]


def validate_batches(
    view: memoryview, config: LogConfig, clock: Clock, *, assign_offsets: bool, where: object
) -> tuple[list[Parsed], int]:
    """Check every batch of an append; (parsed batches, total records).

    Order of checks as Kafka: size against max.message.bytes before the CRC. Client appends
    (`assign_offsets`) also need recordsCount == lastOffsetDelta + 1 > 0.
    """
    n = len(view)
    max_message = config.max_message_bytes
    parsed: list[Parsed] = []
    records = 0
    pos = 0
    unpack = HEADER.unpack_from
    while pos < n:
        if n - pos < HEADER_SIZE:
            raise CorruptRecordError(f"{n - pos} trailing bytes are not a record batch")
        base, length, _, magic, crc, _, delta, _, max_ts, _, _, _, count = unpack(view, pos)
        size = length + LOG_OVERHEAD
        if magic != MAGIC_V2:
            raise CorruptRecordError(f"unsupported record batch magic {magic}")
        if length < MIN_LENGTH or pos + size > n:
            raise CorruptRecordError(f"record batch length {length} does not fit the data")
        if size > max_message:
            raise RecordTooLargeError(
                f"The record batch size in the append to {where} is {size} "
                f"bytes which exceeds the maximum configured value of {max_message}."
            )
        if crc32c_of(view[pos + CRC_START : pos + size]) != crc:
            raise CorruptRecordError(f"record batch at byte {pos} fails its CRC check")
        if delta < 0 or (assign_offsets and (count <= 0 or delta != count - 1)):
            raise InvalidRecordError(f"record count {count} does not match lastOffsetDelta {delta}")
        records += count
        parsed.append((pos, base, delta, max_ts, size))
        pos += size
    if n > config.segment_bytes:
        raise RecordBatchTooLargeError(
            f"Message batch size is {n} bytes in append to partition {where} "
            f"which exceeds the maximum configured segment size of {config.segment_bytes}."
        )
    limit = config.message_timestamp_difference_max_ms
    if limit < LONG_MAX and not config.log_append_time:
        check_timestamps(view, parsed, limit, clock.time_ms())
    return parsed, records


def check_timestamps(view: memoryview, parsed: Sequence[Parsed], limit: int, now: int) -> None:
    """`message.timestamp.difference.max.ms` for CreateTime topics, on the batch timestamps."""
    for p, *_ in parsed:
        h = batchmod.parse_header(view, p)
        for ts in (h.base_timestamp, h.max_timestamp):
            if ts >= 0 and abs(ts - now) > limit:
                raise InvalidRecordError(
                    f"Timestamp {ts} of a record batch is out of range: it differs from the "
                    f"broker's time {now} by more than {limit} ms"
                )


def assign_offsets_in_place(
    view: memoryview,
    parsed: Sequence[Parsed],
    first_offset: int,
    leader_epoch: int | None,
    log_append_time: int,
) -> list[Info]:
    """Patch base offsets from `first_offset` (and the epoch; LogAppendTime when >= 0)."""
    offset = first_offset
    infos: list[Info] = []
    pack = BASE_LENGTH_EPOCH.pack_into
    for p, _base, delta, max_ts, size in parsed:
        if leader_epoch is not None:
            pack(view, p, offset, size - LOG_OVERHEAD, leader_epoch)
        else:
            batchmod.set_base_offset(view, p, offset)
        offset += delta + 1
        if log_append_time >= 0:
            batchmod.set_log_append_time(view, p, log_append_time)
            infos.append((offset - 1, log_append_time, size))
        else:
            infos.append((offset - 1, max_ts, size))
    return infos


def check_follower_offsets(
    parsed: Sequence[Parsed], log_end_offset: int, where: object
) -> list[Info]:
    """A follower's batches keep their offsets: they must start at or after the log end offset
    and increase."""
    first_offset = parsed[0][1]
    if first_offset < log_end_offset:
        raise UnexpectedAppendOffsetError(
            f"Unexpected offset in append to {where}. First offset "
            f"{first_offset} is less than the next offset {log_end_offset}."
        )
    expected = first_offset
    infos: list[Info] = []
    for _p, base, delta, max_ts, size in parsed:
        if base < expected:
            raise OffsetsOutOfOrderError(
                f"Out of order offsets found in append to {where}: "
                f"batch at {base} after offset {expected - 1}"
            )
        expected = base + delta + 1
        infos.append((expected - 1, max_ts, size))
    return infos
