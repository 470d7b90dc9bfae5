"""High watermark rules without sockets: the leader's HW is the minimum LEO over the (maximal)
ISR and never moves back, an unheard-of ISR member holds it, a caught-up follower outside the
ISR bounds it; a follower's HW is min(leader HW, own LEO); the checkpoint survives a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.isr import FollowerState, new_high_watermark
from kcli.broker.replica.manager import FetchPartition, ReplicaManager
from kcli.broker.replica.state import PartitionState
from kcli.clock import MockClock
from kcli.protocol.records import Record, build_batch
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

TP = TopicPartition("orders", 0)


def batch(n: int = 1, base_offset: int = 0, epoch: int = 0) -> bytes:
    data = bytearray(build_batch([Record(b"k", b"v%d" % i) for i in range(n)]))
    data[0:8] = base_offset.to_bytes(8, "big")
    data[12:16] = epoch.to_bytes(4, "big")
    return bytes(data)


def make_manager(path: Path, clock: MockClock) -> tuple[ReplicaManager, LogManager]:
    logs = LogManager([path], clock=clock)
    logs.startup()
    return ReplicaManager(0, logs, MetadataCache(), clock), logs


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ReplicaManager]:
    rm, logs = make_manager(tmp_path / "logs", MockClock())
    try:
        yield rm
    finally:
        rm.shutdown()
        logs.shutdown()


def hw(manager: ReplicaManager) -> int:
    p = manager.get_partition(TP)
    assert p is not None
    return p.high_watermark


def fetch(manager: ReplicaManager, replica: int, offset: int) -> None:
    manager.read_from_local_log(replica, 1 << 20, [FetchPartition(TP, offset, 1 << 20)])


def test_new_high_watermark_rules() -> None:
    f = {1: FollowerState(7, 0), 2: FollowerState(4, 0)}
    kw = {"now_ms": 100_000, "lag_max_ms": 10_000}
    assert new_high_watermark(0, 9, (0, 1, 2), f, **kw) == 4
    assert new_high_watermark(0, 9, (0, 1), f, **kw) == 7  # 2 out of the ISR, not caught up
    f[2].last_caught_up_ms = 95_000  # ... but caught up recently: it still bounds the HW
    assert new_high_watermark(0, 9, (0, 1), f, **kw) == 4
    f[1] = FollowerState()  # an ISR member not heard from yet: no new HW at all
    assert new_high_watermark(0, 9, (0, 1), f, **kw) is None
    assert new_high_watermark(0, 9, (0,), {}, **kw) == 9


def test_leader_high_watermark_is_the_min_leo_of_the_isr_and_never_moves_back(
    manager: ReplicaManager,
) -> None:
    async def scenario() -> None:
        state = PartitionState("orders", 0, 1, 0, 0, (0, 1, 2), 0, (0, 1, 2))
        await manager.become_leader_or_follower(0, 1, [state], {})
        await manager.append_records(1000, 1, [(TP, batch(6))])
        assert hw(manager) == 0
        fetch(manager, 1, 6)
        assert hw(manager) == 0  # 2 not heard from
        fetch(manager, 2, 3)
        assert hw(manager) == 3
        fetch(manager, 2, 6)
        assert hw(manager) == 6
        fetch(manager, 2, 2)  # a follower that truncated: the HW stays
        assert hw(manager) == 6

    asyncio.run(scenario())


def test_follower_high_watermark_is_min_of_leader_hw_and_own_leo(
    manager: ReplicaManager,
) -> None:
    async def scenario() -> None:
        state = PartitionState("orders", 0, 1, 1, 3, (1, 0), 0, (1, 0))
        await manager.become_leader_or_follower(0, 1, [state], {})
        p = manager.get_partition(TP)
        assert p is not None and not p.is_leader
        info = p.append_as_follower(batch(4, base_offset=0, epoch=3))
        assert (info.first_offset, info.last_offset) == (0, 3)
        assert p.log is not None and p.log.leader_epoch_cache.entries() == [(3, 0)]
        p.update_follower_high_watermark(10)
        assert p.high_watermark == 4  # own LEO
        p.update_follower_high_watermark(2)
        assert p.high_watermark == 4  # never back
        p.append_as_follower(batch(2, base_offset=4, epoch=5))
        assert p.log.leader_epoch_cache.entries() == [(3, 0), (5, 4)]
        assert p.truncate_to(5) and p.log_end_offset == 4  # inside a batch: the batch goes
        assert p.log.leader_epoch_cache.entries() == [(3, 0)]

    asyncio.run(scenario())


def test_high_watermark_checkpoint_is_restored(tmp_path: Path) -> None:
    clock = MockClock()
    rm, logs = make_manager(tmp_path / "logs", clock)
    state = PartitionState("orders", 0, 1, 0, 0, (0, 1), 0, (0, 1))

    async def first() -> None:
        await rm.become_leader_or_follower(0, 1, [state], {})
        await rm.append_records(1000, 1, [(TP, batch(5))])
        fetch(rm, 1, 3)

    asyncio.run(first())
    assert hw(rm) == 3
    rm.shutdown()  # writes replication-offset-checkpoint
    logs.shutdown()
    assert "orders 0 3" in (tmp_path / "logs" / "replication-offset-checkpoint").read_text()
    rm, logs = make_manager(tmp_path / "logs", clock)
    try:
        follower = PartitionState("orders", 0, 1, 1, 1, (1, 0), 1, (0, 1))
        asyncio.run(rm.become_leader_or_follower(0, 1, [follower], {}))
        assert hw(rm) == 3
    finally:
        rm.shutdown()
        logs.shutdown()
