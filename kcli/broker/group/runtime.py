"""The group coordinator's async shell (Kafka's GroupCoordinator + GroupMetadataManager I/O).

- Runs each pure operation, appends its records to the group's __consumer_offsets partition
  through the ReplicaManager with acks=all, and only then answers (the caller and any requests
  the operation completed); a failed append turns those answers into the mapped error.
- Keeps one loop timer at the coordinator's next deadline (joins, sessions) and a periodic
  offsets-retention pass every offsets.retention.check.interval.ms.
- Listens for leadership of __consumer_offsets partitions: becoming leader loads (replays) the
  partition's records; losing it unloads the partition's groups. While a partition loads, its
  groups answer COORDINATOR_LOAD_IN_PROGRESS; partitions led elsewhere, NOT_COORDINATOR.
- FindCoordinator's side: creates __consumer_offsets when it does not exist yet.

Everything runs on the broker's event loop; the pure coordinator is only touched from it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kcli.broker.admin_manager import AdminError, AdminManager
from kcli.broker.config import BrokerConfig
from kcli.broker.group.coordinator import GroupCoordinator
from kcli.broker.group.member import Token
from kcli.broker.group.requests import GroupConfig
from kcli.broker.group.results import CoordinatorResult, PartitionErrors
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.errors import (
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    NotLeaderOrFollower,
    RequestTimedOut,
    UnknownTopicOrPartition,
)
from kcli.clock import Clock
from kcli.protocol import records as recordsmod
from kcli.protocol.batch import iter_headers
from kcli.protocol.errors import ErrorCode
from kcli.protocol.offsets_schema import SchemaError
from kcli.storage.errors import RecordBatchTooLargeError, RecordTooLargeError, StorageError
from kcli.storage.files import TopicPartition

if TYPE_CHECKING:
    from kcli.broker.replica.manager import ReplicaManager

log = logging.getLogger("kafka.coordinator.group.GroupCoordinator")

OFFSETS_TOPIC = "__consumer_offsets"
LOAD_CHUNK_BYTES = 5 * 1024 * 1024  # offsets.load.buffer.size


def group_config(config: BrokerConfig) -> GroupConfig:
    return GroupConfig(
        num_partitions=config.get_int("offsets.topic.num.partitions"),
        min_session_timeout_ms=config.get_int("group.min.session.timeout.ms"),
        max_session_timeout_ms=config.get_int("group.max.session.timeout.ms"),
        initial_rebalance_delay_ms=config.get_int("group.initial.rebalance.delay.ms"),
        max_size=config.get_int("group.max.size"),
        offsets_retention_ms=config.get_int("offsets.retention.minutes") * 60_000,
        max_metadata_size=_int_or(config, "offset.metadata.max.bytes", 4096),
    )


def _int_or(config: BrokerConfig, name: str, default: int) -> int:
    """A key kcli's config table may not list yet: Kafka's default then."""
    value = config.values.get(name)
    return value if isinstance(value, int) else default


def append_error(exc: Exception) -> ErrorCode:
    """Kafka's mapping of a failed __consumer_offsets append to the group's answer
    (GroupMetadataManager.storeOffsets / storeGroup)."""
    if isinstance(exc, (NotLeaderOrFollower, OSError, StorageError)) and not isinstance(
        exc, (RecordTooLargeError, RecordBatchTooLargeError)
    ):
        return ErrorCode.not_coordinator
    if isinstance(exc, (UnknownTopicOrPartition, NotEnoughReplicas, NotEnoughReplicasAfterAppend)):
        return ErrorCode.coordinator_not_available
    if isinstance(exc, (RecordTooLargeError, RecordBatchTooLargeError)):
        return ErrorCode.invalid_commit_offset_size
    if isinstance(exc, RequestTimedOut):
        return ErrorCode.request_timed_out
    return ErrorCode.unknown_server_error


def _answer_with(response: Any, failure: ErrorCode) -> Any:
    """A response carrying the append's failure; the size code is for offset commits only."""
    if failure == ErrorCode.invalid_commit_offset_size and not isinstance(
        response, PartitionErrors
    ):
        failure = ErrorCode.unknown_server_error
    return response.with_error(failure)


class GroupCoordinatorRuntime:
    def __init__(
        self,
        config: BrokerConfig,
        replica_manager: ReplicaManager,
        metadata: MetadataCache,
        admin: AdminManager | None,
        clock: Clock,
    ) -> None:
        self.config = config
        self.replica_manager = replica_manager
        self.metadata = metadata
        self.admin = admin
        self.clock = clock
        self.coordinator = GroupCoordinator(group_config(config))
        self.loaded: set[int] = set()
        self.loading: set[int] = set()
        self._load_epoch: dict[int, int] = {}
        self._tokens = itertools.count(1)
        self._waiters: dict[Token, asyncio.Future[Any]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._expiry: asyncio.Task[None] | None = None
        self._creating = False
        self._commit_timeout_ms = config.get_int("offsets.commit.timeout.ms")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.replica_manager.add_leadership_listener(self.on_leadership_change)
        for tp, partition in list(self.replica_manager.partitions.items()):
            if tp.topic == OFFSETS_TOPIC and partition.is_leader:
                self.on_leadership_change(tp, True)
        self._expiry = asyncio.get_running_loop().create_task(self._expire_periodically())

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        tasks = [t for t in (self._expiry, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for fut in self._waiters.values():
            if not fut.done():
                fut.cancel()
        self._waiters.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- ownership ---------------------------------------------------------------------------

    def partition_for(self, group_id: str) -> int:
        return self.coordinator.partition_for(group_id)

    def ownership_error(self, group_id: str) -> ErrorCode:
        """NONE when this broker coordinates the group now."""
        if not group_id:
            return ErrorCode.invalid_group_id
        partition = self.partition_for(group_id)
        if partition in self.loading:
            return ErrorCode.coordinator_load_in_progress
        if partition in self.loaded:
            return ErrorCode.none
        return ErrorCode.not_coordinator

    # -- running operations ------------------------------------------------------------------

    def now(self) -> int:
        return self.clock.time_ms()

    async def run(self, op: Callable[[Token, int], CoordinatorResult]) -> Any:
        """Apply `op(token, now)`; answer after its records are committed. A parked request
        resolves when a later result replies to its token."""
        token = next(self._tokens)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[token] = future
        try:
            result = op(token, self.now())
            response = await self._complete(result)
            if response is not None:
                return response
            return await future
        finally:
            self._waiters.pop(token, None)

    async def _complete(self, result: CoordinatorResult) -> Any:
        self._reschedule()
        failure: ErrorCode | None = None
        if result.records:
            failure = await self._append(result)
        if result.commits:
            self.coordinator.complete_commits(result.commits, failure is None)
        response = result.response
        if failure is not None and response is not None:
            response = _answer_with(response, failure)
        for token, reply in result.replies:
            future = self._waiters.get(token)
            if future is not None and not future.done():
                future.set_result(reply if failure is None else _answer_with(reply, failure))
        return response

    async def _append(self, result: CoordinatorResult) -> ErrorCode | None:
        now = self.now()
        by_partition: dict[int, list[recordsmod.Record]] = {}
        for r in result.records:
            by_partition.setdefault(r.partition, []).append(recordsmod.Record(r.key, r.value, now))
        entries = [
            (TopicPartition(OFFSETS_TOPIC, p), recordsmod.build_batch(recs))
            for p, recs in by_partition.items()
        ]
        try:
            outcomes = await self.replica_manager.append_records(
                self._commit_timeout_ms, -1, entries, internal_topics_allowed=True
            )
        except (StorageError, OSError) as exc:
            log.error("Appending group records failed: %s", exc)
            return append_error(exc)
        for outcome in outcomes:
            if outcome.error is not None:
                log.warning("Appending group records to %s failed: %s", outcome.tp, outcome.error)
                return append_error(outcome.error)
        return None

    # -- timers ------------------------------------------------------------------------------

    def _reschedule(self) -> None:
        deadline = self.coordinator.next_deadline()
        if deadline == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, (deadline - self.now()) / 1000)
        self._timer = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = None
        result = self.coordinator.poll(self.now())
        self._spawn(self._complete(result))

    async def _expire_periodically(self) -> None:
        interval = self.config.get_int("offsets.retention.check.interval.ms") / 1000
        while True:
            await asyncio.sleep(interval)
            result = self.coordinator.expire_offsets(self.now())
            if result.records:
                log.info("Removed %d expired offsets and groups", len(result.records))
            await self._complete(result)

    # -- leadership of __consumer_offsets partitions -----------------------------------------

    def _adopt_partition_count(self) -> None:
        """Kafka maps groups over the offsets topic's actual partition count once it exists
        (offsets.topic.num.partitions only sizes its creation); adopted while no group is held."""
        topic = self.metadata.topics.get(OFFSETS_TOPIC)
        count = len(topic.assignment) if topic is not None else 0
        config = self.coordinator.config
        idle = not (self.coordinator.groups or self.loaded or self.loading)
        if count and count != config.num_partitions and idle:
            self.coordinator.config = replace(config, num_partitions=count)

    def on_leadership_change(self, tp: TopicPartition, is_leader: bool) -> None:
        if tp.topic != OFFSETS_TOPIC:
            return
        self._adopt_partition_count()
        p = tp.partition
        if is_leader:
            if p in self.loaded or p in self.loading:
                return
            self.loading.add(p)
            self._load_epoch[p] = self._load_epoch.get(p, 0) + 1
            self._spawn(self._load(p, self._load_epoch[p]))
        elif p in self.loaded or p in self.loading:
            self.loaded.discard(p)
            self.loading.discard(p)
            self._load_epoch[p] = self._load_epoch.get(p, 0) + 1
            result = self.coordinator.unload_partition(p, self.now())
            log.info("Unloaded groups of %s", tp)
            self._spawn(self._complete(result))

    async def _load(self, p: int, epoch: int) -> None:
        tp = TopicPartition(OFFSETS_TOPIC, p)
        started = self.clock.monotonic()
        count = 0
        partition = self.replica_manager.get_partition(tp)
        plog = partition.log if partition is not None else None
        if plog is not None:
            offset = plog.log_start_offset
            while offset < plog.log_end_offset:
                try:
                    data = plog.read(offset, LOAD_CHUNK_BYTES, None, True).to_bytes()
                except (StorageError, OSError) as exc:
                    log.error("Error loading %s at offset %d: %s", tp, offset, exc)
                    break
                if not data:
                    break
                count += self._replay_chunk(data)
                offset = self._next_offset(data, offset)
                await asyncio.sleep(0)  # let other requests run between chunks
                if self._load_epoch.get(p) != epoch:
                    return  # unloaded (or reloaded) meanwhile
        if self._load_epoch.get(p) != epoch:
            return
        self.loading.discard(p)
        self.loaded.add(p)
        self._reschedule()
        log.info(
            "Finished loading offsets and group metadata from %s in %d milliseconds (%d records)",
            tp, int((self.clock.monotonic() - started) * 1000), count,
        )  # fmt: skip

    def _replay_chunk(self, data: bytes) -> int:
        count = 0
        now = self.now()
        for pos, header in iter_headers(data, validate=False):
            if pos + header.size > len(data) or header.is_control:
                continue
            try:
                _, recs = recordsmod.read_batch(data, pos, verify=False)
            except ValueError as exc:
                log.warning("Skipping an unreadable batch while loading: %s", exc)
                continue
            for rec in recs:
                if rec.key is None:
                    continue
                try:
                    self.coordinator.replay(rec.key, rec.value, now)
                    count += 1
                except SchemaError as exc:
                    log.warning("Skipping an unreadable __consumer_offsets record: %s", exc)
        return count

    @staticmethod
    def _next_offset(data: bytes, offset: int) -> int:
        last = offset
        for _, header in iter_headers(data, validate=False):
            last = max(last, header.base_offset + header.last_offset_delta + 1)
        return last if last > offset else offset + 1

    # -- the offsets topic -------------------------------------------------------------------

    def coordinator_for(self, group_id: str) -> tuple[ErrorCode, int]:
        """(error, leader broker id) of the group's partition; creates the offsets topic
        in the background the first time it is asked for."""
        self._adopt_partition_count()
        topic = self.metadata.topics.get(OFFSETS_TOPIC)
        if topic is None:
            if not self._creating:
                self._creating = True
                self._spawn(self._create_offsets_topic())
            return ErrorCode.coordinator_not_available, -1
        state = topic.states.get(self.partition_for(group_id))
        if state is None or state.leader not in self.metadata.brokers:
            return ErrorCode.coordinator_not_available, -1
        return ErrorCode.none, state.leader

    async def _create_offsets_topic(self) -> None:
        try:
            if self.admin is None:
                return
            rf = self.config.get_int("offsets.topic.replication.factor")
            alive = len(self.metadata.brokers)
            if alive < rf:
                log.info(
                    "Number of alive brokers '%d' does not meet the required replication factor "
                    "'%d' for the offsets topic (configured via 'offsets.topic.replication.factor')"
                    ". This error can be ignored if the cluster is starting up and not all brokers "
                    "are up yet.", alive, rf,
                )  # fmt: skip
                return
            new = await self.admin.prepare_topic(
                OFFSETS_TOPIC,
                self.config.get_int("offsets.topic.num.partitions"),
                rf,
                None,
                {
                    "cleanup.policy": "compact",
                    "compression.type": "producer",
                    "segment.bytes": str(self.config.get_int("offsets.topic.segment.bytes")),
                },
            )
            await self.admin.create_topic(new)
            log.info("Created the internal topic %s", OFFSETS_TOPIC)
        except AdminError as exc:
            if exc.code != ErrorCode.topic_already_exists:
                log.warning("Could not create %s: %s", OFFSETS_TOPIC, exc)
        except Exception as exc:  # noqa: BLE001 - ZooKeeper trouble: the next request retries
            log.warning("Could not create %s: %s", OFFSETS_TOPIC, exc)
        finally:
            self._creating = False
