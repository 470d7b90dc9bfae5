"""`LogManager`: every partition log of a broker, over one or more log dirs (Kafka's LogManager).

Files per log dir (layout in files.py): partition directories, the recovery-point, log-start and
replication offset checkpoints, `meta.properties`, `.kafka_cleanshutdown` and `.lock`.

Lifecycle:
- `startup()` locks each dir (`.lock`, flock), removes leftover `*-delete` partition dirs, reads the
  checkpoints and opens every partition log; a dir without `.kafka_cleanshutdown` is recovered
  from its recovery points (recovery.py). The marker is then removed so a crash is detected.
- `shutdown()` closes every log (flushing it), writes the checkpoints (recovery point = log end
  offset), then writes the marker and unlocks.

Periodic work is exposed as passes the broker schedules (storage has no timers or threads):
`run_retention_pass()` (`log.retention.check.interval.ms`), `run_cleaner_pass(cleaner)`,
`flush_dirty_logs()` (`log.flush.scheduler.interval.ms`), `checkpoint_recovery_points()` and
`checkpoint_log_start_offsets()` (`log.flush.offset.checkpoint.interval.ms` and
`log.flush.start.offset.checkpoint.interval.ms`), `checkpoint_high_watermarks(hws)`
(`replica.high.watermark.checkpoint.interval.ms`, values from the broker).

Not thread-safe: call it from one thread (the broker's event loop, or an executor it serialises).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from kcli.clock import SYSTEM_CLOCK, Clock
from kcli.storage import files
from kcli.storage.checkpoint import OffsetCheckpointFile, fsync_dir
from kcli.storage.config import LogConfig
from kcli.storage.errors import CorruptCheckpointError, LogDirLockedError
from kcli.storage.files import TopicPartition
from kcli.storage.log import Log

log = logging.getLogger(__name__)


class LogCleanerPass(Protocol):
    """What `run_cleaner_pass` needs from the log cleaner (kcli/storage/cleaner.py).

    `clean_log` compacts one log whose `cleanup.policy` includes compact, deciding itself
    (`min.cleanable.dirty.ratio`, `min.compaction.lag.ms`, ...) whether there is work, and
    swaps results in with `Log.replace_segments`. It returns what it did, for logging.
    """

    def clean_log(self, log: Log, now_ms: int) -> object: ...


class LogManager:
    """All partition logs of one broker (see the module docstring)."""

    def __init__(
        self,
        log_dirs: Sequence[Path | str],
        broker_config: Mapping[str, str] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if not log_dirs:
            raise ValueError("at least one log dir is needed")
        self.log_dirs = [Path(d).absolute() for d in log_dirs]
        self.broker_config = dict(broker_config or {})
        self.clock = clock
        self.default_config = LogConfig.from_properties(self.broker_config)
        self._topic_overrides: dict[str, dict[str, str]] = {}
        self._logs: dict[TopicPartition, Log] = {}
        self._dir_of: dict[TopicPartition, Path] = {}
        self._locks: dict[Path, int] = {}
        self._pending_dir_deletes: list[tuple[int, Log, Path]] = []
        self.had_clean_shutdown: dict[Path, bool] = {}

    # -- configuration ---------------------------------------------------------------------

    def config_for(self, topic: str) -> LogConfig:
        overrides = self._topic_overrides.get(topic)
        if not overrides:
            return self.default_config
        return LogConfig.from_properties(self.broker_config, overrides)

    def set_topic_config(self, topic: str, overrides: Mapping[str, str]) -> None:
        """Replace a topic's overrides (from /config/topics/<t>) and apply them to its logs."""
        config = LogConfig.from_properties(self.broker_config, overrides)  # validates first
        self._topic_overrides[topic] = dict(overrides)
        for tp, lg in self._logs.items():
            if tp.topic == topic:
                lg.update_config(config)

    # -- startup and shutdown ----------------------------------------------------------------

    def _lock(self, log_dir: Path) -> None:
        fd = os.open(log_dir / files.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise LogDirLockedError(
                f"Failed to acquire lock on file .lock in {log_dir}. A Kafka instance in another "
                "process or thread is using this directory."
            ) from None
        self._locks[log_dir] = fd

    def _read_checkpoint(self, path: Path) -> dict[TopicPartition, int]:
        try:
            return OffsetCheckpointFile(path).read()
        except CorruptCheckpointError as exc:
            log.warning("%s; ignoring it (logs are recovered from offset 0)", exc)
            return {}

    def startup(self) -> None:
        """Lock the dirs and load every partition log in them."""
        for log_dir in self.log_dirs:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._lock(log_dir)
            marker = log_dir / files.CLEAN_SHUTDOWN_FILE
            clean = marker.exists()
            self.had_clean_shutdown[log_dir] = clean
            recovery_points = self._read_checkpoint(log_dir / files.RECOVERY_POINT_CHECKPOINT)
            log_starts = self._read_checkpoint(log_dir / files.LOG_START_OFFSET_CHECKPOINT)
            for child in sorted(log_dir.iterdir()):
                if not child.is_dir():
                    continue
                if files.is_delete_dir_name(child.name):
                    shutil.rmtree(child, ignore_errors=True)
                    continue
                tp = files.parse_partition_dir_name(child.name)
                if tp is None:
                    continue
                if tp in self._logs:
                    raise LogDirLockedError(
                        f"Duplicate log directories for {tp} are found in both "
                        f"{self._dir_of[tp]} and {log_dir}."
                    )
                self._logs[tp] = Log.open(
                    child,
                    self.config_for(tp.topic),
                    clock=self.clock,
                    recovery_point=recovery_points.get(tp, 0),
                    log_start_offset=log_starts.get(tp, 0),
                    clean_shutdown=clean,
                    topic_partition=tp,
                )
                self._dir_of[tp] = log_dir
            marker.unlink(missing_ok=True)
            log.info(
                "Loaded %d logs from %s (%s shutdown)",
                sum(1 for d in self._dir_of.values() if d == log_dir),
                log_dir,
                "clean" if clean else "unclean",
            )

    def shutdown(self) -> None:
        """Close every log, write checkpoints and the clean-shutdown marker, unlock."""
        for lg in self._logs.values():
            lg.close()
        self.checkpoint_recovery_points()
        self.checkpoint_log_start_offsets()
        self._remove_pending_dirs(force=True)
        for log_dir, fd in self._locks.items():
            (log_dir / files.CLEAN_SHUTDOWN_FILE).touch()
            fsync_dir(log_dir)
            os.close(fd)
        self._locks.clear()
        self._logs.clear()
        self._dir_of.clear()

    # -- logs ------------------------------------------------------------------------------

    def get_log(self, tp: TopicPartition) -> Log | None:
        return self._logs.get(tp)

    def all_logs(self) -> dict[TopicPartition, Log]:
        return dict(self._logs)

    def log_dir_of(self, tp: TopicPartition) -> Path | None:
        return self._dir_of.get(tp)

    def _next_log_dir(self) -> Path:
        """The dir with the fewest partitions (ties: the first listed), as Kafka picks."""
        counts = dict.fromkeys(self.log_dirs, 0)
        for d in self._dir_of.values():
            counts[d] += 1
        return min(self.log_dirs, key=lambda d: counts[d])

    def get_or_create_log(self, tp: TopicPartition) -> Log:
        """The partition's log, created in the emptiest dir if it does not exist."""
        existing = self._logs.get(tp)
        if existing is not None:
            return existing
        if not self._locks:
            raise RuntimeError("LogManager.startup() has not run")
        log_dir = self._next_log_dir()
        lg = Log.open(
            log_dir / tp.dir_name(), self.config_for(tp.topic), clock=self.clock, topic_partition=tp
        )
        self._logs[tp] = lg
        self._dir_of[tp] = log_dir
        log.info("Created log for partition %s in %s", tp, log_dir)
        return lg

    def delete_log(self, tp: TopicPartition) -> bool:
        """Remove a partition: rename its dir to `<topic>-<p>.<uuid>-delete` now, remove the
        files after `file.delete.delay.ms` (`remove_deleted()`, or at once when it is 0)."""
        lg = self._logs.pop(tp, None)
        log_dir = self._dir_of.pop(tp, None)
        if lg is None or log_dir is None:
            return False
        target = log_dir / files.delete_dir_name(tp)
        os.replace(lg.dir, target)
        fsync_dir(log_dir)
        lg.directory_moved(target)
        due = self.clock.time_ms() + lg.config.file_delete_delay_ms
        self._pending_dir_deletes.append((due, lg, target))
        self._remove_pending_dirs(force=lg.config.file_delete_delay_ms == 0)
        return True

    def _remove_pending_dirs(self, force: bool = False) -> None:
        now = self.clock.time_ms()
        keep: list[tuple[int, Log, Path]] = []
        for due, lg, path in self._pending_dir_deletes:
            if force or due <= now:
                lg.close_handles()
                shutil.rmtree(path, ignore_errors=True)
            else:
                keep.append((due, lg, path))
        self._pending_dir_deletes = keep

    # -- periodic passes ---------------------------------------------------------------------

    def run_retention_pass(
        self, high_watermark: Callable[[TopicPartition], int | None] | None = None
    ) -> int:
        """Apply retention to every log and remove files whose deletion delay has passed.

        `high_watermark(tp)` (from the broker) keeps segments above a partition's high
        watermark; None means the log end offset. Returns the number of segments deleted.
        """
        deleted = 0
        for tp, lg in list(self._logs.items()):
            hw = high_watermark(tp) if high_watermark is not None else None
            deleted += lg.delete_old_segments(hw)
        self.remove_deleted()
        return deleted

    def remove_deleted(self) -> None:
        """Physically remove `.deleted` segments and `-delete` dirs that are due."""
        for lg in self._logs.values():
            lg.remove_deleted_segments()
        self._remove_pending_dirs()

    def run_cleaner_pass(self, cleaner: LogCleanerPass) -> dict[TopicPartition, object]:
        """Offer every compacted log to the cleaner; returns what it reported per partition."""
        now = self.clock.time_ms()
        out: dict[TopicPartition, object] = {}
        for tp, lg in list(self._logs.items()):
            if lg.config.compact:
                out[tp] = cleaner.clean_log(lg, now)
        return out

    def flush_dirty_logs(self) -> int:
        """Flush logs whose `flush.ms` has passed; returns how many were flushed."""
        return sum(1 for lg in self._logs.values() if lg.flush_if_due())

    def _by_dir(self, values: Callable[[Log], int]) -> dict[Path, dict[TopicPartition, int]]:
        out: dict[Path, dict[TopicPartition, int]] = {d: {} for d in self.log_dirs}
        for tp, lg in self._logs.items():
            out[self._dir_of[tp]][tp] = values(lg)
        return out

    def checkpoint_recovery_points(self) -> None:
        for log_dir, offsets in self._by_dir(lambda lg: lg.recovery_point).items():
            OffsetCheckpointFile(log_dir / files.RECOVERY_POINT_CHECKPOINT).write(offsets)

    def checkpoint_log_start_offsets(self) -> None:
        """Kafka writes only logs whose start moved past their first segment; so do we."""
        for log_dir, offsets in self._by_dir(lambda lg: lg.log_start_offset).items():
            moved = {
                tp: off
                for tp, off in offsets.items()
                if off > self._logs[tp].segments[0].base_offset
            }
            OffsetCheckpointFile(log_dir / files.LOG_START_OFFSET_CHECKPOINT).write(moved)

    def checkpoint_high_watermarks(self, high_watermarks: Mapping[TopicPartition, int]) -> None:
        """Write each dir's replication-offset-checkpoint from the broker's high watermarks."""
        per_dir: dict[Path, dict[TopicPartition, int]] = {d: {} for d in self.log_dirs}
        for tp, hw in high_watermarks.items():
            log_dir = self._dir_of.get(tp)
            if log_dir is not None:
                per_dir[log_dir][tp] = hw
        for log_dir, offsets in per_dir.items():
            OffsetCheckpointFile(log_dir / files.REPLICATION_OFFSET_CHECKPOINT).write(offsets)

    def read_high_watermarks(self) -> dict[TopicPartition, int]:
        """The replication-offset-checkpoint entries of every dir (broker start-up)."""
        out: dict[TopicPartition, int] = {}
        for log_dir in self.log_dirs:
            out.update(self._read_checkpoint(log_dir / files.REPLICATION_OFFSET_CHECKPOINT))
        return out

    def partitions(self) -> Iterable[TopicPartition]:
        return list(self._logs)
