"""The follower side without sockets: Kafka's truncation decision (KIP-101/279), and a
ReplicaFetcherThread whose requests go straight to an in-process leader ReplicaManager: a
follower that wrote an epoch the leader never saw truncates to the largest common epoch,
fetches the leader's batches byte for byte, follows its high watermark, and backs off on
errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import kio.schema.fetch.v12.request as fetch_req
import kio.schema.fetch.v12.response as fetch_resp_module
import kio.schema.list_offsets.v4.request as lo_req
import kio.schema.list_offsets.v4.response as lo_resp_module
import kio.schema.offset_for_leader_epoch.v4.request as ofle_req
import kio.schema.offset_for_leader_epoch.v4.response as ofle_resp_module
import pytest
from kio.serial import entity_reader

from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.errors import ReplicaError
from kcli.broker.replica.fetcher import FetcherConfig, PartitionFetchState, ReplicaFetcherThread
from kcli.broker.replica.manager import FetchPartition, ReplicaManager
from kcli.broker.replica.partition import Partition
from kcli.broker.replica.state import PartitionState
from kcli.broker.replica.truncation import OffsetTruncationState, offset_truncation_state
from kcli.clock import MockClock
from kcli.protocol.errors import ErrorCode
from kcli.protocol.records import Record, build_batch
from kcli.storage.errors import StorageError
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

fetch_resp: Any = fetch_resp_module  # kio's phantom int types are not worth casting here
ofle_resp: Any = ofle_resp_module
lo_resp: Any = lo_resp_module
TP = TopicPartition("orders", 0)
REPLICAS = (0, 1)


# -- the decision ------------------------------------------------------------------------------


def local(entries: dict[int, int]) -> Any:
    """end_offset_for_epoch over a follower whose epochs end as `entries` says."""
    return lambda epoch: (epoch, entries[epoch]) if epoch in entries else (-1, -1)


def test_truncation_to_the_end_of_the_largest_common_epoch() -> None:
    # the leader's epoch 1 ends at 3; ours ends at 6: keep 0..2
    assert offset_truncation_state(1, 3, 0, 6, local({1: 6})) == OffsetTruncationState(3, True)
    # the leader has more of the epoch than we do: keep all of ours
    assert offset_truncation_state(1, 9, 0, 6, local({1: 6})) == OffsetTruncationState(6, True)


def test_truncation_when_the_follower_lacks_the_leaders_epoch() -> None:
    # leader answers epoch 2 (ends at 8); our largest epoch below it ends at 5: cut, ask again
    state = offset_truncation_state(2, 8, 0, 7, lambda e: (1, 5))
    assert state == OffsetTruncationState(5, False)


def test_truncation_falls_back_to_the_high_watermark() -> None:
    # the leader cannot place our epoch: Kafka truncates to the initial fetch offset (the HW)
    assert offset_truncation_state(-1, -1, 4, 9, local({})) == OffsetTruncationState(4, True)
    # leader without epochs (old message format): its end offset
    assert offset_truncation_state(-1, 6, 4, 9, local({})) == OffsetTruncationState(6, True)
    # we have no entry for the answered epoch: trust the leader's offset
    assert offset_truncation_state(3, 5, 0, 9, local({})) == OffsetTruncationState(5, True)


# -- a fetcher against an in-process leader ---------------------------------------------------


class InProcessFetcher(ReplicaFetcherThread):
    """Requests answered by `leader` directly, as its handlers would."""

    def __init__(self, leader: ReplicaManager, follower: ReplicaManager) -> None:
        super().__init__(0, 1, follower.get_partition, metadata=MetadataCache(),
                         config=FetcherConfig(backoff_ms=1000), clock=follower.clock)  # fmt: skip
        self.leader = leader
        self.sent: list[Any] = []

    async def _send(self, request: Any, response_cls: type[Any], body: bytes | None = None) -> Any:
        if body is not None:  # the hand-encoded Fetch: read back as the leader would
            request, _ = entity_reader(request)(body, 0)
        self.sent.append(request)
        if isinstance(request, ofle_req.OffsetForLeaderEpochRequest):
            return self._offsets_for_leader_epoch(request)
        if isinstance(request, lo_req.ListOffsetsRequest):
            [topic] = request.topics
            [p] = topic.partitions
            lg = self.leader.partition_or_error(TopicPartition(topic.name, p.partition_index)).log
            assert lg is not None
            offset = lg.log_end_offset if p.timestamp == -1 else lg.log_start_offset
            answer = lo_resp.ListOffsetsPartitionResponse(
                partition_index=p.partition_index, error_code=ErrorCode.none, timestamp=-1,
                offset=offset, leader_epoch=-1)  # fmt: skip
            return lo_resp.ListOffsetsResponse(
                throttle_time=timedelta(0),
                topics=(lo_resp.ListOffsetsTopicResponse(name=topic.name, partitions=(answer,)),),
            )
        assert isinstance(request, fetch_req.FetchRequest)
        wanted = [
            FetchPartition(
                TopicPartition(t.topic, p.partition),
                int(p.fetch_offset),
                int(p.partition_max_bytes),
                int(p.current_leader_epoch),
            )
            for t in request.topics
            for p in t.partitions
        ]
        results = await self.leader.fetch_messages(
            int(request.replica_id), 0, 1, int(request.max_bytes), wanted
        )
        parts = []
        for fp, r in zip(wanted, results, strict=True):
            code = error_code(r.error) if r.error is not None else ErrorCode.none
            records = r.data.to_bytes() if r.data is not None and r.size else None
            parts.append(fetch_resp.PartitionData(
                partition_index=fp.tp.partition, error_code=code, high_watermark=r.high_watermark,
                    log_start_offset=r.log_start_offset,
                aborted_transactions=None, records=records))  # fmt: skip
        return fetch_resp.FetchResponse(
            throttle_time=timedelta(0), error_code=ErrorCode.none, session_id=0,
            responses=(fetch_resp.FetchableTopicResponse(topic=TP.topic, partitions=tuple(parts)),),
        )  # fmt: skip

    def _offsets_for_leader_epoch(self, request: Any) -> Any:
        parts = []
        for t in request.topics:
            for p in t.partitions:
                code, epoch, end = ErrorCode.none, -1, -1
                try:
                    partition = self.leader.partition_or_error(TopicPartition(t.topic, p.partition))
                    lg = partition.leader_log(int(p.current_leader_epoch))
                    epoch, end = lg.end_offset_for_epoch(int(p.leader_epoch))
                except (ReplicaError, StorageError) as exc:
                    code = error_code(exc)
                parts.append(
                    ofle_resp.EpochEndOffset(
                        error_code=code, partition=p.partition, leader_epoch=epoch, end_offset=end
                    )
                )
        return ofle_resp.OffsetForLeaderEpochResponse(
            throttle_time=timedelta(0),
            topics=(ofle_resp.OffsetForLeaderTopicResult(topic=TP.topic, partitions=tuple(parts)),),
        )  # fmt: skip


@pytest.fixture
def clock() -> MockClock:
    return MockClock()


@pytest.fixture
def pair(tmp_path: Path, clock: MockClock) -> Iterator[tuple[ReplicaManager, ReplicaManager]]:
    made: list[tuple[ReplicaManager, LogManager]] = []
    for broker in (0, 1):
        logs = LogManager([tmp_path / f"logs-{broker}"], clock=clock)
        logs.startup()
        made.append((ReplicaManager(broker, logs, MetadataCache(), clock), logs))
    try:
        yield made[0][0], made[1][0]
    finally:
        for rm, logs in made:
            rm.shutdown()
            logs.shutdown()


def leads(broker: int, epoch: int, isr: tuple[int, ...]) -> PartitionState:
    return PartitionState("orders", 0, 1, broker, epoch, isr, epoch, REPLICAS)


BATCH = build_batch([Record(b"k%d" % i, b"v%d" % i) for i in range(3)])


def whole_log(rm: ReplicaManager) -> bytes:
    p = rm.get_partition(TP)
    assert p is not None and p.log is not None
    return p.log.read(0, 1 << 24, None, True).to_bytes()


def part(rm: ReplicaManager) -> Partition:
    p = rm.get_partition(TP)
    assert p is not None
    return p


def test_diverged_follower_truncates_then_copies_the_leader(
    pair: tuple[ReplicaManager, ReplicaManager],
) -> None:
    follower, leader = pair

    async def scenario() -> None:
        # Broker 0 led epochs 0 and 1; its epoch-1 batch (offsets 3-5) never reached broker 1.
        await follower.become_leader_or_follower(0, 1, [leads(0, 0, (0,))], {})
        await follower.append_records(1000, 1, [(TP, BATCH)])
        await follower.become_leader_or_follower(0, 1, [leads(0, 1, (0,))], {})
        await follower.append_records(1000, 1, [(TP, BATCH)])
        # Broker 1 had epoch 0's batch, then became leader in epoch 2 and took more writes.
        await leader.become_leader_or_follower(0, 1, [leads(0, 0, (0, 1))], {})
        part(leader).append_as_follower(whole_log(follower)[: len(BATCH)])
        await leader.become_leader_or_follower(0, 1, [leads(1, 2, (1,))], {})
        await leader.append_records(1000, 1, [(TP, BATCH)])
        await leader.append_records(1000, 1, [(TP, BATCH)])
        await follower.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})

        fetcher = InProcessFetcher(leader, follower)
        state = PartitionFetchState(2, part(follower).high_watermark)
        fetcher.add_partition(TP, state)
        await fetcher._truncate(dict(fetcher.partitions))
        [asked] = fetcher.sent
        assert asked.topics[0].partitions[0].leader_epoch == 1  # our latest epoch
        assert not state.truncating and state.fetch_offset == 3  # end of epoch 0 on the leader
        assert part(follower).log_end_offset == 3
        await fetcher._fetch(dict(fetcher.partitions))
        assert whole_log(follower) == whole_log(leader)
        assert state.fetch_offset == 9
        follower_log = part(follower).log
        assert follower_log is not None
        assert follower_log.leader_epoch_cache.entries() == [(0, 0), (2, 3)]
        # The leader learns the follower's LEO from the next fetch; its HW comes back with it.
        await fetcher._fetch(dict(fetcher.partitions))
        assert part(leader).high_watermark == 9 and part(follower).high_watermark == 9
        # DeleteRecords on the leader: the follower's log start follows on the next fetch.
        leader_log = part(leader).log
        assert leader_log is not None
        leader_log.delete_records(6)
        await fetcher._fetch(dict(fetcher.partitions))
        assert part(follower).log_start_offset == 6

    asyncio.run(scenario())


def test_errors_delay_the_partition_by_the_backoff(
    pair: tuple[ReplicaManager, ReplicaManager], clock: MockClock
) -> None:
    follower, leader = pair

    async def scenario() -> None:
        await leader.become_leader_or_follower(0, 1, [leads(1, 3, (1, 0))], {})
        await follower.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})  # stale
        fetcher = InProcessFetcher(leader, follower)
        state = PartitionFetchState(2, 0, truncating=False)
        fetcher.add_partition(TP, state)
        await fetcher._fetch(dict(fetcher.partitions))  # FENCED_LEADER_EPOCH
        assert state.delayed_until == clock.monotonic() + 1.0
        assert not state.ready(clock.monotonic())
        clock.advance(1000)
        assert state.ready(clock.monotonic())

    asyncio.run(scenario())


def test_an_answer_for_a_replaced_state_is_ignored(
    pair: tuple[ReplicaManager, ReplicaManager],
) -> None:
    follower, leader = pair

    async def scenario() -> None:
        await leader.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})
        await leader.append_records(1000, 1, [(TP, BATCH)])
        await follower.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})
        fetcher = InProcessFetcher(leader, follower)
        old = PartitionFetchState(2, 0, truncating=False)
        fetcher.add_partition(TP, old)
        sent = dict(fetcher.partitions)
        fetcher.add_partition(TP, PartitionFetchState(2, 0))  # a LeaderAndIsr re-added it
        await fetcher._fetch(sent)
        assert part(follower).log_end_offset == 0

    asyncio.run(scenario())


def test_out_of_range_follower_resets_to_the_leaders_log(
    pair: tuple[ReplicaManager, ReplicaManager],
) -> None:
    follower, leader = pair

    async def scenario() -> None:
        await leader.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})
        await leader.append_records(1000, 1, [(TP, BATCH)])
        await follower.become_leader_or_follower(0, 1, [leads(1, 2, (1, 0))], {})
        part(follower).append_as_follower(whole_log(leader) * 1)
        lg = part(follower).log
        assert lg is not None
        lg.append(bytearray(BATCH))  # ahead of the leader (3 -> 6), as after an unclean election
        fetcher = InProcessFetcher(leader, follower)
        fetcher.add_partition(TP, PartitionFetchState(2, 6, truncating=False))
        await fetcher._fetch(dict(fetcher.partitions))  # OFFSET_OUT_OF_RANGE -> leader's end
        assert part(follower).log_end_offset == 3
        assert whole_log(follower) == whole_log(leader)
        # Behind the leader's log start: start over there.
        await leader.append_records(1000, 1, [(TP, BATCH)])
        await leader.append_records(1000, 1, [(TP, BATCH)])
        leader_log = part(leader).log
        assert leader_log is not None
        leader_log.roll()
        leader_log.delete_records(9)
        await fetcher._fetch(dict(fetcher.partitions))
        assert (part(follower).log_start_offset, part(follower).log_end_offset) == (9, 9)

    asyncio.run(scenario())


def test_hand_encoded_fetch_request_matches_kio() -> None:
    from kcli.broker.replica.fetch_request import FetchPartitionRequest, encode_fetch_request
    from kcli.protocol.messages import encode_body

    kio_request = fetch_req.FetchRequest(
        cluster_id=None, replica_id=2, max_wait=timedelta(milliseconds=500), min_bytes=1,
        max_bytes=10485760, isolation_level=0, session_id=0, session_epoch=-1,
        topics=tuple(
            fetch_req.FetchTopic(topic=name, partitions=tuple(
                fetch_req.FetchPartition(partition=p, current_leader_epoch=7, fetch_offset=1 << 40,
                                         last_fetched_epoch=-1, log_start_offset=3,
                                         partition_max_bytes=1048576)
                for p in parts))
            for name, parts in (("orders", (0, 5)), ("x" * 200, (1,)))
        ),
        forgotten_topics_data=(), rack_id="",
    )  # type: ignore[arg-type]  # fmt: skip
    mine = encode_fetch_request(2, 500, 1, 10485760, [
        (name, [FetchPartitionRequest(p, 7, 1 << 40, 3, 1048576) for p in parts])
        for name, parts in (("orders", (0, 5)), ("x" * 200, (1,)))
    ])  # fmt: skip
    assert mine == encode_body(kio_request)
