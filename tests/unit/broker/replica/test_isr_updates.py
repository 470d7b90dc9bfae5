"""The leader's ZooKeeper side of ISR changes (controller/isr_updates.py) over an in-memory
stand-in for KafkaZkClient: the conditional write, the re-read after a version conflict, and
the batching of /isr_change_notification writes on a MockClock."""

from __future__ import annotations

import asyncio
from typing import Any

from kcli.broker.controller.isr_updates import ZkIsrUpdater
from kcli.broker.controller.znodes import (
    IsrChangeNotificationSequenceZNode,
    TopicPartitionStateZNode,
)
from kcli.broker.metadata_cache import PartitionState
from kcli.clock import MockClock


class Znodes:
    """The state znodes and notifications a KafkaZkClient would read and write."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, int], tuple[bytes, int]] = {}
        self.notifications: list[bytes] = []

    async def update_leader_and_isr(
        self, topic: str, partition: int, state: PartitionState
    ) -> PartitionState | None:
        _, version = self.states[(topic, partition)]
        if version != state.zk_version:
            return None
        self.states[(topic, partition)] = (TopicPartitionStateZNode.encode(state), version + 1)
        return PartitionState(state.leader, state.leader_epoch, state.isr,
                              state.controller_epoch, version + 1)  # fmt: skip

    async def get_partition_state(self, topic: str, partition: int) -> PartitionState | None:
        data, version = self.states[(topic, partition)]
        return TopicPartitionStateZNode.decode(data, version)

    async def propagate_isr_changes(self, partitions: list[tuple[str, int]]) -> None:
        self.notifications.append(IsrChangeNotificationSequenceZNode.encode(partitions))


def updater(znodes: Znodes, clock: MockClock) -> ZkIsrUpdater:
    kzk: Any = znodes
    return ZkIsrUpdater(kzk, clock, check_interval_ms=250, linger_ms=500, max_delay_ms=5000)


def test_conditional_write_and_conflicts() -> None:
    znodes, clock = Znodes(), MockClock()
    first = PartitionState(0, 3, (0, 1, 2), 1, 4)
    znodes.states[("t", 0)] = (TopicPartitionStateZNode.encode(first), 4)
    u = updater(znodes, clock)

    async def scenario() -> None:
        shrink = PartitionState(0, 3, (0, 1), 1, 4)
        assert await u.write_isr("t", 0, shrink) == 5
        assert znodes.states[("t", 0)] == (
            b'{"controller_epoch":1,"leader":0,"version":1,"leader_epoch":3,"isr":[0,1]}',
            5,
        )
        # Our own earlier write landed (a retry with the old version): success as stored.
        assert await u.write_isr("t", 0, shrink) == 5
        # The controller changed the partition (new leader epoch): we give up.
        moved = PartitionState(1, 4, (1, 2), 1, 0)
        znodes.states[("t", 0)] = (TopicPartitionStateZNode.encode(moved), 6)
        assert await u.write_isr("t", 0, PartitionState(0, 3, (0,), 1, 5)) is None

    asyncio.run(scenario())


def test_notifications_linger_then_go_out_together() -> None:
    znodes, clock = Znodes(), MockClock()
    for p in range(3):
        znodes.states[("t", p)] = (b"{}", 0)
    u = updater(znodes, clock)

    async def scenario() -> None:
        await u.write_isr("t", 0, PartitionState(0, 0, (0,), 1, 0))
        assert not await u.maybe_propagate_isr_changes()  # just changed: linger
        clock.advance(300)
        await u.write_isr("t", 2, PartitionState(0, 0, (0,), 1, 0))
        clock.advance(300)
        assert not await u.maybe_propagate_isr_changes()  # the second change restarted it
        clock.advance(200)
        assert await u.maybe_propagate_isr_changes()
        assert znodes.notifications == [
            b'{"version":1,"partitions":[{"topic":"t","partition":0},{"topic":"t","partition":2}]}'
        ]
        assert not await u.maybe_propagate_isr_changes()  # nothing left
        # A steady stream of changes still goes out after the max delay.
        for _ in range(30):
            clock.advance(200)
            u.record_isr_change("t", 1)
            if await u.maybe_propagate_isr_changes():
                break
        assert len(znodes.notifications) == 2

    asyncio.run(scenario())
