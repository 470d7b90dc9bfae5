"""The log cleaner's decisions as pure functions (Kafka's LogCleanerManager and Cleaner logic).

Terms (Kafka's):
- clean section: offsets below the *first dirty offset* (the cleaner checkpoint): compacted before.
- dirty section: [first dirty offset, first uncleanable offset). The first uncleanable offset is
  the lowest of: the active segment's base offset (the active segment is never cleaned), the
  base offset of the first segment holding a record newer than `min.compaction.lag.ms`, and an
  optional upper bound from the caller (e.g. the high watermark), rounded down to a segment base.
- dirty ratio = dirty bytes / (clean bytes + dirty bytes). A log is cleaned when its ratio is
  above `min.cleanable.dirty.ratio`, or when its oldest dirty data is older than
  `max.compaction.lag.ms`; among several, the dirtiest first.
- offset map: key -> offset of its latest record in the dirty section.
- a cleaning pass rewrites every segment from the start of the log up to the end of the offset
  map's range, in groups of consecutive segments whose total size fits `segment.bytes`.

Which records survive (`retain_record`): a record with a key survives if no later record with
the same key exists in the offset map, and either it has a value, or it is a tombstone whose
batch has no delete horizon yet, or whose delete horizon is still in the future. Records without a
key are dropped (a compacted topic cannot hold them).

Tombstones (KIP-534, batch attribute bit 6): the first cleaning that keeps a batch holding a
tombstone rewrites it with deleteHorizonMs = now + `delete.retention.ms` stored as its
baseTimestamp. A cleaning at or after that horizon drops the tombstone. Consumers therefore have
at least `delete.retention.ms` to see a delete.

Batches (`filter_batch`): a batch whose records all survive (and which needs no horizon) is kept
byte for byte. Otherwise it is rebuilt with the same base offset, last offset delta, producer id,
epoch, base sequence, flags and codec (so producer state and sequence numbers stay valid). A batch
left with no records is dropped, except the last batch of a producer (kept empty, as Kafka keeps
it, so idempotent producers' state survives) and the last batch of a cleaned group (kept empty so
the cleaned segment spans the same offsets as the segments it replaces; swap recovery relies on
that range). Control batches (transaction markers) are kept as they are.

Transactions (`transaction_fates`): a transactional data batch belongs to the transaction its
producer closes with the next COMMIT or ABORT marker. Batches of aborted transactions are left out
of the offset map and lose all their records; transactions with no marker yet bound the dirty
range (the first unstable offset, Kafka's LSO), so undecided data is never compacted.
Simplifications against Kafka: transaction markers are never dropped (Kafka removes a marker once
its transaction has no data left and its delete horizon passed); the offset map holds whole keys
in memory (Kafka hashes keys into a bounded buffer and may need several passes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import BatchHeader, CorruptBatchError, TimestampType
from kcli.protocol.records import (
    ControlRecordType,
    Record,
    build_batch,
    decode_records,
    records_section,
)

LONG_MAX = 9_223_372_036_854_775_807
INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class SegmentStat:
    """What the planner needs to know of one segment."""

    base_offset: int
    next_offset: int  # offset after its last batch (== base when empty)
    size: int
    largest_timestamp: int  # newest record timestamp (-1 when unknown)
    first_batch_timestamp: int = -1  # max timestamp of its first batch (max.compaction.lag.ms)


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """A batch header as the transaction bookkeeping sees it."""

    base_offset: int
    producer_id: int
    is_transactional: bool
    is_control: bool
    control_type: int = -1  # ControlRecordType of a control batch's first record


@dataclass(frozen=True, slots=True)
class TransactionFates:
    aborted: frozenset[int]  # base offsets of data batches in aborted transactions
    producer_last: frozenset[int]  # base offset of each producer's last data batch
    first_unstable_offset: int | None  # first offset of the oldest undecided transaction


def transaction_fates(batches: Sequence[BatchSummary]) -> TransactionFates:
    """Which transactional batches were aborted, each producer's last batch, and the first
    unstable offset, from the log's batches in offset order."""
    open_txns: dict[int, list[int]] = {}
    aborted: set[int] = set()
    last: dict[int, int] = {}
    for b in batches:
        if b.producer_id < 0:
            continue
        if not b.is_control:
            last[b.producer_id] = b.base_offset
            if b.is_transactional:
                open_txns.setdefault(b.producer_id, []).append(b.base_offset)
        elif b.control_type in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
            members = open_txns.pop(b.producer_id, [])
            if b.control_type == ControlRecordType.ABORT:
                aborted.update(members)
    unstable = min((m[0] for m in open_txns.values()), default=None)
    return TransactionFates(frozenset(aborted), frozenset(last.values()), unstable)


@dataclass(frozen=True, slots=True)
class LogToClean:
    """One log's cleaning state (Kafka's LogToClean)."""

    first_dirty_offset: int
    first_uncleanable_offset: int
    clean_bytes: int
    cleanable_bytes: int
    needs_compaction_now: bool = False

    @property
    def total_bytes(self) -> int:
        return self.clean_bytes + self.cleanable_bytes

    @property
    def cleanable_ratio(self) -> float:
        return self.cleanable_bytes / self.total_bytes if self.total_bytes else 0.0


def first_dirty_offset(checkpoint: int | None, log_start_offset: int, log_end_offset: int) -> int:
    """The cleaner checkpoint, reset to the log start when missing or out of range."""
    if checkpoint is None or checkpoint < log_start_offset or checkpoint > log_end_offset:
        return log_start_offset
    return checkpoint


def log_to_clean(
    segments: Sequence[SegmentStat],
    *,
    checkpoint: int | None,
    log_start_offset: int,
    now_ms: int,
    min_compaction_lag_ms: int = 0,
    max_compaction_lag_ms: int = LONG_MAX,
    upper_bound: int | None = None,
) -> LogToClean:
    """Dirty range, byte counts and urgency of a log whose last segment is the active one."""
    if not segments:
        return LogToClean(log_start_offset, log_start_offset, 0, 0)
    log_end = segments[-1].next_offset
    first_dirty = first_dirty_offset(checkpoint, log_start_offset, log_end)
    candidates = [segments[-1].base_offset]
    lag_horizon = now_ms - min_compaction_lag_ms
    for seg in segments[:-1]:
        if seg.next_offset <= first_dirty:
            continue
        if min_compaction_lag_ms > 0 and seg.largest_timestamp > lag_horizon:
            candidates.append(seg.base_offset)
            break
    if upper_bound is not None:
        # Only whole segments are cleaned: round the bound down to its segment's base.
        holding = [s.base_offset for s in segments if s.base_offset <= upper_bound]
        candidates.append(holding[-1] if holding else segments[0].base_offset)
    first_uncleanable = max(min(candidates), first_dirty)
    clean = dirty = 0
    oldest_dirty_ts: int | None = None
    for seg in segments[:-1]:
        if seg.next_offset <= first_dirty or seg.next_offset == seg.base_offset:
            clean += seg.size if seg.next_offset <= first_dirty else 0
            continue
        if seg.base_offset < first_uncleanable:
            dirty += seg.size
            if oldest_dirty_ts is None and seg.first_batch_timestamp >= 0:
                oldest_dirty_ts = seg.first_batch_timestamp
    urgent = (
        max_compaction_lag_ms < LONG_MAX
        and oldest_dirty_ts is not None
        and now_ms - oldest_dirty_ts >= max_compaction_lag_ms
    )
    return LogToClean(first_dirty, first_uncleanable, clean, dirty, urgent)


def should_clean(ltc: LogToClean, min_cleanable_ratio: float) -> bool:
    """Kafka: (needCompactionNow and cleanable bytes > 0) or ratio > min.cleanable.dirty.ratio."""
    if ltc.cleanable_bytes <= 0:
        return False
    return ltc.needs_compaction_now or ltc.cleanable_ratio > min_cleanable_ratio


def grab_filthiest(candidates: Mapping[str, tuple[LogToClean, float]]) -> str | None:
    """Of {name: (state, min ratio)}, the name of the log to clean first, or None."""
    ready = [
        (ltc.needs_compaction_now, ltc.cleanable_ratio, name)
        for name, (ltc, ratio) in candidates.items()
        if should_clean(ltc, ratio)
    ]
    return max(ready)[2] if ready else None


def group_segments_by_size(
    segments: Sequence[SegmentStat], max_size: int, max_offset_span: int = INT32_MAX
) -> list[list[SegmentStat]]:
    """Consecutive segments merged while their total size fits `max_size` (segment.bytes) and
    their offsets fit one segment's int32 relative offsets (Kafka's groupSegmentsBySize)."""
    groups: list[list[SegmentStat]] = []
    current: list[SegmentStat] = []
    size = 0
    for seg in segments:
        if current and (
            size + seg.size > max_size
            or seg.next_offset - 1 - current[0].base_offset > max_offset_span
        ):
            groups.append(current)
            current, size = [], 0
        current.append(seg)
        size += seg.size
    if current:
        groups.append(current)
    return groups


def retain_record(
    record: Record, header: BatchHeader, offset_map: Mapping[bytes, int], now_ms: int
) -> bool:
    """Kafka's shouldRetainRecord for v2 batches (see the module docstring)."""
    if record.key is None:
        return False
    if record.offset < offset_map.get(record.key, -1):
        return False
    if record.value is not None:
        return True
    if header.has_delete_horizon:
        return now_ms < header.base_timestamp
    return True


@dataclass(frozen=True, slots=True)
class FilterResult:
    data: bytes  # the batch to write (b"" when dropped)
    records_read: int
    records_kept: int
    tombstones_dropped: int
    rewritten: bool


def filter_batch(
    raw: bytes,
    offset_map: Mapping[bytes, int],
    now_ms: int,
    delete_retention_ms: int,
    *,
    keep_empty: bool = False,
    aborted: bool = False,
) -> FilterResult:
    """The cleaned form of one batch (see the module docstring). `keep_empty` (the caller knows
    when: a producer's last batch, a group's last batch) keeps an emptied batch as a record-less
    batch spanning the same offsets instead of dropping it. An `aborted` batch (data of an
    aborted transaction) loses all its records."""
    header = batchmod.parse_header(raw)
    if not batchmod.verify_crc(raw, header):
        raise CorruptBatchError(f"CRC mismatch in batch at offset {header.base_offset}")
    if header.is_control:
        return FilterResult(raw, 0, 0, 0, False)
    records = decode_records(records_section(raw, header), header)
    kept = [r for r in records if not aborted and retain_record(r, header, offset_map, now_ms)]
    kept_tombstones = sum(1 for r in kept if r.value is None)
    dropped_tombstones = sum(1 for r in records if r.value is None) - kept_tombstones
    has_tombstone = kept_tombstones > 0
    needs_horizon = has_tombstone and not header.has_delete_horizon
    if len(kept) == len(records) and not needs_horizon:
        return FilterResult(raw, len(records), len(kept), 0, False)
    if not kept and not keep_empty:
        return FilterResult(b"", len(records), 0, dropped_tombstones, True)
    horizon: int | None = None
    if needs_horizon:
        horizon = now_ms + delete_retention_ms
    elif header.has_delete_horizon:
        horizon = header.base_timestamp
    log_append = header.timestamp_type == TimestampType.LOG_APPEND_TIME
    data = build_batch(
        [_bare(r) for r in kept],
        header.base_offset,
        compression=header.compression,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        is_transactional=header.is_transactional,
        is_control=header.is_control,
        timestamp_type=header.timestamp_type,
        partition_leader_epoch=header.partition_leader_epoch,
        delete_horizon_ms=horizon,
        last_offset_delta=header.last_offset_delta,
        max_timestamp=header.max_timestamp if (log_append or not kept) else None,
    )
    return FilterResult(data, len(records), len(kept), dropped_tombstones, True)


def _bare(r: Record) -> Record:
    return Record(r.key, r.value, r.timestamp, r.headers, r.offset)
