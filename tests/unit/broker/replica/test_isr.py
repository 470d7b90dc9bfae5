"""Kafka's ISR rules, without sockets: follower fetch state and lastCaughtUpTimeMs, shrink after
replica.lag.time.max.ms on a MockClock, expansion once a follower reaches the high watermark
and the leader epoch, one change in flight, conflicts, and min.insync.replicas for acks=all."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.metadata_cache import PartitionState as LeaderAndIsr
from kcli.broker.replica.isr import (
    FollowerState,
    IsrState,
    may_join_isr,
    out_of_sync_replicas,
)
from kcli.broker.replica.manager import FetchPartition, ReplicaManager
from kcli.broker.replica.partition import Partition
from kcli.broker.replica.state import PartitionState
from kcli.clock import MockClock
from kcli.protocol.errors import ErrorCode
from kcli.protocol.records import Record, build_batch
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

TP = TopicPartition("orders", 0)
LAG = 10_000


def batch(n: int = 1) -> bytes:
    return build_batch([Record(b"k", b"v%d" % i) for i in range(n)])


class Writer:
    """An IsrWriter that answers like ZooKeeper would: a new zkVersion, or None (conflict)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, int, LeaderAndIsr]] = []
        self.conflict = False
        self.gate: asyncio.Event | None = None

    async def write_isr(self, topic: str, partition: int, state: LeaderAndIsr) -> int | None:
        if self.gate is not None:
            await self.gate.wait()
        self.writes.append((topic, partition, state))
        return None if self.conflict else state.zk_version + 1


@pytest.fixture
def clock() -> MockClock:
    return MockClock()


@pytest.fixture
def writer() -> Writer:
    return Writer()


@pytest.fixture
def manager(tmp_path: Path, clock: MockClock, writer: Writer) -> Iterator[ReplicaManager]:
    logs = LogManager([tmp_path / "logs"], clock=clock)
    logs.startup()
    rm = ReplicaManager(
        0, logs, MetadataCache(), clock, isr_writer=writer, replica_lag_time_max_ms=LAG
    )
    try:
        yield rm
    finally:
        rm.shutdown()
        logs.shutdown()


def lead(isr: tuple[int, ...] = (0, 1, 2), epoch: int = 0, zkv: int = 0) -> PartitionState:
    return PartitionState("orders", 0, 1, 0, epoch, isr, zkv, (0, 1, 2))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def fetch(manager: ReplicaManager, replica: int, offset: int) -> None:
    [r] = manager.read_from_local_log(replica, 1 << 20, [FetchPartition(TP, offset, 1 << 20)])
    assert r.error is None


def partition(manager: ReplicaManager) -> Partition:
    p = manager.get_partition(TP)
    assert p is not None
    return p


# -- pure rules --------------------------------------------------------------------------------


def test_last_caught_up_follows_kafkas_two_cases() -> None:
    f = FollowerState()
    f.update_fetch_state(fetch_offset=5, leader_leo=5, now_ms=1000)  # at the end: now
    assert f.last_caught_up_ms == 1000 and f.log_end_offset == 5
    f.update_fetch_state(fetch_offset=5, leader_leo=8, now_ms=2000)  # behind, but reached
    assert f.last_caught_up_ms == 1000  # ... the leader's end at the previous fetch (5)
    f.update_fetch_state(fetch_offset=8, leader_leo=12, now_ms=3000)
    assert f.last_caught_up_ms == 2000  # previous fetch time: it had what the leader had then
    f.update_fetch_state(fetch_offset=9, leader_leo=20, now_ms=4000)
    assert f.last_caught_up_ms == 2000  # 9 < 12: not caught up to the previous fetch
    assert f.is_caught_up(leader_leo=20, now_ms=2000 + LAG, lag_max_ms=LAG)
    assert not f.is_caught_up(leader_leo=20, now_ms=2001 + LAG, lag_max_ms=LAG)
    assert f.is_caught_up(leader_leo=9, now_ms=10**9, lag_max_ms=LAG)  # LEO equal: in sync


def test_out_of_sync_replicas_never_include_the_leader() -> None:
    followers = {1: FollowerState(7, 0), 2: FollowerState(9, 5000)}
    out = out_of_sync_replicas(0, (0, 1, 2), followers, leader_leo=9, now_ms=12_000,
                               lag_max_ms=LAG)  # fmt: skip
    assert out == [1]  # 2 has the leader's LEO


def test_may_join_needs_the_high_watermark_and_the_epoch_start() -> None:
    assert may_join_isr(10, high_watermark=10, leader_epoch_start_offset=8)
    assert not may_join_isr(9, high_watermark=9, leader_epoch_start_offset=10)
    assert not may_join_isr(9, high_watermark=10, leader_epoch_start_offset=0)
    assert not may_join_isr(-1, high_watermark=0, leader_epoch_start_offset=0)


def test_isr_state_maximal_isr_during_a_change() -> None:
    s = IsrState((0, 1))
    s.propose((0, 1, 2))  # expansion counts the new member at once
    assert s.maximal == (0, 1, 2) and s.isr == (0, 1)
    s.commit()
    assert list(s.isr) == [0, 1, 2] and not s.in_flight
    s.propose((0,))  # shrinking waits for the commit
    assert s.maximal == (0, 1, 2)
    s.abort(zk_version=3)
    assert s.isr == (0, 1, 2) and s.blocked_at_version == 3


# -- the leader partition --------------------------------------------------------------------


def test_silent_follower_leaves_after_the_lag_time(
    manager: ReplicaManager, clock: MockClock, writer: Writer
) -> None:
    async def scenario() -> None:
        await manager.become_leader_or_follower(0, 1, [lead()], {})
        await manager.append_records(1000, 1, [(TP, batch(3))])
        fetch(manager, 1, 3)
        fetch(manager, 2, 3)
        assert partition(manager).high_watermark == 3
        await manager.append_records(1000, 1, [(TP, batch(2))])  # follower 2 stops fetching
        clock.advance(LAG // 2)
        fetch(manager, 1, 5)
        assert manager.maybe_shrink_isr() == 0
        clock.advance(LAG // 2 + 1)
        fetch(manager, 1, 5)
        assert manager.maybe_shrink_isr() == 1
        await settle()
        [(topic, index, written)] = writer.writes
        assert (topic, index) == ("orders", 0)
        assert written == LeaderAndIsr(0, 0, (0, 1), 1, 0)  # leader, epoch unchanged
        p = partition(manager)
        assert p.isr == (0, 1) and p.zk_version == 1
        assert p.high_watermark == 5  # no longer held back by follower 2

    asyncio.run(scenario())


def test_follower_rejoins_when_it_reaches_the_high_watermark(
    manager: ReplicaManager, writer: Writer
) -> None:
    async def scenario() -> None:
        await manager.become_leader_or_follower(0, 1, [lead(isr=(0, 1))], {})
        await manager.append_records(1000, 1, [(TP, batch(4))])
        fetch(manager, 1, 4)
        fetch(manager, 2, 2)  # behind the HW (4): not yet
        await settle()
        assert writer.writes == []
        fetch(manager, 2, 4)
        await settle()
        assert [w[2].isr for w in writer.writes] == [(0, 1, 2)]
        assert partition(manager).isr == (0, 1, 2)

    asyncio.run(scenario())


def test_one_change_in_flight_and_a_conflict_stops_proposals(
    manager: ReplicaManager, writer: Writer, clock: MockClock
) -> None:
    async def scenario() -> None:
        writer.gate = asyncio.Event()
        await manager.become_leader_or_follower(0, 1, [lead(isr=(0,))], {})
        fetch(manager, 1, 0)  # proposes (0, 1); the write waits at the gate
        fetch(manager, 2, 0)  # must not propose while one is in flight
        await settle()
        assert partition(manager).isr_state.pending == (0, 1)
        writer.conflict = True
        writer.gate.set()
        await settle()
        p = partition(manager)
        assert p.isr == (0,) and not p.isr_state.in_flight
        fetch(manager, 2, 0)  # blocked until the controller sends a newer state
        await settle()
        assert len(writer.writes) == 1
        # The controller's LeaderAndIsr (new zkVersion) lifts the block.
        writer.conflict = False
        await manager.become_leader_or_follower(0, 1, [lead(isr=(0,), zkv=5)], {})
        fetch(manager, 1, 0)
        await settle()
        assert partition(manager).isr == (0, 1) and partition(manager).zk_version == 6

    asyncio.run(scenario())


def test_min_insync_replicas_before_and_after_append(
    manager: ReplicaManager, clock: MockClock
) -> None:
    async def scenario() -> None:
        configs = {"orders": {"min.insync.replicas": "2"}}
        await manager.become_leader_or_follower(0, 1, [lead(isr=(0, 1))], configs)
        fetch(manager, 1, 0)
        waiting = asyncio.ensure_future(manager.append_records(30_000, -1, [(TP, batch())]))
        await settle()
        assert not waiting.done()
        clock.advance(LAG + 1)  # follower 1 never fetches again: the ISR shrinks to {0}
        assert manager.maybe_shrink_isr() == 1
        [r] = await asyncio.wait_for(waiting, 5)
        assert r.error is not None
        assert error_code(r.error) == ErrorCode.not_enough_replicas_after_append
        [r] = await manager.append_records(1000, -1, [(TP, batch())])
        assert r.error is not None and error_code(r.error) == ErrorCode.not_enough_replicas
        assert partition(manager).log_end_offset == 1  # refused before appending
        [r] = await manager.append_records(1000, 1, [(TP, batch())])  # acks=1 still works
        assert r.error is None

    asyncio.run(scenario())


def test_becoming_follower_drops_the_change_in_flight(
    manager: ReplicaManager, writer: Writer
) -> None:
    async def scenario() -> None:
        writer.gate = asyncio.Event()
        await manager.become_leader_or_follower(0, 1, [lead(isr=(0,))], {})
        fetch(manager, 1, 0)
        follower = PartitionState("orders", 0, 1, 1, 1, (1, 0), 1, (0, 1, 2))
        await manager.become_leader_or_follower(0, 1, [follower], {})
        writer.gate.set()
        await settle()
        p = partition(manager)
        assert not p.is_leader and p.isr == (1, 0) and p.zk_version == 1

    asyncio.run(scenario())
