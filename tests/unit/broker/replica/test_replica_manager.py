"""ReplicaManager over a real LogManager (temp dir, no sockets): LeaderAndIsr handling, produce
(acks, errors, idempotence), fetch below the high watermark and the long poll."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.manager import FetchPartition, ReplicaManager
from kcli.broker.replica.state import PartitionState
from kcli.clock import MockClock
from kcli.protocol.errors import ErrorCode
from kcli.protocol.records import Record, build_batch, iter_records
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

TP = TopicPartition("orders", 0)


def batch(n: int = 2, pid: int = -1, seq: int = -1, epoch: int = -1) -> bytes:
    return build_batch(
        [Record(b"k%d" % i, b"v%d" % i) for i in range(n)],
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
    )


def state(
    *,
    leader: int = 0,
    epoch: int = 0,
    isr: tuple[int, ...] = (0,),
    zkv: int = 0,
    replicas: tuple[int, ...] = (0,),
    controller_epoch: int = 1,
) -> PartitionState:
    return PartitionState("orders", 0, controller_epoch, leader, epoch, isr, zkv, replicas)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ReplicaManager]:
    logs = LogManager([tmp_path / "logs"], clock=MockClock())
    logs.startup()
    rm = ReplicaManager(0, logs, MetadataCache(), logs.clock)
    try:
        yield rm
    finally:
        rm.shutdown()
        logs.shutdown()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def lead(rm: ReplicaManager, **kw: object) -> dict[tuple[str, int], int]:
    return run(rm.become_leader_or_follower(0, 1, [state(**kw)], {}))  # type: ignore[arg-type]


def produce(rm: ReplicaManager, records: bytes, acks: int = 1) -> tuple[int, int]:
    [r] = run(rm.append_records(1000, acks, [(TP, records)]))
    if r.error is not None:
        return error_code(r.error), -1
    assert r.info is not None
    return 0, r.info.first_offset


def test_leader_appends_and_stale_requests_are_refused(manager: ReplicaManager) -> None:
    assert lead(manager, epoch=3) == {("orders", 0): 0}
    assert produce(manager, batch(3)) == (0, 0)
    assert produce(manager, batch(2), acks=-1) == (0, 3)
    p = manager.get_partition(TP)
    assert p is not None and p.high_watermark == 5 and p.log_end_offset == 5
    assert lead(manager, epoch=3) == {("orders", 0): ErrorCode.stale_controller_epoch}
    assert lead(manager, epoch=3, zkv=1) == {("orders", 0): 0}  # same epoch, newer partition epoch
    stale = run(manager.become_leader_or_follower(0, 0, [state(epoch=9)], {}))
    assert stale == {("orders", 0): ErrorCode.stale_controller_epoch}
    not_mine = run(manager.become_leader_or_follower(0, 1, [state(epoch=9, replicas=(1, 2))], {}))
    assert not_mine == {("orders", 0): ErrorCode.unknown_topic_or_partition}


def test_follower_refuses_produce_and_unknown_partition(manager: ReplicaManager) -> None:
    run(manager.become_leader_or_follower(0, 1, [state(leader=1, replicas=(1, 0), isr=(1, 0))], {}))
    assert produce(manager, batch())[0] == ErrorCode.not_leader_or_follower
    [r] = run(manager.append_records(1000, 1, [(TopicPartition("nope", 0), batch())]))
    assert r.error is not None and error_code(r.error) == ErrorCode.unknown_topic_or_partition
    [r] = run(manager.append_records(1000, 1, [(TopicPartition("a/b", 0), batch())]))
    assert r.error is not None and error_code(r.error) == ErrorCode.invalid_topic_exception
    [r] = run(manager.append_records(1000, 1, [(TopicPartition("__consumer_offsets", 0), batch())]))
    assert r.error is not None and error_code(r.error) == ErrorCode.invalid_topic_exception


def test_acks_all_needs_min_insync_replicas(manager: ReplicaManager) -> None:
    run(
        manager.become_leader_or_follower(0, 1, [state()], {"orders": {"min.insync.replicas": "2"}})
    )
    assert produce(manager, batch(), acks=-1)[0] == ErrorCode.not_enough_replicas
    assert produce(manager, batch(), acks=1) == (0, 0)


def test_acks_all_waits_for_the_follower(manager: ReplicaManager) -> None:
    """ISR {0, 1}: the high watermark moves when follower 1 fetches past the batch."""

    async def scenario() -> None:
        await manager.become_leader_or_follower(0, 1, [state(isr=(0, 1), replicas=(0, 1))], {})
        produce_task = asyncio.ensure_future(manager.append_records(5000, -1, [(TP, batch(2))]))
        await asyncio.sleep(0.01)
        assert not produce_task.done()
        manager.read_from_local_log(1, 1 << 20, [FetchPartition(TP, 2, 1 << 20)])
        [r] = await asyncio.wait_for(produce_task, 5)
        assert r.error is None and r.info is not None and r.info.first_offset == 0

    run(scenario())


def test_compacted_topic_needs_keys(manager: ReplicaManager) -> None:
    run(
        manager.become_leader_or_follower(
            0, 1, [state()], {"orders": {"cleanup.policy": "compact"}}
        )
    )
    assert produce(manager, build_batch([Record(None, b"v")]))[0] == ErrorCode.invalid_record
    assert produce(manager, batch()) == (0, 0)


def test_idempotent_retry_returns_the_original_offset(manager: ReplicaManager) -> None:
    lead(manager)
    assert produce(manager, batch(2, pid=5, seq=0, epoch=0)) == (0, 0)
    assert produce(manager, batch(3, pid=5, seq=2, epoch=0)) == (0, 2)
    assert produce(manager, batch(2, pid=5, seq=0, epoch=0)) == (0, 0)  # retry: nothing appended
    p = manager.get_partition(TP)
    assert p is not None and p.log_end_offset == 5
    assert (
        produce(manager, batch(1, pid=5, seq=9, epoch=0))[0]
        == ErrorCode.out_of_order_sequence_number
    )
    assert (
        produce(manager, batch(1, pid=5, seq=5, epoch=-2 + 1))[0]
        == ErrorCode.invalid_producer_epoch
    )
    corrupt = bytearray(batch(1, pid=5, seq=9, epoch=0))
    corrupt[-1] ^= 0xFF
    assert produce(manager, bytes(corrupt))[0] == ErrorCode.corrupt_message  # CRC before sequence


def test_fetch_sees_only_below_the_high_watermark_and_long_polls(manager: ReplicaManager) -> None:
    async def scenario() -> None:
        await manager.become_leader_or_follower(0, 1, [state(isr=(0, 1), replicas=(0, 1))], {})
        await manager.append_records(1000, 1, [(TP, batch(2))])  # HW stays 0: follower behind
        [r] = manager.read_from_local_log(-1, 1 << 20, [FetchPartition(TP, 0, 1 << 20)])
        assert r.error is None and r.size == 0 and r.high_watermark == 0
        [r] = manager.read_from_local_log(-1, 1 << 20, [FetchPartition(TP, 9, 1 << 20)])
        assert r.error is not None and error_code(r.error) == ErrorCode.offset_out_of_range
        poll = asyncio.ensure_future(
            manager.fetch_messages(-1, 30_000, 1, 1 << 20, [FetchPartition(TP, 0, 1 << 20)])
        )
        await asyncio.sleep(0.01)
        assert not poll.done()
        manager.read_from_local_log(1, 1 << 20, [FetchPartition(TP, 2, 1 << 20)])  # HW -> 2
        [r] = await asyncio.wait_for(poll, 5)
        assert r.error is None and r.high_watermark == 2 and r.data is not None
        records = list(iter_records(r.data.to_bytes()))
        assert [rec.key for rec in records] == [b"k0", b"k1"]

    run(scenario())


def test_leader_change_answers_a_waiting_fetch(manager: ReplicaManager) -> None:
    async def scenario() -> None:
        await manager.become_leader_or_follower(0, 1, [state()], {})
        poll = asyncio.ensure_future(
            manager.fetch_messages(-1, 30_000, 1, 1 << 20, [FetchPartition(TP, 0, 1 << 20)])
        )
        await asyncio.sleep(0.01)
        await manager.become_leader_or_follower(
            0, 1, [state(leader=1, epoch=1, replicas=(0, 1), isr=(0, 1))], {}
        )
        [r] = await asyncio.wait_for(poll, 5)
        assert r.error is not None and error_code(r.error) == ErrorCode.not_leader_or_follower

    run(scenario())


def test_stop_replica_with_delete_removes_the_log(manager: ReplicaManager, tmp_path: Path) -> None:
    lead(manager)
    produce(manager, batch())
    assert (tmp_path / "logs" / "orders-0").is_dir()
    assert run(manager.stop_replicas(1, [("orders", 0)], delete=True)) == {("orders", 0): 0}
    assert manager.get_partition(TP) is None
    assert not (tmp_path / "logs" / "orders-0").exists()


def test_log_append_time_topic_stamps_the_batch(manager: ReplicaManager) -> None:
    configs = {"orders": {"message.timestamp.type": "LogAppendTime"}}
    run(manager.become_leader_or_follower(0, 1, [state()], configs))
    [r] = run(manager.append_records(1000, 1, [(TP, batch(2))]))
    assert r.error is None and r.info is not None
    now = manager.clock.time_ms()
    assert r.info.log_append_time == now
    [read] = manager.read_from_local_log(-1, 1 << 20, [FetchPartition(TP, 0, 1 << 20)])
    assert read.data is not None
    assert {rec.timestamp for rec in iter_records(read.data.to_bytes())} == {now}


def test_invalid_topic_config_is_refused_without_failing_leader_and_isr(
    manager: ReplicaManager,
) -> None:
    configs = {"orders": {"min.insync.replicas": "zero"}}
    assert run(manager.become_leader_or_follower(0, 1, [state()], configs)) == {("orders", 0): 0}
    assert manager.update_topic_config("orders", {"retention.ms": "-5x"}) is False
    assert produce(manager, batch(), acks=-1) == (0, 0)  # min.insync.replicas still 1
