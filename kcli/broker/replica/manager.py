"""`ReplicaManager`: the partitions this broker hosts, and the produce/fetch data path over them.

The controller drives it (LeaderAndIsr -> `become_leader_or_follower`, StopReplica ->
`stop_replicas`, topic config changes -> `update_topic_config`); the handlers call
`append_records` (Produce), `fetch_messages` (Fetch) and `partition_or_error` (ListOffsets,
OffsetForLeaderEpoch). Errors come back as exception objects per partition (replica errors,
storage errors, producer-state errors); only the handler layer turns them into codes.

Waiting is event-driven: acks=all produce waits in `produce_purgatory` for the high watermark,
long-poll fetch in `fetch_purgatory` for data; every append or high-watermark move notifies
both for that partition.

Replication: partitions this broker follows are fetched from their leaders by the
`fetcher_manager` (fetcher.py); as leader, followers' fetches move the high watermark and the
ISR (partition.py, isr.py), ISR changes are written through `isr_writer` (ZooKeeper, by
kcli.broker.controller.isr_updates) and `maybe_shrink_isr` runs every
replica.lag.time.max.ms / 2 (log_tasks.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.metadata_cache import PartitionState as LeaderAndIsr
from kcli.broker.replica.errors import (
    InvalidTopic,
    NotEnoughReplicasAfterAppend,
    NotLeaderOrFollower,
    ReplicaError,
    RequestTimedOut,
    UnknownTopicOrPartition,
)
from kcli.broker.replica.fetcher import FetcherConfig, ReplicaFetcherManager
from kcli.broker.replica.partition import DEFAULT_REPLICA_LAG_TIME_MAX_MS, Partition
from kcli.broker.replica.purgatory import DelayedOperationPurgatory
from kcli.broker.replica.state import PartitionState
from kcli.broker.txn.producer_state import ProducerStateError
from kcli.clock import Clock
from kcli.errors import ConfigError
from kcli.protocol.topic import is_internal, topic_name_error
from kcli.storage.errors import StorageError
from kcli.storage.files import TopicPartition
from kcli.storage.log import LogAppendInfo
from kcli.storage.manager import LogManager
from kcli.storage.segment import FetchData

log = logging.getLogger("kafka.server.ReplicaManager")
state_change_log = logging.getLogger("state.change.logger")

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
STALE_CONTROLLER_EPOCH = 11
KAFKA_STORAGE_ERROR = 56


@dataclass(slots=True)
class AppendResult:
    """One partition's produce outcome: `info` on success, else `error`."""

    tp: TopicPartition
    info: LogAppendInfo | None = None
    error: Exception | None = None
    done: bool = False  # acks=all bookkeeping


@dataclass(slots=True)
class FetchPartition:
    tp: TopicPartition
    fetch_offset: int
    max_bytes: int
    current_leader_epoch: int = -1


@dataclass(slots=True)
class FetchResult:
    """One partition's fetch outcome: `data` (possibly empty) on success, else `error`."""

    error: Exception | None = None
    high_watermark: int = -1
    last_stable_offset: int = -1
    log_start_offset: int = -1
    data: FetchData | None = None

    @property
    def size(self) -> int:
        return self.data.size if self.data is not None else 0


class IsrWriter(Protocol):
    """Commits a leader's ISR change (the conditional write of the partition's state znode);
    returns the new zkVersion, None if the znode changed under us; raises if it could not
    try (ZooKeeper unreachable)."""

    async def write_isr(self, topic: str, partition: int, state: LeaderAndIsr) -> int | None: ...


class ReplicaManager:
    def __init__(
        self,
        broker_id: int,
        log_manager: LogManager,
        metadata: MetadataCache,
        clock: Clock,
        *,
        fetcher_config: FetcherConfig | None = None,
        isr_writer: IsrWriter | None = None,
        replica_lag_time_max_ms: int = DEFAULT_REPLICA_LAG_TIME_MAX_MS,
    ) -> None:
        self.broker_id = broker_id
        self.log_manager = log_manager
        self.metadata = metadata
        self.clock = clock
        self.controller_epoch = 0  # KafkaController.InitialControllerEpoch
        self.partitions: dict[TopicPartition, Partition] = {}
        self.produce_purgatory: DelayedOperationPurgatory[TopicPartition] = (
            DelayedOperationPurgatory("Produce", clock)
        )
        self.fetch_purgatory: DelayedOperationPurgatory[TopicPartition] = DelayedOperationPurgatory(
            "Fetch", clock
        )
        self._hw_checkpoint = log_manager.read_high_watermarks()
        self.isr_writer = isr_writer
        self.replica_lag_time_max_ms = replica_lag_time_max_ms
        self.fetcher_manager = (
            ReplicaFetcherManager(broker_id, self.get_partition, metadata, fetcher_config, clock)
            if fetcher_config is not None
            else None
        )
        self._isr_writes: set[asyncio.Task[None]] = set()
        self._leadership_listeners: list[Callable[[TopicPartition, bool], None]] = []

    def add_leadership_listener(self, listener: Callable[[TopicPartition, bool], None]) -> None:
        """`listener(tp, is_leader)` after each LeaderAndIsr state applied here and each
        StopReplica (False): the group coordinator loads/unloads __consumer_offsets partitions."""
        self._leadership_listeners.append(listener)

    def _tell_leadership(self, tp: TopicPartition, is_leader: bool) -> None:
        for listener in self._leadership_listeners:
            listener(tp, is_leader)

    # -- controller requests -------------------------------------------------------------------

    async def become_leader_or_follower(
        self,
        controller_id: int,
        controller_epoch: int,
        states: Sequence[PartitionState],
        topic_configs: Mapping[str, Mapping[str, str]],
    ) -> dict[tuple[str, int], int]:
        """Apply a LeaderAndIsr request; returns an error code per (topic, partition).

        A controller epoch older than the latest seen refuses the whole request
        (STALE_CONTROLLER_EPOCH); a partition whose leader epoch is not newer than ours (and
        whose zk_version is not newer either) is skipped with STALE_CONTROLLER_EPOCH, as Kafka
        does; a partition not assigned to this broker gets UNKNOWN_TOPIC_OR_PARTITION. Leader
        and follower partitions create their log if missing, with `topic_configs[topic]` as
        the topic's overrides of the broker defaults.
        """
        if controller_epoch < self.controller_epoch:
            state_change_log.warning(
                "Ignoring LeaderAndIsr request from controller %d with epoch %d since its "
                "epoch is older than the current controller epoch %d",
                controller_id, controller_epoch, self.controller_epoch,
            )  # fmt: skip
            return {(s.topic, s.partition): STALE_CONTROLLER_EPOCH for s in states}
        self.controller_epoch = controller_epoch
        for topic, overrides in topic_configs.items():
            self.update_topic_config(topic, overrides)
        out: dict[tuple[str, int], int] = {}
        for state in states:
            out[(state.topic, state.partition)] = self._apply_state(controller_id, state)
        if self.fetcher_manager is not None:
            await self.fetcher_manager.shutdown_idle_fetchers()
        return out

    def _apply_state(self, controller_id: int, state: PartitionState) -> int:
        tp = TopicPartition(state.topic, state.partition)
        if self.broker_id not in state.replicas:
            state_change_log.warning(
                "Ignoring LeaderAndIsr request from controller %d for %s: broker %d is not in "
                "its assigned replicas %s", controller_id, tp, self.broker_id,
                list(state.replicas),
            )  # fmt: skip
            return UNKNOWN_TOPIC_OR_PARTITION
        partition = self.partitions.get(tp)
        if (
            partition is not None
            and partition.log is not None
            and not (
                state.leader_epoch > partition.leader_epoch
                or (
                    state.leader_epoch == partition.leader_epoch
                    and state.zk_version > partition.zk_version
                )
            )
        ):
            state_change_log.info(
                "Ignoring LeaderAndIsr request from controller %d for %s since its leader "
                "epoch %d is not higher than the current leader epoch %d",
                controller_id, tp, state.leader_epoch, partition.leader_epoch,
            )  # fmt: skip
            return STALE_CONTROLLER_EPOCH
        try:
            if partition is None:
                partition = Partition(
                    tp,
                    self.broker_id,
                    self.clock,
                    self.notify,
                    on_isr_proposal=self._propose_isr if self.isr_writer is not None else None,
                    replica_lag_time_max_ms=self.replica_lag_time_max_ms,
                )
            if partition.log is None:
                partition.attach_log(
                    self.log_manager.get_or_create_log(tp), self._hw_checkpoint.get(tp)
                )
            self.partitions[tp] = partition
        except (StorageError, OSError) as exc:
            log.error("Error creating the log of %s: %s", tp, exc)
            return KAFKA_STORAGE_ERROR
        fetchers = self.fetcher_manager
        if state.leader == self.broker_id:
            if fetchers is not None:
                fetchers.remove_fetcher_for_partition(tp)
            if partition.make_leader(state):
                state_change_log.info(
                    "Leader %s starts at leader epoch %d from offset %d with high watermark %d",
                    tp, state.leader_epoch, partition.log_end_offset, partition.high_watermark,
                )  # fmt: skip
        else:
            changed = partition.make_follower(state)
            if changed:
                state_change_log.info(
                    "Follower %s starts at leader epoch %d (leader %d) from offset %d",
                    tp, state.leader_epoch, state.leader, partition.log_end_offset,
                )  # fmt: skip
            if fetchers is not None:
                if state.leader < 0:
                    fetchers.remove_fetcher_for_partition(tp)
                elif changed or fetchers.fetch_state(tp) is None:
                    # truncate against the (new) leader, then fetch from it
                    fetchers.add_fetcher_for_partition(
                        tp, state.leader, state.leader_epoch, partition.high_watermark
                    )
        self._tell_leadership(tp, state.leader == self.broker_id)
        return NONE

    async def stop_replicas(
        self, controller_epoch: int, partitions: Sequence[tuple[str, int]], delete: bool
    ) -> dict[tuple[str, int], int]:
        """Apply a StopReplica request: stop hosting the partitions (their waiting requests
        learn they lost the lead); with `delete`, remove their logs too."""
        if controller_epoch < self.controller_epoch:
            return dict.fromkeys(partitions, STALE_CONTROLLER_EPOCH)
        self.controller_epoch = controller_epoch
        out: dict[tuple[str, int], int] = {}
        for topic, index in partitions:
            tp = TopicPartition(topic, index)
            partition = self.partitions.pop(tp, None)
            if self.fetcher_manager is not None:
                self.fetcher_manager.remove_fetcher_for_partition(tp)
            if partition is not None:
                partition.make_offline()
                self._tell_leadership(tp, False)
            if delete:
                try:
                    self.log_manager.delete_log(tp)
                    self._hw_checkpoint.pop(tp, None)
                except (StorageError, OSError) as exc:
                    log.error("Error deleting the log of %s: %s", tp, exc)
                    out[(topic, index)] = KAFKA_STORAGE_ERROR
                    continue
            out[(topic, index)] = NONE
        if self.fetcher_manager is not None:
            await self.fetcher_manager.shutdown_idle_fetchers()
        return out

    def update_topic_config(self, topic: str, overrides: Mapping[str, str]) -> bool:
        """New overrides for a topic (from /config/topics/<t>), applied to its logs at once.
        An invalid value is logged and changes nothing (returns False), as Kafka's config
        handler does: one bad znode must not stop a LeaderAndIsr."""
        try:
            self.log_manager.set_topic_config(topic, overrides)
        except (ConfigError, ValueError) as exc:
            log.error("Invalid config overrides for topic %s, keeping the old ones: %s", topic, exc)
            return False
        return True

    # -- lookups -------------------------------------------------------------------------------

    def get_partition(self, tp: TopicPartition) -> Partition | None:
        return self.partitions.get(tp)

    def partition_or_error(self, tp: TopicPartition) -> Partition:
        """The hosted partition, or the error Kafka gives for it (getPartitionOrException)."""
        partition = self.partitions.get(tp)
        if partition is not None and partition.log is not None:
            return partition
        topic = self.metadata.topics.get(tp.topic)
        if topic is not None and tp.partition in topic.assignment:
            raise NotLeaderOrFollower(f"Broker {self.broker_id} is not a replica of {tp}")
        raise UnknownTopicOrPartition("This server does not host this topic-partition.")

    def notify(self, tp: TopicPartition) -> None:
        """A partition made progress (append, high watermark, leadership): wake its waiters."""
        self.produce_purgatory.check_and_complete(tp)
        self.fetch_purgatory.check_and_complete(tp)

    # -- ISR (leader) ---------------------------------------------------------------------------

    def maybe_shrink_isr(self) -> int:
        """Kafka's isr-expiration task: each led partition drops followers that lagged past
        replica.lag.time.max.ms. Returns how many shrinks were proposed."""
        return sum(1 for p in list(self.partitions.values()) if p.maybe_shrink_isr())

    def _propose_isr(self, partition: Partition, new_isr: tuple[int, ...]) -> None:
        state = LeaderAndIsr(
            self.broker_id,
            partition.leader_epoch,
            new_isr,
            partition.controller_epoch,
            partition.zk_version,
        )
        task = asyncio.get_running_loop().create_task(self._write_isr(partition, state))
        self._isr_writes.add(task)
        task.add_done_callback(self._isr_writes.discard)

    async def _write_isr(self, partition: Partition, state: LeaderAndIsr) -> None:
        assert self.isr_writer is not None
        tp = partition.topic_partition
        try:
            version = await self.isr_writer.write_isr(tp.topic, tp.partition, state)
        except Exception as exc:  # noqa: BLE001 - any ZooKeeper error: the leader retries later
            log.warning("Failed to update the ISR of %s to %s: %r", tp, list(state.isr), exc)
            partition.isr_write_failed(state.leader_epoch, state.isr)
            return
        partition.isr_write_done(state.leader_epoch, state.isr, version)

    def high_watermarks(self) -> dict[TopicPartition, int]:
        return {tp: p.high_watermark for tp, p in self.partitions.items() if p.log is not None}

    def checkpoint_high_watermarks(self) -> None:
        """replication-offset-checkpoint (periodic, and at shutdown)."""
        hws = dict(self._hw_checkpoint)
        hws.update(self.high_watermarks())
        self.log_manager.checkpoint_high_watermarks(hws)

    # -- produce ---------------------------------------------------------------------------------

    def append_to_local_log(
        self,
        tp: TopicPartition,
        records: bytes | bytearray | memoryview,
        required_acks: int,
        internal_topics_allowed: bool = False,
    ) -> AppendResult:
        try:
            if is_internal(tp.topic) and not internal_topics_allowed:
                raise InvalidTopic(f"Cannot append to internal topic {tp.topic}")
            partition = self.partitions.get(tp)
            if partition is None or partition.log is None:  # names of hosted ones are valid
                error = topic_name_error(tp.topic)
                if error is not None:
                    raise InvalidTopic(error)
                partition = self.partition_or_error(tp)
            return AppendResult(tp, partition.append_records_to_leader(records, required_acks))
        except (ReplicaError, StorageError, ProducerStateError, OSError) as exc:
            if isinstance(exc, OSError):
                log.error("Error appending to %s: %s", tp, exc)
            return AppendResult(tp, error=exc)

    async def append_records(
        self,
        timeout_ms: int,
        required_acks: int,
        entries: Sequence[tuple[TopicPartition, bytes | bytearray | memoryview]],
        internal_topics_allowed: bool = False,
    ) -> list[AppendResult]:
        """Append to each leader partition; with acks=-1 wait (up to `timeout_ms`) until the
        high watermark passes each appended batch."""
        results = [
            self.append_to_local_log(tp, records, required_acks, internal_topics_allowed)
            for tp, records in entries
        ]
        if required_acks == -1:
            await self._wait_for_replication(results, timeout_ms)
        return results

    def _replicated(self, results: Sequence[AppendResult]) -> bool:
        """Kafka's Partition.checkEnoughReplicasReachOffset over the waiting partitions."""
        complete = True
        for r in results:
            if r.done:
                continue
            partition = self.partitions.get(r.tp)
            if partition is None or not partition.is_leader or partition.log is None:
                r.error, r.done = NotLeaderOrFollower(f"Leader of {r.tp} moved"), True
                continue
            assert r.info is not None
            if partition.high_watermark > r.info.last_offset:
                min_isr = partition.log.config.min_insync_replicas
                if len(partition.isr) < min_isr:
                    r.error = NotEnoughReplicasAfterAppend(
                        f"The number of insync replicas {len(partition.isr)} for {r.tp} is "
                        f"below the required minimum {min_isr}"
                    )
                r.done = True
            else:
                complete = False
        return complete

    async def _wait_for_replication(self, results: list[AppendResult], timeout_ms: int) -> None:
        waiting = [r for r in results if r.error is None]
        if not waiting:
            return
        keys = [r.tp for r in waiting]
        if not await self.produce_purgatory.wait(
            keys, lambda: self._replicated(waiting), timeout_ms
        ):
            for r in waiting:
                if not r.done:
                    r.error = RequestTimedOut(f"acks=all not satisfied for {r.tp} in time")
                    r.done = True

    # -- fetch -----------------------------------------------------------------------------------

    def read_from_local_log(
        self, replica_id: int, max_bytes: int, partitions: Sequence[FetchPartition]
    ) -> list[FetchResult]:
        """One pass over the partitions: at most `max_bytes` in total and each partition's
        own limit, but the first partition with data gets at least one whole batch (KIP-74)."""
        remaining = max_bytes
        min_one = True
        out: list[FetchResult] = []
        for fp in partitions:
            try:
                partition = self.partition_or_error(fp.tp)
                data = partition.read(
                    fp.fetch_offset,
                    max(min(fp.max_bytes, remaining), 0),
                    replica_id=replica_id,
                    current_leader_epoch=fp.current_leader_epoch,
                    min_one_batch=min_one,
                )
            except (ReplicaError, StorageError, OSError) as exc:
                out.append(FetchResult(error=exc))
                continue
            if data.size:
                min_one = False
                remaining -= data.size
            hw = partition.high_watermark
            out.append(FetchResult(None, hw, hw, partition.log_start_offset, data))
        return out

    def _fetchable_bytes(
        self, replica_id: int, min_bytes: int, partitions: Sequence[FetchPartition]
    ) -> bool:
        """Kafka's DelayedFetch.tryComplete: enough new data, or something changed that
        the response must report (leadership, a fetch offset past the end)."""
        accumulated = 0
        for fp in partitions:
            partition = self.partitions.get(fp.tp)
            if partition is None or partition.log is None or not partition.is_leader:
                return True
            if fp.current_leader_epoch >= 0 and fp.current_leader_epoch != partition.leader_epoch:
                return True
            end = partition.log_end_offset if replica_id >= 0 else partition.high_watermark
            if fp.fetch_offset > partition.log_end_offset:
                return True  # the log was truncated under the fetcher
            if fp.fetch_offset < end:
                if min_bytes <= 1:
                    return True
                try:
                    accumulated += partition.log.read(fp.fetch_offset, fp.max_bytes, end, True).size
                except StorageError:
                    return True
                if accumulated >= min_bytes:
                    return True
        return False

    async def fetch_messages(
        self,
        replica_id: int,
        max_wait_ms: int,
        min_bytes: int,
        max_bytes: int,
        partitions: Sequence[FetchPartition],
    ) -> list[FetchResult]:
        """Read now, or long-poll up to `max_wait_ms` until `min_bytes` are available."""
        results = self.read_from_local_log(replica_id, max_bytes, partitions)
        if (
            max_wait_ms <= 0
            or not partitions
            or sum(r.size for r in results) >= min_bytes
            or any(r.error is not None for r in results)
        ):
            return results
        await self.fetch_purgatory.wait(
            [fp.tp for fp in partitions],
            lambda: self._fetchable_bytes(replica_id, min_bytes, partitions),
            max_wait_ms,
        )
        return self.read_from_local_log(replica_id, max_bytes, partitions)

    # -- lifecycle -----------------------------------------------------------------------------

    async def stop_replication(self) -> None:
        """Stop the follower fetchers and wait for ISR writes in flight (before shutdown)."""
        if self.fetcher_manager is not None:
            await self.fetcher_manager.shutdown()
        if self._isr_writes:
            await asyncio.wait(list(self._isr_writes), timeout=5)

    def shutdown(self) -> None:
        """Answer every waiting request, then write the high watermarks."""
        self.produce_purgatory.complete_all()
        self.fetch_purgatory.complete_all()
        self.checkpoint_high_watermarks()
