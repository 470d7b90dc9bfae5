"""ListOffsets lookups on a `Log`: earliest, latest, max timestamp, and by timestamp.

By timestamp (Kafka's UnifiedLog.fetchOffsetByTimestamp): the first segment whose largest
timestamp is >= the target; inside it the time index gives a starting offset, the offset index a
position, and batch headers are scanned for the first batch whose maxTimestamp >= target. Only
that one batch is decoded (kcli.protocol.records, decompressing if needed) to find the first
record with timestamp >= target; in a LogAppendTime batch that is its first record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from kcli.protocol.batch import CorruptBatchError, TimestampType
from kcli.protocol.records import decode_records, records_section

if TYPE_CHECKING:
    from kcli.storage.log import Log

EARLIEST_TIMESTAMP = -2
LATEST_TIMESTAMP = -1
MAX_TIMESTAMP = -3


class TimestampAndOffset(NamedTuple):
    """A ListOffsets answer: timestamp (-1 for earliest/latest), offset, leader epoch or None."""

    timestamp: int
    offset: int
    leader_epoch: int | None


def offset_for_timestamp(log: Log, timestamp: int) -> TimestampAndOffset | None:
    cache = log.leader_epoch_cache
    if timestamp == EARLIEST_TIMESTAMP:
        start = log.log_start_offset
        return TimestampAndOffset(-1, start, cache.epoch_for_offset(start))
    if timestamp == LATEST_TIMESTAMP:
        return TimestampAndOffset(-1, log.log_end_offset, cache.latest_epoch)
    if timestamp == MAX_TIMESTAMP:
        best = max(log.segments, key=lambda s: s.max_timestamp_so_far)
        if best.max_timestamp_so_far < 0:
            return None
        offset = best.offset_of_max_timestamp
        return TimestampAndOffset(best.max_timestamp_so_far, offset, cache.epoch_for_offset(offset))
    if timestamp < 0:
        return None
    start = log.log_start_offset
    for seg in log.segments:
        if seg.max_timestamp_so_far < timestamp or seg.next_offset() <= start:
            continue
        found = seg.find_offset_by_timestamp(timestamp, start)
        if found is None:
            continue
        h = found.header
        if h.timestamp_type == TimestampType.LOG_APPEND_TIME:
            offset = max(h.base_offset, start)
            return TimestampAndOffset(h.max_timestamp, offset, cache.epoch_for_offset(offset))
        data = seg.read_bytes(found.position, h.size)
        try:
            records = decode_records(records_section(data, h), h)
        except CorruptBatchError:
            records = []
        for rec in records:
            if rec.timestamp >= timestamp and rec.offset >= start:
                return TimestampAndOffset(
                    rec.timestamp, rec.offset, cache.epoch_for_offset(rec.offset)
                )
        offset = max(h.base_offset, start)  # undecodable batch: answer at batch granularity
        return TimestampAndOffset(h.max_timestamp, offset, cache.epoch_for_offset(offset))
    return None
