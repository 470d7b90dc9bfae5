"""The coordinator's async shell over a real ReplicaManager and LogManager (temp dir, no
sockets): answers only after the records are in __consumer_offsets, timers on the loop,
unload when leadership goes, replay of the partition's log when it comes back."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from kcli.broker.config import from_properties
from kcli.broker.group.member import OffsetAndMetadata
from kcli.broker.group.requests import JoinRequest, SyncRequest, partition_for
from kcli.broker.group.runtime import OFFSETS_TOPIC, GroupCoordinatorRuntime
from kcli.broker.metadata_cache import MetadataCache, TopicInfo
from kcli.broker.replica.manager import ReplicaManager
from kcli.broker.replica.state import PartitionState
from kcli.clock import SYSTEM_CLOCK
from kcli.protocol.errors import ErrorCode
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

from .harness import subscription

PARTITIONS = 2
CONFIG = from_properties(
    {
        "zookeeper.connect": "127.0.0.1:2181",
        "offsets.topic.num.partitions": str(PARTITIONS),
        "group.initial.rebalance.delay.ms": "20",
    }
)


def leader_state(partition: int, leader: int, epoch: int) -> PartitionState:
    return PartitionState(OFFSETS_TOPIC, partition, 1, leader, epoch, (0,), epoch, (0, 1))


async def scenario(tmp_path: Path) -> None:
    logs = LogManager([tmp_path / "logs"], clock=SYSTEM_CLOCK)
    logs.startup()
    rm = ReplicaManager(0, logs, MetadataCache(), SYSTEM_CLOCK)
    runtime = GroupCoordinatorRuntime(CONFIG, rm, MetadataCache(), None, SYSTEM_CLOCK)
    runtime.start()
    try:
        group = "orders-app"
        home = runtime.partition_for(group)
        assert runtime.ownership_error(group) == ErrorCode.not_coordinator
        states = [leader_state(p, 0, 1) for p in range(PARTITIONS)]
        await rm.become_leader_or_follower(0, 1, states, {})
        for _ in range(100):
            if runtime.ownership_error(group) == ErrorCode.none:
                break
            await asyncio.sleep(0.01)
        assert runtime.ownership_error(group) == ErrorCode.none
        coordinator = runtime.coordinator

        join = JoinRequest(group, "", None, "consumer", [("range", subscription("t"))],
                           10_000, 10_000, "c", "/127.0.0.1", False)  # fmt: skip
        joined = await asyncio.wait_for(
            runtime.run(lambda token, now: coordinator.join_group(join, token, now)), 5
        )  # parked until the initial delay's timer fires on the loop
        assert (joined.error, joined.generation) == (ErrorCode.none, 1)
        member = joined.member_id
        sync = SyncRequest(group, 1, member, None, None, None, {member: b"plan"})
        synced = await runtime.run(lambda token, now: coordinator.sync_group(sync, token, now))
        assert synced.assignment == b"plan"
        committed = await runtime.run(
            lambda _t, now: coordinator.commit_offsets(
                group, member_id=member, instance_id=None, generation=1,
                offsets={("t", 0): OffsetAndMetadata(77, 2, "md")}, now=now,
            )
        )  # fmt: skip
        assert committed.partitions == {("t", 0): ErrorCode.none}
        partition = rm.get_partition(TopicPartition(OFFSETS_TOPIC, home))
        assert partition is not None
        assert partition.high_watermark == partition.log_end_offset == 2  # metadata + offset

        # Leadership moves away: the group is unloaded, its requests redirected.
        await rm.become_leader_or_follower(0, 1, [leader_state(home, 1, 2)], {})
        assert runtime.ownership_error(group) == ErrorCode.not_coordinator
        assert group not in coordinator.groups
        # ... and comes back: the partition's records are replayed.
        await rm.become_leader_or_follower(0, 1, [leader_state(home, 0, 3)], {})
        for _ in range(100):
            if runtime.ownership_error(group) == ErrorCode.none:
                break
            await asyncio.sleep(0.01)
        restored = coordinator.groups[group]
        assert restored.generation == 1 and restored.members[member].assignment == b"plan"
        assert coordinator.fetch_offsets(group, [("t", 0)]).offsets[("t", 0)] == (
            OffsetAndMetadata(77, 2, "md", restored.offsets[("t", 0)].commit_timestamp_ms)
        )
        beat = await runtime.run(lambda _t, now: coordinator.heartbeat(group, 1, member, None, now))
        assert beat.error == ErrorCode.none
    finally:
        await runtime.stop()
        rm.shutdown()
        logs.shutdown()


def test_runtime_answers_after_append_and_reloads_on_leadership(tmp_path: Path) -> None:
    asyncio.run(scenario(tmp_path))


def test_groups_map_over_the_offsets_topics_actual_partition_count(tmp_path: Path) -> None:
    async def body() -> None:
        logs = LogManager([tmp_path / "logs"], clock=SYSTEM_CLOCK)
        logs.startup()
        metadata = MetadataCache()
        rm = ReplicaManager(0, logs, metadata, SYSTEM_CLOCK)
        runtime = GroupCoordinatorRuntime(CONFIG, rm, metadata, None, SYSTEM_CLOCK)
        try:
            metadata.set_topic(
                TopicInfo(OFFSETS_TOPIC, uuid.uuid4(), dict.fromkeys(range(7), (0,)))
            )
            runtime.coordinator_for("g")
            assert runtime.partition_for("g") == partition_for("g", 7)
        finally:
            await runtime.stop()
            rm.shutdown()
            logs.shutdown()

    asyncio.run(body())
