"""The broker's periodic storage work (Kafka's KafkaScheduler jobs of LogManager and
ReplicaManager), as asyncio tasks over the synchronous storage passes:

    kafka-log-retention               log.retention.check.interval.ms      retention, then producer
                                                                           state of deleted data
    kafka-log-flusher                 log.flush.scheduler.interval.ms      flush.ms per log
    kafka-recovery-point-checkpoint   log.flush.offset.checkpoint.interval.ms
    kafka-log-start-offset-checkpoint log.flush.start.offset.checkpoint.interval.ms
    highwatermark-checkpoint          replica.high.watermark.checkpoint.interval.ms
    isr-expiration                    replica.lag.time.max.ms / 2   ISR shrink of lagging followers
    kafka-log-cleaner                 log.cleaner.backoff.ms (when log.cleaner.enable)

A pass that raises is logged and the schedule goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from kcli.broker.config import BrokerConfig
from kcli.broker.replica.manager import ReplicaManager
from kcli.clock import Clock
from kcli.storage.cleaner import LogCleaner
from kcli.storage.files import TopicPartition
from kcli.storage.log import Log

log = logging.getLogger("kafka.utils.KafkaScheduler")

NEVER = 2**62  # intervals at or above this are "off" (Kafka's Long.MaxValue defaults)


def storage_properties(config: BrokerConfig) -> dict[str, str]:
    """server.properties values as the strings LogManager/LogConfig read."""
    out: dict[str, str] = {}
    for name, value in config.values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[name] = ",".join(str(v) for v in value)
        else:
            out[name] = str(value)
    return out


class LogTasks:
    def __init__(self, config: BrokerConfig, replica_manager: ReplicaManager, clock: Clock):
        self.config = config
        self.replica_manager = replica_manager
        self.log_manager = replica_manager.log_manager
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        hw = replica_manager.partitions

        def upper_bound(lg: Log) -> int | None:
            p = hw.get(lg.topic_partition) if lg.topic_partition is not None else None
            return p.high_watermark if p is not None else None

        self.cleaner = LogCleaner(clock, upper_bound=upper_bound)

    def jobs(self) -> Mapping[str, tuple[int, Callable[[], object]]]:
        c = self.config
        jobs: dict[str, tuple[int, Callable[[], object]]] = {
            "kafka-log-retention": (c.get_int("log.retention.check.interval.ms"), self.retention),
            "kafka-log-flusher": (
                c.get_int("log.flush.scheduler.interval.ms"),
                self.log_manager.flush_dirty_logs,
            ),
            "kafka-recovery-point-checkpoint": (
                c.get_int("log.flush.offset.checkpoint.interval.ms"),
                self.log_manager.checkpoint_recovery_points,
            ),
            "kafka-log-start-offset-checkpoint": (
                c.get_int("log.flush.start.offset.checkpoint.interval.ms"),
                self.log_manager.checkpoint_log_start_offsets,
            ),
            "highwatermark-checkpoint": (
                c.get_int("replica.high.watermark.checkpoint.interval.ms"),
                self.replica_manager.checkpoint_high_watermarks,
            ),
            "isr-expiration": (
                max(c.get_int("replica.lag.time.max.ms") // 2, 1),
                self.replica_manager.maybe_shrink_isr,
            ),
        }
        if c.get_bool("log.cleaner.enable"):
            jobs["kafka-log-cleaner"] = (
                c.get_int("log.cleaner.backoff.ms"),
                lambda: self.log_manager.run_cleaner_pass(self.cleaner),
            )
        return jobs

    def retention(self) -> int:
        """Retention pass (segments above a partition's high watermark are kept), then forget
        producers whose batches are all gone or idle past producer.id.expiration.ms."""
        partitions = self.replica_manager.partitions

        def high_watermark(tp: TopicPartition) -> int | None:
            p = partitions.get(tp)
            return p.high_watermark if p is not None else None

        deleted = self.log_manager.run_retention_pass(high_watermark)
        now = self.clock.time_ms()
        expiration = self.config.get_int("producer.id.expiration.ms")
        for p in partitions.values():
            p.producer_state.truncate_head(p.log_start_offset)
            p.producer_state.remove_expired(now, expiration)
        return deleted

    def start(self) -> None:
        for name, (interval_ms, job) in self.jobs().items():
            if 0 < interval_ms < NEVER:
                self._tasks.append(asyncio.create_task(self._every(name, interval_ms, job)))

    async def _every(self, name: str, interval_ms: int, job: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(interval_ms / 1000)
            try:
                job()
            except Exception:
                log.exception("Uncaught exception in scheduled task '%s'", name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
