"""`Log`: one partition's log, a directory of segments (Kafka's UnifiedLog + LocalLog).

Files: `<log.dir>/<topic>-<partition>/` with the segments (segment.py), `leader-epoch-checkpoint`
(epoch.py) and transient `.deleted`/`.cleaned`/`.swap` files (files.py). The log dir's checkpoint
files (recovery points, log start offsets) are written by the LogManager from this object's
`recovery_point` and `log_start_offset`.

Contract:
- `append` is batch-level (validator.py): each batch's header is parsed and checked (size,
  magic, length, CRC-32C, `max.message.bytes`), offsets are assigned by patching base offsets
  in the caller's buffer (so pass a bytearray or writable memoryview to avoid a copy), and the
  bytes go to the active segment in one write. Records are never decoded. Nothing is written
  if any batch fails.
- `read` returns a `FetchData` file region for sendfile; `to_bytes()` is the fallback.
- Crash safety comes from recovery at load (recovery.py), not from fsync: by default nothing is
  flushed until a roll (which flushes the finished segments, as Kafka does), `flush.messages`
  or `flush.ms`, or a clean close. `recovery_point` is the offset below which data is flushed.
- Deleted segments (retention, truncation, DeleteRecords) are renamed to `.deleted` at once and
  their files closed and removed `file.delete.delay.ms` later by `remove_deleted_segments()`, so
  reads already handed out stay valid meanwhile.
- Not thread-safe. One owner (the broker's partition, on its event-loop thread) calls it.
"""

from __future__ import annotations

import bisect
import logging
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kcli.clock import SYSTEM_CLOCK, Clock
from kcli.protocol.batch import CRC_START, LOG_OVERHEAD, MAGIC_V2
from kcli.storage import files, retention
from kcli.storage.checkpoint import read_partition_metadata, write_partition_metadata
from kcli.storage.config import LONG_MAX, LogConfig
from kcli.storage.epoch import LeaderEpochFileCache
from kcli.storage.errors import (
    LogSegmentOffsetOverflowError,
    OffsetOutOfRangeError,
)
from kcli.storage.lookup import TimestampAndOffset, offset_for_timestamp
from kcli.storage.recovery import RecoveryResult, load_segments
from kcli.storage.segment import FetchData, LogSegment, empty_fetch, whole_batches_size
from kcli.storage.validator import (
    BASE_LENGTH_EPOCH,
    HEADER,
    MIN_LENGTH,
    assign_offsets_in_place,
    check_follower_offsets,
    crc32c_of,
    validate_batches,
)

log = logging.getLogger(__name__)

_INT64 = struct.Struct(">q")
_INT32_MAX = 2**31 - 1


@dataclass(slots=True)
class LogAppendInfo:
    """The outcome of one `Log.append` (Kafka's LogAppendInfo, batch-level)."""

    first_offset: int
    last_offset: int
    max_timestamp: int
    offset_of_max_timestamp: int  # last offset of the batch with the max timestamp
    log_append_time: int  # -1 unless the topic uses LogAppendTime
    log_start_offset: int
    num_batches: int
    num_records: int
    valid_bytes: int


class Log:
    """A partition log; see the module docstring. Build with `Log.open`."""

    def __init__(
        self,
        directory: Path,
        config: LogConfig,
        segments: list[LogSegment],
        *,
        clock: Clock,
        log_start_offset: int,
        recovery_point: int,
        recovery: RecoveryResult,
        topic_partition: files.TopicPartition | None,
    ) -> None:
        self.dir = directory
        self.config = config
        self.clock = clock
        self.topic_partition = topic_partition or files.parse_partition_dir_name(directory.name)
        self._segments = segments
        self._bases = [s.base_offset for s in segments]
        self._leo = segments[-1].next_offset()
        # a checkpointed start past the (recovered) end is clamped to the end
        self.log_start_offset = min(max(log_start_offset, segments[0].base_offset), self._leo)
        self.recovery_point = min(recovery_point, self._leo)
        self.last_recovery = recovery
        self.leader_epoch_cache = LeaderEpochFileCache(directory / files.LEADER_EPOCH_CHECKPOINT)
        self.leader_epoch_cache.truncate_from_end(self._leo)
        self.leader_epoch_cache.truncate_from_start(self.log_start_offset)
        self._cache_config()
        self._unflushed_records = 0
        self._last_flush_ms = clock.time_ms()
        self._pending_deletes: list[tuple[int, LogSegment]] = []  # (due ms, segment)
        self._segments[-1].roll_jitter_ms = self._new_jitter()

    @classmethod
    def open(
        cls,
        directory: Path,
        config: LogConfig | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        recovery_point: int = 0,
        log_start_offset: int = 0,
        clean_shutdown: bool = True,
        topic_partition: files.TopicPartition | None = None,
    ) -> Log:
        """Open or create the log in `directory`; recovers it when `clean_shutdown` is False."""
        config = config or LogConfig()
        directory.mkdir(parents=True, exist_ok=True)
        segments, result = load_segments(
            directory,
            config,
            clock.time_ms(),
            recovery_point=recovery_point,
            log_start_offset=log_start_offset,
            clean_shutdown=clean_shutdown,
        )
        if not clean_shutdown or result.rebuilt_indexes or result.removed_files:
            log.log(logging.WARNING if result.lost_data else logging.INFO, "%s", result.summary())
        leo = segments[-1].next_offset()
        return cls(
            directory,
            config,
            segments,
            clock=clock,
            log_start_offset=log_start_offset,
            recovery_point=leo if not clean_shutdown else recovery_point,
            recovery=result,
            topic_partition=topic_partition,
        )

    # -- state -----------------------------------------------------------------------------

    @property
    def log_end_offset(self) -> int:
        return self._leo

    @property
    def segments(self) -> tuple[LogSegment, ...]:
        return tuple(self._segments)

    @property
    def active_segment(self) -> LogSegment:
        return self._segments[-1]

    @property
    def size(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def latest_epoch(self) -> int | None:
        return self.leader_epoch_cache.latest_epoch

    @property
    def topic_id(self) -> str | None:
        """The topic id from `partition.metadata`, if the broker stored one."""
        return read_partition_metadata(self.dir)

    def set_topic_id(self, topic_id: str) -> None:
        """Store the topic id in `partition.metadata` (written once, when it changes)."""
        if read_partition_metadata(self.dir) != topic_id:
            write_partition_metadata(self.dir, topic_id)

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """(epoch, end offset) for OffsetForLeaderEpoch."""
        return self.leader_epoch_cache.end_offset_for(epoch, self._leo)

    def update_config(self, config: LogConfig) -> None:
        self.config = config
        self._segments[-1].roll_jitter_ms = self._new_jitter()
        self._cache_config()

    def _cache_config(self) -> None:
        """Values the produce fast path reads per append."""
        config = self.config
        plain = (
            not config.log_append_time and config.message_timestamp_difference_max_ms >= LONG_MAX
        )
        self._fast_limit = min(config.max_message_bytes, config.segment_bytes) if plain else -1
        self._flush_messages = config.flush_messages

    def _new_jitter(self) -> int:
        jitter = min(self.config.segment_jitter_ms, self.config.segment_ms)
        return random.randrange(jitter) if jitter > 0 else 0

    def __repr__(self) -> str:
        return (
            f"Log({self.dir.name}, start={self.log_start_offset}, end={self._leo}, "
            f"segments={len(self._segments)})"
        )

    # -- append ----------------------------------------------------------------------------

    def append(
        self,
        batches: bytes | bytearray | memoryview,
        leader_epoch: int | None = None,
        *,
        assign_offsets: bool = True,
    ) -> LogAppendInfo:
        """Validate and append concatenated v2 batches.

        Leader (`assign_offsets=True`): offsets are assigned from the log end offset by
        patching each batch's base offset in place, `leader_epoch` (if given) is stamped into
        partitionLeaderEpoch, and LogAppendTime is applied when the topic uses it. A read-only
        buffer is copied first. Follower (`assign_offsets=False`): offsets are kept and must
        start at or after the log end offset and increase; a cut batch at the end of the data
        (fetch responses end so) is ignored.

        Raises CorruptRecordError (InvalidRecordError for a count/offset-delta mismatch),
        RecordTooLargeError, RecordBatchTooLargeError, UnexpectedAppendOffsetError or
        OffsetsOutOfOrderError; on any of them nothing is written.
        """
        if assign_offsets and type(batches) is bytearray:
            # The common produce case, one valid batch, in as few steps as possible; anything
            # else (several batches, a failed check, LogAppendTime...) takes the general path,
            # which reports it. Written for speed: it reads a few LogSegment internals.
            view = memoryview(batches)
            _, length, _, magic, crc, _, delta, _, max_ts, _, _, _, count = HEADER.unpack_from(view)
            n = length + LOG_OVERHEAD
            if (
                n == len(view)
                and n <= self._fast_limit
                and magic == MAGIC_V2
                and length >= MIN_LENGTH
                and delta == count - 1
                and delta >= 0
                and crc32c_of(view[CRC_START:n]) == crc
            ):
                offset = self._leo
                last_offset = offset + delta
                segment = self._segments[-1]
                size = segment._size
                if size and (
                    size > self.config.segment_bytes - n
                    or segment.indexes_full
                    or last_offset - segment.base_offset > _INT32_MAX
                    or segment.roll_time_reached(max_ts, self.config.segment_ms, self.clock)
                ):
                    segment = self._roll_for(offset, last_offset)
                if leader_epoch is None:
                    _INT64.pack_into(view, 0, offset)
                else:
                    BASE_LENGTH_EPOCH.pack_into(view, 0, offset, length, leader_epoch)
                    if leader_epoch != self.leader_epoch_cache.latest_epoch and leader_epoch >= 0:
                        self.leader_epoch_cache.assign(leader_epoch, offset)
                segment.append_one(view, last_offset, max_ts)
                self._leo = last_offset + 1
                self._unflushed_records += count
                if self._unflushed_records >= self._flush_messages:
                    self.flush()
                return LogAppendInfo(
                    offset, last_offset, max_ts, last_offset, -1, self.log_start_offset, 1, count, n
                )
        return self._append_general(batches, leader_epoch, assign_offsets)

    def _append_general(
        self,
        batches: bytes | bytearray | memoryview,
        leader_epoch: int | None,
        assign_offsets: bool,
    ) -> LogAppendInfo:
        """Any append: several batches, follower appends, LogAppendTime, errors."""
        view = memoryview(batches)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        config = self.config
        log_append = config.log_append_time
        if view.readonly and (assign_offsets or log_append):
            view = memoryview(bytearray(view))
        if not assign_offsets:  # a fetch response may end in a cut batch: drop it (Kafka alike)
            view = view[: whole_batches_size(view)]
        n = len(view)
        if n == 0:
            return LogAppendInfo(-1, -1, -1, -1, -1, self.log_start_offset, 0, 0, 0)
        parsed, records = validate_batches(
            view, self.config, self.clock, assign_offsets=assign_offsets, where=self.topic_partition
        )
        now = self.clock.time_ms()
        if assign_offsets:
            first_offset = self._leo
            infos = assign_offsets_in_place(
                view, parsed, first_offset, leader_epoch, now if log_append else -1
            )
        else:
            first_offset = parsed[0][1]
            infos = check_follower_offsets(parsed, self._leo, self.topic_partition)
        if len(infos) == 1:
            last_offset, max_timestamp, _ = infos[0]
            offset_of_max = last_offset
        else:
            max_timestamp, offset_of_max = -1, -1
            for info in infos:
                if info[1] > max_timestamp:
                    max_timestamp, offset_of_max = info[1], info[0]
            last_offset = infos[-1][0]
        segment = self._segments[-1]
        if segment.should_roll(
            config,
            n,
            len(infos),
            max_timestamp=max_timestamp,
            last_offset=last_offset,
            now_ms=now,
        ):
            segment = self._roll_for(first_offset, last_offset)
        segment.append(view, infos)
        self._leo = last_offset + 1
        self._note_epochs(view, [p[0] for p in parsed])
        self._unflushed_records += records
        if self._unflushed_records >= config.flush_messages:
            self.flush()
        return LogAppendInfo(
            first_offset,
            last_offset,
            max_timestamp,
            offset_of_max,
            now if log_append else -1,
            self.log_start_offset,
            len(parsed),
            records,
            n,
        )

    def _note_epochs(self, view: memoryview, positions: Sequence[int]) -> None:
        """Record new leader epochs (from the batches' partitionLeaderEpoch) in the cache."""
        cache = self.leader_epoch_cache
        for p in positions:
            base, _, epoch = BASE_LENGTH_EPOCH.unpack_from(view, p)
            if epoch >= 0 and epoch != cache.latest_epoch:
                cache.assign(epoch, base)

    def _roll_for(self, first_offset: int, last_offset: int) -> LogSegment:
        seg = self.roll(first_offset)
        if not seg.can_hold(last_offset):
            raise LogSegmentOffsetOverflowError(
                f"offsets {first_offset}..{last_offset} do not fit one segment"
            )
        return seg

    def roll(self, expected_next_offset: int | None = None) -> LogSegment:
        """Start a new active segment at max(expected_next_offset, log end offset).

        The finished segments are flushed (Kafka does it in the background) so the recovery
        point moves past them.
        """
        new_base = max(expected_next_offset or 0, self._leo)
        active = self._segments[-1]
        if active.base_offset == new_base:
            if active.size == 0:
                return active
            raise LogSegmentOffsetOverflowError(f"segment {new_base} exists and is not empty")
        active.on_become_inactive()
        segment = LogSegment.open(
            self.dir,
            new_base,
            index_interval_bytes=self.config.index_interval_bytes,
            max_index_size=self.config.segment_index_bytes,
            created_ms=self.clock.time_ms(),
        )
        self._segments.append(segment)
        self._bases.append(new_base)
        self._segments[-1].roll_jitter_ms = self._new_jitter()
        self.flush(new_base)
        return segment

    # -- read ------------------------------------------------------------------------------

    def _floor_index(self, offset: int) -> int:
        return max(bisect.bisect_right(self._bases, offset) - 1, 0)

    def read(
        self,
        start_offset: int,
        max_bytes: int,
        max_offset: int | None = None,
        min_one_batch: bool = True,
    ) -> FetchData:
        """Batches from the one holding `start_offset`: up to `max_bytes` (the first batch whole
        when `min_one_batch`), from a single segment, ending before the batch holding
        `max_offset` (a consumer's high watermark). Empty at the log end offset.

        Raises OffsetOutOfRangeError below the log start offset or above the log end offset.
        """
        leo = self._leo
        if start_offset == leo:
            return empty_fetch(start_offset)
        if start_offset < self.log_start_offset or start_offset > leo:
            raise OffsetOutOfRangeError(
                f"Received request for offset {start_offset} for partition "
                f"{self.topic_partition}, but we only have log segments in the range "
                f"{self.log_start_offset} to {leo}."
            )
        if max_offset is not None and max_offset <= start_offset:
            return empty_fetch(start_offset)
        i = self._floor_index(start_offset)
        segments = self._segments
        while i < len(segments):
            seg = segments[i]
            max_position: int | None = None
            if max_offset is not None and max_offset < leo:
                if i + 1 < len(segments) and max_offset >= segments[i + 1].base_offset:
                    max_position = None
                else:
                    found = seg.translate_offset(max_offset)
                    max_position = found.position if found is not None else None
            data = seg.read(start_offset, max_bytes, max_position, min_one_batch)
            if data is not None:
                return data
            i += 1
        return empty_fetch(start_offset)

    def fetch_offset_by_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        """ListOffsets: -2 earliest, -1 latest, -3 max timestamp, else the first record with a
        timestamp >= `timestamp` (None when there is none)."""
        return offset_for_timestamp(self, timestamp)

    # -- truncation, log start, deletion ------------------------------------------------------

    def _remove_segments(self, doomed: Sequence[LogSegment]) -> None:
        """Take segments out of the log: rename to .deleted now, remove the files later."""
        if not doomed:
            return
        gone = {id(s) for s in doomed}
        self._segments = [s for s in self._segments if id(s) not in gone]
        self._bases = [s.base_offset for s in self._segments]
        due = self.clock.time_ms() + self.config.file_delete_delay_ms
        for seg in doomed:
            seg.change_suffix(files.DELETED_SUFFIX)
            self._pending_deletes.append((due, seg))
        if self.config.file_delete_delay_ms == 0:
            self.remove_deleted_segments()

    def remove_deleted_segments(self, force: bool = False) -> int:
        """Close and unlink `.deleted` segments whose `file.delete.delay.ms` has passed."""
        now = self.clock.time_ms()
        keep: list[tuple[int, LogSegment]] = []
        removed = 0
        for due, seg in self._pending_deletes:
            if force or due <= now:
                seg.delete_files()
                removed += 1
            else:
                keep.append((due, seg))
        self._pending_deletes = keep
        return removed

    def _new_active(self, base: int) -> None:
        seg = LogSegment.open(
            self.dir,
            base,
            index_interval_bytes=self.config.index_interval_bytes,
            max_index_size=self.config.segment_index_bytes,
            created_ms=self.clock.time_ms(),
        )
        self._segments.append(seg)
        self._bases.append(base)

    def truncate_to(self, offset: int) -> bool:
        """Follower truncation: drop every batch holding offsets at or after `offset`.

        The log end offset becomes the end of the data that is left: `offset` itself when it is
        a batch boundary (the normal case); below it when `offset` falls inside a batch or a
        compaction gap (Kafka would say `offset` there, and forget it on restart). Returns
        False when there was nothing to drop.
        """
        if offset < 0:
            raise ValueError(f"cannot truncate to a negative offset {offset}")
        if offset >= self._leo:
            return False
        if offset < self._segments[0].base_offset:
            self.truncate_fully_and_start_at(offset)
            return True
        self._remove_segments([s for s in self._segments if s.base_offset > offset])
        active = self._segments[-1]
        active.truncate_to(offset)
        active.resize_indexes(self.config.segment_index_bytes)
        self._leo = active.next_offset()
        self.recovery_point = min(self.recovery_point, self._leo)
        self.log_start_offset = min(self.log_start_offset, self._leo)
        self.leader_epoch_cache.truncate_from_end(self._leo)
        return True

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Drop every segment and restart empty at `offset` (follower far behind the leader)."""
        self._remove_segments(list(self._segments))
        self._new_active(offset)
        self._leo = offset
        self.log_start_offset = offset
        self.recovery_point = offset
        self.leader_epoch_cache.clear()

    def delete_records(self, new_start_offset: int) -> int:
        """DeleteRecords: move the log start offset up to `new_start_offset` (never down) and
        delete the segments wholly below it. Returns the new log start offset."""
        if new_start_offset > self._leo or new_start_offset < 0:
            raise OffsetOutOfRangeError(
                f"Cannot increment the log start offset to {new_start_offset} of partition "
                f"{self.topic_partition} since it is larger than the high watermark {self._leo}"
            )
        if new_start_offset > self.log_start_offset:
            self.log_start_offset = new_start_offset
            self.leader_epoch_cache.truncate_from_start(new_start_offset)
            self.delete_old_segments(retention_too=False)
        return self.log_start_offset

    def delete_old_segments(
        self, high_watermark: int | None = None, *, retention_too: bool = True
    ) -> int:
        """Apply retention (retention.py) now; returns the number of segments deleted."""
        infos = [
            retention.SegmentInfo(s.base_offset, s.size, s.largest_timestamp())
            for s in self._segments
        ]
        config = self.config if retention_too else LogConfig(cleanup_policy=())
        decision = retention.segments_to_delete(
            infos,
            config,
            self.clock.time_ms(),
            log_start_offset=self.log_start_offset,
            log_end_offset=self._leo,
            high_watermark=high_watermark,
        )
        if decision.count:
            doomed = self._segments[: decision.count]
            log.info(
                "%s: deleting segments %s (%s)",
                self.dir.name,
                [s.base_offset for s in doomed],
                decision.describe(),
            )
            self._remove_segments(doomed)
            if self._segments[0].base_offset > self.log_start_offset:
                self.log_start_offset = self._segments[0].base_offset
                self.leader_epoch_cache.truncate_from_start(self.log_start_offset)
        return decision.count

    def replace_segments(self, new_segment: LogSegment, old_segments: Sequence[LogSegment]) -> None:
        """Swap a cleaned segment in for `old_segments` crash-safely (Kafka's replaceSegments).

        `new_segment` was written with suffix `.cleaned` and holds the old segments' surviving
        batches with their offsets; its base offset is the first old segment's. Sequence:
        flush it, rename `.cleaned` -> `.swap` (from here a crash completes the swap at load),
        retire the old segments (-> `.deleted`), rename `.swap` -> live names.
        """
        new_segment.flush()
        new_segment.on_become_inactive()
        new_segment.change_suffix(files.SWAP_SUFFIX)
        self._remove_segments(old_segments)
        new_segment.change_suffix("")
        self._segments.append(new_segment)
        self._segments.sort(key=lambda s: s.base_offset)
        self._bases = [s.base_offset for s in self._segments]

    # -- flush, close ------------------------------------------------------------------------

    def flush(self, offset: int | None = None) -> None:
        """fsync the segments holding offsets below `offset` (default: everything) and move the
        recovery point there."""
        target = self._leo if offset is None else min(offset, self._leo)
        if target <= self.recovery_point:
            return
        for i, seg in enumerate(self._segments):
            upper = self._bases[i + 1] if i + 1 < len(self._bases) else self._leo
            if upper > self.recovery_point and seg.base_offset < target:
                seg.flush()
        self.recovery_point = target
        if target == self._leo:
            self._unflushed_records = 0
        self._last_flush_ms = self.clock.time_ms()

    def flush_if_due(self) -> bool:
        """Flush when `flush.ms` has passed since the last flush (the manager's flush pass)."""
        if self.config.flush_ms >= LONG_MAX:
            return False
        if self.clock.time_ms() - self._last_flush_ms >= self.config.flush_ms:
            self.flush()
            return True
        return False

    def close(self) -> None:
        """Clean close: flush everything, finish the index files, close all files."""
        self.flush()
        self.remove_deleted_segments(force=True)
        for seg in self._segments:
            seg.close()

    def close_handles(self) -> None:
        """Close the files without flushing (a failed dir, or a deleted partition)."""
        self.remove_deleted_segments(force=True)
        for seg in self._segments:
            seg.close_handles()

    def directory_moved(self, new_dir: Path) -> None:
        """The partition directory was renamed (deletion): follow it for later removals."""
        self.dir = new_dir
        for seg in self._segments + [s for _, s in self._pending_deletes]:
            seg.directory = new_dir
            seg.log_path = new_dir / seg.log_path.name
            seg.offset_index.path = new_dir / seg.offset_index.path.name
            seg.time_index.path = new_dir / seg.time_index.path.name
        self.leader_epoch_cache = LeaderEpochFileCache(new_dir / files.LEADER_EPOCH_CHECKPOINT)
