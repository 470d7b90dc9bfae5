"""Follower fetchers (Kafka's ReplicaFetcherManager and ReplicaFetcherThread), as asyncio tasks.

One fetcher per source broker (num.replica.fetchers = 1) serves every partition this broker
follows from that leader. Each partition starts in "truncating": the fetcher asks the leader
(OffsetForLeaderEpoch v4, replica_id = own id) where the follower's latest epoch ends there and
cuts its log to the largest common epoch (truncation.py); a log without epochs, or a leader
that cannot answer, is cut to the high watermark. Then it fetches (Fetch v12, replica_id = own
id, stateless: session epoch -1; body encoded by fetch_request.py) from its log end offset: the
leader long-polls up to replica.fetch.wait.max.ms and answers as soon as new data is
appended, so a follower is one round trip behind the leader. Batches are appended with their
offsets kept; the follower's high watermark = min(leader's, own log end offset).

A partition whose fetch fails (leadership moved, fenced epoch, a bad append) waits
replica.fetch.backoff.ms; a failed connection delays the whole fetcher as long. The
controller's next LeaderAndIsr re-adds partitions with their new leader and epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import kio.schema.fetch.v12.request as fetch_req
import kio.schema.fetch.v12.response as fetch_resp
import kio.schema.list_offsets.v4.request as lo_req
import kio.schema.list_offsets.v4.response as lo_resp
import kio.schema.offset_for_leader_epoch.v4.request as ofle_req
import kio.schema.offset_for_leader_epoch.v4.response as ofle_resp

from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.broker_client import BrokerConnection
from kcli.broker.replica.fetch_request import FetchPartitionRequest, encode_fetch_request
from kcli.broker.replica.partition import Partition
from kcli.broker.replica.truncation import offset_truncation_state
from kcli.clock import Clock
from kcli.protocol.errors import ErrorCode, KafkaProtocolError
from kcli.storage.errors import StorageError
from kcli.storage.files import TopicPartition

log = logging.getLogger("kafka.server.ReplicaFetcherThread")

LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2


@dataclass(frozen=True, slots=True)
class FetcherConfig:
    """The replica.* settings a fetcher honours (Kafka's names and defaults)."""

    max_wait_ms: int = 500  # replica.fetch.wait.max.ms
    min_bytes: int = 1  # replica.fetch.min.bytes
    partition_max_bytes: int = 1048576  # replica.fetch.max.bytes
    response_max_bytes: int = 10485760  # replica.fetch.response.max.bytes
    backoff_ms: int = 1000  # replica.fetch.backoff.ms
    socket_timeout_ms: int = 30000  # replica.socket.timeout.ms
    listener_name: str = "PLAINTEXT"  # inter.broker.listener.name


@dataclass(slots=True)
class PartitionFetchState:
    leader_epoch: int
    fetch_offset: int  # before truncation: the high watermark (Kafka's initial fetch offset)
    truncating: bool = True
    delayed_until: float = 0.0  # clock.monotonic()

    def ready(self, now: float) -> bool:
        return now >= self.delayed_until


@dataclass(slots=True)
class _Request:
    """One request's partitions, with the states they were sent for (a LeaderAndIsr may
    replace a state while the request is out; its answer is then ignored)."""

    states: dict[TopicPartition, PartitionFetchState] = field(default_factory=dict)


class ReplicaFetcherThread:
    def __init__(
        self,
        broker_id: int,
        leader_id: int,
        get_partition: Callable[[TopicPartition], Partition | None],
        *,
        metadata: MetadataCache,
        config: FetcherConfig,
        clock: Clock,
    ) -> None:
        self.broker_id = broker_id
        self.leader_id = leader_id
        self.get_partition = get_partition
        self.metadata = metadata
        self.config = config
        self.clock = clock
        self.name = f"ReplicaFetcherThread-0-{leader_id}"
        self.partitions: dict[TopicPartition, PartitionFetchState] = {}
        self._changed = asyncio.Event()
        self._conn: BrokerConnection | None = None
        self._task: asyncio.Task[None] | None = None

    # -- partitions --------------------------------------------------------------------------

    def add_partition(self, tp: TopicPartition, state: PartitionFetchState) -> None:
        self.partitions[tp] = state
        self._changed.set()

    def remove_partition(self, tp: TopicPartition) -> None:
        self.partitions.pop(tp, None)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _delay(self, states: Iterable[PartitionFetchState]) -> None:
        until = self.clock.monotonic() + self.config.backoff_ms / 1000
        for s in states:
            s.delayed_until = until

    def _current(self, tp: TopicPartition, state: PartitionFetchState) -> Partition | None:
        """The partition, if the answer for `state` still applies to it."""
        if self.partitions.get(tp) is not state:
            return None
        partition = self.get_partition(tp)
        if (
            partition is None
            or partition.log is None
            or partition.leader_id != self.leader_id
            or partition.leader_epoch != state.leader_epoch
        ):
            return None
        return partition

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        log.info("[%s]: Starting", self.name)
        while True:
            now = self.clock.monotonic()
            ready = {tp: s for tp, s in self.partitions.items() if s.ready(now)}
            if not ready:
                await self._idle(now)
                continue
            truncating = {tp: s for tp, s in ready.items() if s.truncating}
            try:
                if truncating:
                    await self._truncate(truncating)
                else:
                    await self._fetch(ready)
            except (OSError, TimeoutError, EOFError, LookupError, KafkaProtocolError) as exc:
                if self.partitions:
                    log.warning("[%s]: Error in fetch from broker %d: %r", self.name,
                                self.leader_id, exc)  # fmt: skip
                self._delay(self.partitions.values())
            except Exception:  # one bad partition must not end replication (logged in full)
                log.exception("[%s]: Unexpected error in fetch from broker %d", self.name,
                              self.leader_id)  # fmt: skip
                self._delay(ready.values())

    async def _idle(self, now: float) -> None:
        """Wait for a partition to be added or a delay to end."""
        self._changed.clear()
        waits = [s.delayed_until - now for s in self.partitions.values()]
        timeout = max(min(waits), 0.001) if waits else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _connection(self) -> BrokerConnection:
        if self._conn is None:
            info = self.metadata.brokers.get(self.leader_id)
            endpoint = info.endpoint(self.config.listener_name) if info is not None else None
            if endpoint is None:
                raise LookupError(f"no {self.config.listener_name} endpoint for broker "
                                  f"{self.leader_id}")  # fmt: skip
            self._conn = BrokerConnection(
                endpoint.host,
                endpoint.port,
                f"broker-{self.broker_id}-fetcher-0",
                self.config.socket_timeout_ms,
            )
        return self._conn

    async def _send(self, request: Any, response_cls: type[Any], body: bytes | None = None) -> Any:
        conn = self._connection()
        try:
            timeout_s = self.config.socket_timeout_ms / 1000
            return await conn.request(request, response_cls, timeout_s, body)
        except BaseException:
            self._conn = None  # re-resolve the endpoint: the leader may have restarted
            raise

    # -- truncation --------------------------------------------------------------------------

    async def _truncate(self, states: dict[TopicPartition, PartitionFetchState]) -> None:
        asked: dict[TopicPartition, tuple[PartitionFetchState, int]] = {}
        for tp, state in states.items():
            partition = self._current(tp, state)
            if partition is None:
                continue
            assert partition.log is not None
            latest = partition.log.latest_epoch
            if latest is None:  # no epochs kept: Kafka truncates to the high watermark
                self._truncated(tp, state, partition, state.fetch_offset, done=True)
            else:
                asked[tp] = (state, latest)
        if not asked:
            return
        by_topic: dict[str, list[ofle_req.OffsetForLeaderPartition]] = {}
        for tp, (state, latest) in asked.items():
            by_topic.setdefault(tp.topic, []).append(
                ofle_req.OffsetForLeaderPartition(
                    partition=tp.partition,  # type: ignore[arg-type]
                    current_leader_epoch=state.leader_epoch,  # type: ignore[arg-type]
                    leader_epoch=latest,  # type: ignore[arg-type]
                )
            )
        request = ofle_req.OffsetForLeaderEpochRequest(
            replica_id=self.broker_id,  # type: ignore[arg-type]
            topics=tuple(
                ofle_req.OffsetForLeaderTopic(topic=t, partitions=tuple(ps))  # type: ignore[arg-type]
                for t, ps in by_topic.items()
            ),
        )
        response = await self._send(request, ofle_resp.OffsetForLeaderEpochResponse)
        for topic in response.topics:
            for p in topic.partitions:
                tp = TopicPartition(str(topic.topic), int(p.partition))
                entry = asked.get(tp)
                if entry is None:
                    continue
                state = entry[0]
                partition = self._current(tp, state)
                if partition is None:
                    continue
                code = ErrorCode(p.error_code)
                if code == ErrorCode.unsupported_version:  # leader cannot say: use the HW
                    self._truncated(tp, state, partition, state.fetch_offset, done=True)
                elif code != ErrorCode.none:
                    log.info("[%s]: Retrying leaderEpoch request for partition %s as the "
                             "leader reported an error: %s", self.name, tp, code.name)  # fmt: skip
                    self._delay([state])
                else:
                    assert partition.log is not None
                    lg = partition.log
                    decision = offset_truncation_state(
                        int(p.leader_epoch),
                        int(p.end_offset),
                        state.fetch_offset,
                        lg.log_end_offset,
                        lg.end_offset_for_epoch,
                    )
                    self._truncated(tp, state, partition, decision.offset, decision.completed)

    def _truncated(
        self,
        tp: TopicPartition,
        state: PartitionFetchState,
        partition: Partition,
        offset: int,
        done: bool,
    ) -> None:
        before = partition.log_end_offset
        try:
            if offset < before:
                partition.truncate_to(offset)
        except (StorageError, OSError) as exc:
            log.error("[%s]: Truncation of %s to %d failed: %s", self.name, tp, offset, exc)
            self._delay([state])
            return
        after = partition.log_end_offset
        if after != before:
            log.info("[%s]: Truncating partition %s with TruncationState(offset=%d, "
                     "completed=%s) due to leader epoch and offset EpochEndOffset",
                     self.name, tp, offset, done)  # fmt: skip
        if done:
            state.truncating = False
            state.fetch_offset = after

    # -- fetch -------------------------------------------------------------------------------

    async def _fetch(self, states: dict[TopicPartition, PartitionFetchState]) -> None:
        sent = _Request()
        by_topic: dict[str, list[FetchPartitionRequest]] = {}
        for tp, state in states.items():
            partition = self._current(tp, state)
            if partition is None:
                continue
            sent.states[tp] = state
            by_topic.setdefault(tp.topic, []).append(
                FetchPartitionRequest(
                    tp.partition,
                    state.leader_epoch,
                    state.fetch_offset,
                    partition.log_start_offset,
                    self.config.partition_max_bytes,
                )  # last_fetched_epoch -1: we truncate by OffsetForLeaderEpoch
            )
        if not sent.states:
            return
        c = self.config
        body = encode_fetch_request(
            self.broker_id, c.max_wait_ms, c.min_bytes, c.response_max_bytes,
            list(by_topic.items()),
        )  # fmt: skip
        response = await self._send(fetch_req.FetchRequest, fetch_resp.FetchResponse, body)
        if ErrorCode(response.error_code) != ErrorCode.none:
            log.warning("[%s]: Fetch from broker %d failed: %s", self.name, self.leader_id,
                        ErrorCode(response.error_code).name)  # fmt: skip
            self._delay(sent.states.values())
            return
        for topic in response.responses:
            for p in topic.partitions:
                tp = TopicPartition(str(topic.topic), int(p.partition_index))
                sent_state = sent.states.get(tp)
                if sent_state is not None:
                    await self._process(tp, sent_state, p)

    async def _process(
        self, tp: TopicPartition, state: PartitionFetchState, p: fetch_resp.PartitionData
    ) -> None:
        partition = self._current(tp, state)
        if partition is None:
            return
        code = ErrorCode(p.error_code)
        if code == ErrorCode.none:
            records = p.records
            if records:
                if state.fetch_offset != partition.log_end_offset:
                    state.truncating = True  # our log moved under us: start over
                    return
                try:
                    partition.append_as_follower(records)
                except (StorageError, OSError) as exc:
                    log.error("[%s]: Unexpected error appending fetched data to %s at offset "
                              "%d: %s", self.name, tp, state.fetch_offset, exc)  # fmt: skip
                    self._delay([state])
                    return
                state.fetch_offset = partition.log_end_offset
            partition.update_follower_high_watermark(int(p.high_watermark))
            partition.maybe_increment_log_start_offset(int(p.log_start_offset))
        elif code == ErrorCode.offset_out_of_range:
            await self._handle_out_of_range(tp, state, partition)
        else:
            if code not in (ErrorCode.not_leader_or_follower, ErrorCode.fenced_leader_epoch,
                            ErrorCode.unknown_leader_epoch):  # fmt: skip
                log.warning("[%s]: Error for partition %s at offset %d: %s", self.name, tp,
                            state.fetch_offset, code.name)  # fmt: skip
            self._delay([state])

    async def _handle_out_of_range(
        self, tp: TopicPartition, state: PartitionFetchState, partition: Partition
    ) -> None:
        """Kafka's fetchOffsetAndTruncate: ahead of the leader -> cut to its end; behind its
        log start -> drop everything and start there."""
        leader_end = await self._list_offset(tp, state, LATEST_TIMESTAMP)
        if leader_end is None or self._current(tp, state) is None:
            self._delay([state])
            return
        local_end = partition.log_end_offset
        if leader_end < local_end:
            log.warning("[%s]: Reset fetch offset for partition %s from %d to current leader "
                        "%d's latest offset %d", self.name, tp, local_end, self.leader_id,
                        leader_end)  # fmt: skip
            partition.truncate_to(leader_end)
        else:
            leader_start = await self._list_offset(tp, state, EARLIEST_TIMESTAMP)
            if leader_start is None or self._current(tp, state) is None:
                self._delay([state])
                return
            if leader_start > local_end:
                log.warning("[%s]: Reset fetch offset for partition %s from %d to current "
                            "leader %d's start offset %d", self.name, tp, local_end,
                            self.leader_id, leader_start)  # fmt: skip
                partition.truncate_fully_and_start_at(leader_start)
        state.fetch_offset = partition.log_end_offset

    async def _list_offset(
        self, tp: TopicPartition, state: PartitionFetchState, timestamp: int
    ) -> int | None:
        request = lo_req.ListOffsetsRequest(
            replica_id=self.broker_id,  # type: ignore[arg-type]
            isolation_level=0,  # type: ignore[arg-type]
            topics=(
                lo_req.ListOffsetsTopic(
                    name=tp.topic,  # type: ignore[arg-type]
                    partitions=(
                        lo_req.ListOffsetsPartition(
                            partition_index=tp.partition,  # type: ignore[arg-type]
                            current_leader_epoch=state.leader_epoch,  # type: ignore[arg-type]
                            timestamp=timestamp,  # type: ignore[arg-type]
                        ),
                    ),
                ),
            ),
        )
        response = await self._send(request, lo_resp.ListOffsetsResponse)
        for topic in response.topics:
            for p in topic.partitions:
                if ErrorCode(p.error_code) == ErrorCode.none:
                    return int(p.offset)
        return None


class ReplicaFetcherManager:
    """Which leader each followed partition is fetched from; one fetcher task per leader."""

    def __init__(
        self,
        broker_id: int,
        get_partition: Callable[[TopicPartition], Partition | None],
        metadata: MetadataCache,
        config: FetcherConfig,
        clock: Clock,
    ) -> None:
        self.broker_id = broker_id
        self.get_partition = get_partition
        self.metadata = metadata
        self.config = config
        self.clock = clock
        self.fetchers: dict[int, ReplicaFetcherThread] = {}
        self._leader_of: dict[TopicPartition, int] = {}

    def add_fetcher_for_partition(
        self, tp: TopicPartition, leader_id: int, leader_epoch: int, initial_offset: int
    ) -> None:
        """Start (or restart, with truncation) fetching `tp` from `leader_id`."""
        self.remove_fetcher_for_partition(tp)
        fetcher = self.fetchers.get(leader_id)
        if fetcher is None:
            fetcher = self.fetchers[leader_id] = ReplicaFetcherThread(
                self.broker_id,
                leader_id,
                self.get_partition,
                metadata=self.metadata,
                config=self.config,
                clock=self.clock,
            )
            fetcher.start()
        fetcher.add_partition(tp, PartitionFetchState(leader_epoch, initial_offset))
        self._leader_of[tp] = leader_id

    def remove_fetcher_for_partition(self, tp: TopicPartition) -> None:
        leader_id = self._leader_of.pop(tp, None)
        if leader_id is not None and leader_id in self.fetchers:
            self.fetchers[leader_id].remove_partition(tp)

    def fetch_state(self, tp: TopicPartition) -> PartitionFetchState | None:
        leader_id = self._leader_of.get(tp)
        fetcher = self.fetchers.get(leader_id) if leader_id is not None else None
        return fetcher.partitions.get(tp) if fetcher is not None else None

    async def shutdown_idle_fetchers(self) -> None:
        """Kafka's shutdownIdleFetcherThreads: stop fetchers left with no partitions."""
        for leader_id, fetcher in list(self.fetchers.items()):
            if not fetcher.partitions:
                del self.fetchers[leader_id]
                await fetcher.stop()

    async def shutdown(self) -> None:
        fetchers, self.fetchers = list(self.fetchers.values()), {}
        self._leader_of.clear()
        for fetcher in fetchers:
            await fetcher.stop()
