"""The log cleaner: compaction of `cleanup.policy=compact` (and `compact,delete`) logs.

Kafka's LogCleaner, synchronous: the LogManager's `run_cleaner_pass(cleaner)` offers each compacted
log to `LogCleaner.clean_log`; `clean_filthiest` cleans only the dirtiest of several, as Kafka's
cleaner thread does. What gets cleaned and which records survive is decided by the pure functions
in cleaner_plan.py (documented there); this module reads and writes the files.

One cleaning of a log:
1. Compute the dirty range from the cleaner checkpoint (`log_to_clean`); skip unless the dirty
   ratio is above `min.cleanable.dirty.ratio` (or `max.compaction.lag.ms` has passed).
2. Build the offset map (key -> latest offset) over the dirty range.
3. Group the segments below the first uncleanable offset by `segment.bytes`; for each group write
   the surviving batches into `<first base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`),
   then `Log.replace_segments` swaps it in: `.cleaned` -> `.swap`, old segments -> `.deleted`,
   `.swap` -> live names. A crash before the `.swap` rename leaves the old segments (recovery
   deletes `.cleaned` files); after it, recovery completes the swap (recovery.py). Either way no
   latest value is lost. The active segment is never touched.
4. Move the checkpoint to the end of the cleaned range.

Cleaner checkpoint: `<log.dir>/cleaner-offset-checkpoint`, Kafka's offset checkpoint format
(`0`, entry count, `topic partition offset` lines), written atomically after every cleaning.
Not thread-safe; one caller at a time (the broker serialises passes).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kcli.clock import SYSTEM_CLOCK, Clock
from kcli.protocol.batch import CorruptBatchError
from kcli.protocol.records import parse_control_type, read_batch
from kcli.storage import files
from kcli.storage.checkpoint import OffsetCheckpointFile
from kcli.storage.cleaner_plan import (
    LONG_MAX,
    BatchSummary,
    LogToClean,
    SegmentStat,
    TransactionFates,
    filter_batch,
    grab_filthiest,
    group_segments_by_size,
    log_to_clean,
    should_clean,
    transaction_fates,
)
from kcli.storage.errors import CorruptCheckpointError
from kcli.storage.log import Log
from kcli.storage.segment import LogSegment

log = logging.getLogger(__name__)

CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"
_WRITE_CHUNK = 1024 * 1024


@dataclass(slots=True)
class CleanerStats:
    """What one `clean_log` call did (or why it did nothing)."""

    partition: str
    cleaned: bool = False
    skipped: str = ""  # why nothing was cleaned
    first_dirty_offset: int = 0
    end_offset: int = 0
    dirty_ratio: float = 0.0
    segments_before: list[int] = field(default_factory=list)  # base offsets replaced
    segments_after: list[int] = field(default_factory=list)
    records_read: int = 0
    records_kept: int = 0
    tombstones_removed: int = 0
    bytes_read: int = 0
    bytes_written: int = 0

    def describe(self) -> str:
        if not self.cleaned:
            return f"{self.partition}: not cleaned ({self.skipped})"
        return (
            f"{self.partition}: cleaned offsets [{self.first_dirty_offset}, {self.end_offset}) "
            f"dirty ratio {self.dirty_ratio:.2f}: {len(self.segments_before)} segment(s) -> "
            f"{len(self.segments_after)}, records {self.records_read} -> {self.records_kept}, "
            f"{self.tombstones_removed} tombstone(s) removed, "
            f"{self.bytes_read} -> {self.bytes_written} bytes"
        )


def segment_stats(lg: Log, with_first_timestamps: bool = False) -> list[SegmentStat]:
    out = []
    for seg in lg.segments:
        first_ts = -1
        if with_first_timestamps:
            first = next(seg.iter_batches(0), None)
            first_ts = first.header.max_timestamp if first else -1
        out.append(
            SegmentStat(
                seg.base_offset, seg.next_offset(), seg.size, seg.largest_timestamp(), first_ts
            )
        )
    return out


class LogCleaner:
    """Compacts logs; see the module docstring.

    `upper_bound(log)` may give an offset the cleaner must not pass (the broker passes the high
    watermark so uncommitted data is never compacted). `fault(step)` is a test hook called after
    each group's `.cleaned` files are written, before the swap.
    """

    def __init__(
        self,
        clock: Clock = SYSTEM_CLOCK,
        *,
        upper_bound: Callable[[Log], int | None] | None = None,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.clock = clock
        self.upper_bound = upper_bound
        self.fault = fault
        self._checkpoints: dict[Path, dict[files.TopicPartition, int]] = {}

    # -- checkpoint ------------------------------------------------------------------------

    def _checkpoint_map(self, log_dir: Path) -> dict[files.TopicPartition, int]:
        if log_dir not in self._checkpoints:
            try:
                entries = OffsetCheckpointFile(log_dir / CLEANER_OFFSET_CHECKPOINT).read()
            except CorruptCheckpointError as exc:
                log.warning("%s; cleaning every compacted log from its start", exc)
                entries = {}
            self._checkpoints[log_dir] = entries
        return self._checkpoints[log_dir]

    def checkpoint_of(self, lg: Log) -> int | None:
        if lg.topic_partition is None:
            return None
        return self._checkpoint_map(lg.dir.parent).get(lg.topic_partition)

    def _set_checkpoint(self, lg: Log, offset: int) -> None:
        if lg.topic_partition is None:
            return
        log_dir = lg.dir.parent
        entries = self._checkpoint_map(log_dir)
        entries[lg.topic_partition] = offset
        OffsetCheckpointFile(log_dir / CLEANER_OFFSET_CHECKPOINT).write(entries)

    def forget(self, log_dir: Path, tp: files.TopicPartition) -> None:
        """Drop a deleted partition's checkpoint entry."""
        entries = self._checkpoint_map(log_dir)
        if entries.pop(tp, None) is not None:
            OffsetCheckpointFile(log_dir / CLEANER_OFFSET_CHECKPOINT).write(entries)

    # -- choosing --------------------------------------------------------------------------

    def log_to_clean(self, lg: Log, now_ms: int) -> LogToClean:
        cfg = lg.config
        return log_to_clean(
            segment_stats(lg, with_first_timestamps=cfg.max_compaction_lag_ms < LONG_MAX),
            checkpoint=self.checkpoint_of(lg),
            log_start_offset=lg.log_start_offset,
            now_ms=now_ms,
            min_compaction_lag_ms=cfg.min_compaction_lag_ms,
            max_compaction_lag_ms=cfg.max_compaction_lag_ms,
            upper_bound=self._upper_bound(lg, scan_transactions(lg.segments)),
        )

    def _upper_bound(self, lg: Log, fates: TransactionFates) -> int | None:
        bounds = [fates.first_unstable_offset, self.upper_bound(lg) if self.upper_bound else None]
        present = [b for b in bounds if b is not None]
        return min(present) if present else None

    def clean_log(self, lg: Log, now_ms: int | None = None) -> CleanerStats:
        """Clean `lg` if it is compacted and dirty enough (LogManager.run_cleaner_pass)."""
        now = self.clock.time_ms() if now_ms is None else now_ms
        name = lg.dir.name
        if not lg.config.compact:
            return CleanerStats(name, skipped="cleanup.policy has no compact")
        ltc = self.log_to_clean(lg, now)
        if not should_clean(ltc, lg.config.min_cleanable_dirty_ratio):
            reason = (
                "nothing to clean"
                if ltc.cleanable_bytes == 0
                else f"dirty ratio {ltc.cleanable_ratio:.2f} <= min.cleanable.dirty.ratio "
                f"{lg.config.min_cleanable_dirty_ratio}"
            )
            return CleanerStats(name, skipped=reason, dirty_ratio=ltc.cleanable_ratio)
        return self.clean(lg, ltc, now)

    def clean_filthiest(
        self, logs: Iterable[Log], now_ms: int | None = None
    ) -> CleanerStats | None:
        """Clean the dirtiest compacted log above its ratio (Kafka's cleaner-thread choice)."""
        now = self.clock.time_ms() if now_ms is None else now_ms
        by_name = {str(lg.dir): lg for lg in logs if lg.config.compact}
        states = {
            n: (self.log_to_clean(lg, now), lg.config.min_cleanable_dirty_ratio)
            for n, lg in by_name.items()
        }
        chosen = grab_filthiest(states)
        if chosen is None:
            return None
        return self.clean(by_name[chosen], states[chosen][0], now)

    # -- cleaning --------------------------------------------------------------------------

    def clean(self, lg: Log, ltc: LogToClean, now_ms: int) -> CleanerStats:
        """Compact `lg` over `ltc`'s range now, whatever its ratio."""
        stats = CleanerStats(
            lg.dir.name,
            first_dirty_offset=ltc.first_dirty_offset,
            end_offset=ltc.first_uncleanable_offset,
            dirty_ratio=ltc.cleanable_ratio,
        )
        end = ltc.first_uncleanable_offset
        segments = [s for s in lg.segments[:-1] if s.base_offset < end]
        try:
            fates = scan_transactions(lg.segments)
            offset_map = build_offset_map(segments, ltc.first_dirty_offset, end, fates.aborted)
        except CorruptBatchError as exc:
            stats.skipped = f"corrupt batch in the dirty range: {exc}"
            log.warning("%s: %s", lg.dir.name, stats.skipped)
            return stats
        by_base = {s.base_offset: s for s in segments}
        groups = group_segments_by_size(
            [SegmentStat(s.base_offset, s.next_offset(), s.size, -1) for s in segments],
            lg.config.segment_bytes,
        )
        for group in groups:
            olds = [by_base[g.base_offset] for g in group]
            try:
                self._clean_group(lg, olds, offset_map, fates, now_ms=now_ms, stats=stats)
            except CorruptBatchError as exc:
                # Groups already swapped in are fine; the checkpoint stays so this is retried.
                stats.skipped = f"corrupt batch in segment {olds[0].base_offset}: {exc}"
                log.warning("%s: %s", lg.dir.name, stats.skipped)
                return stats
        self._set_checkpoint(lg, end)
        stats.cleaned = True
        log.info("%s", stats.describe())
        return stats

    def _clean_group(
        self,
        lg: Log,
        olds: list[LogSegment],
        offset_map: dict[bytes, int],
        fates: TransactionFates,
        *,
        now_ms: int,
        stats: CleanerStats,
    ) -> None:
        base = olds[0].base_offset
        for kind in files.SEGMENT_SUFFIXES:  # a failed earlier attempt may have left these
            files.segment_file(lg.dir, base, kind, files.CLEANED_SUFFIX).unlink(missing_ok=True)
        cleaned = LogSegment.open(
            lg.dir,
            base,
            index_interval_bytes=lg.config.index_interval_bytes,
            max_index_size=lg.config.segment_index_bytes,
            created_ms=now_ms,
            suffix=files.CLEANED_SUFFIX,
        )
        changed = len(olds) > 1
        pending = bytearray()
        try:
            for i, seg in enumerate(olds):
                batches = list(seg.iter_batches(0))
                for j, found in enumerate(batches):
                    raw = seg.read_bytes(found.position, found.header.size)
                    last_of_group = i == len(olds) - 1 and j == len(batches) - 1
                    base = found.header.base_offset
                    result = filter_batch(
                        raw,
                        offset_map,
                        now_ms,
                        lg.config.delete_retention_ms,
                        keep_empty=last_of_group or base in fates.producer_last,
                        aborted=base in fates.aborted,
                    )
                    stats.bytes_read += len(raw)
                    stats.records_read += result.records_read
                    stats.records_kept += result.records_kept
                    stats.tombstones_removed += result.tombstones_dropped
                    changed = changed or result.rewritten
                    pending += result.data
                    if len(pending) >= _WRITE_CHUNK:
                        cleaned.append_batches(pending)
                        pending = bytearray()
            if pending:
                cleaned.append_batches(pending)
        except BaseException:
            cleaned.delete_files()
            raise
        if not changed:
            cleaned.delete_files()  # one segment, nothing dropped: leave it as it is
            return
        # Time-based retention looks at the data; keep the file age of the newest old segment.
        mtime = os.stat(olds[-1].log_path).st_mtime_ns
        os.utime(cleaned.log_path, ns=(mtime, mtime))
        cleaned.flush()
        if self.fault is not None:
            self.fault("cleaned")
        stats.bytes_written += cleaned.size
        stats.segments_before += [s.base_offset for s in olds]
        stats.segments_after.append(base)
        lg.replace_segments(cleaned, olds)


def build_offset_map(
    segments: Iterable[LogSegment], start: int, end: int, aborted: frozenset[int] = frozenset()
) -> dict[bytes, int]:
    """key -> offset of its latest record with start <= offset < end (control batches and
    aborted transactions' batches skipped).

    Batches are CRC-checked: compaction must not act on corrupt data.
    """
    offset_map: dict[bytes, int] = {}
    for seg in segments:
        for found in seg.iter_batches(0):
            h = found.header
            if h.is_control or h.last_offset < start or h.base_offset >= end:
                continue
            if h.base_offset in aborted:
                continue
            _, records = read_batch(seg.read_bytes(found.position, h.size))
            for rec in records:
                if rec.key is not None and start <= rec.offset < end:
                    offset_map[rec.key] = rec.offset
    return offset_map


def scan_transactions(segments: Iterable[LogSegment]) -> TransactionFates:
    """Transaction outcomes and producers' last batches over the whole log (headers, plus the
    key of each control batch's first record)."""
    summaries: list[BatchSummary] = []
    for seg in segments:
        for found in seg.iter_batches(0):
            h = found.header
            if h.producer_id < 0:
                continue
            control_type = -1
            if h.is_control:
                try:
                    _, records = read_batch(seg.read_bytes(found.position, h.size), verify=False)
                    control_type = parse_control_type(records[0].key) if records else -1
                except CorruptBatchError:
                    control_type = -1
            summaries.append(
                BatchSummary(
                    h.base_offset, h.producer_id, h.is_transactional, h.is_control, control_type
                )
            )
    return transaction_fates(summaries)
