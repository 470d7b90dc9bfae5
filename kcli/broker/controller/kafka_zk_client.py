"""Kafka's ZooKeeper operations for one broker (KafkaZkClient.scala): persistent paths, cluster
id, broker id generation, broker registration and the controller election.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from kcli.broker.controller.zk import BadVersion, NodeExists, NoNode, Op, ZkClient
from kcli.broker.controller.znodes import (
    PERSISTENT_PATHS,
    BrokerIdZNode,
    BrokerRegistration,
    BrokerSequenceIdZNode,
    ClusterIdZNode,
    ConfigEntityZNode,
    ControllerEpochZNode,
    ControllerZNode,
    DeleteTopicsTopicZNode,
    IsrChangeNotificationSequenceZNode,
    IsrChangeNotificationZNode,
    TopicAssignment,
    TopicPartitionStateZNode,
    TopicPartitionsZNode,
    TopicPartitionZNode,
    TopicZNode,
)
from kcli.broker.metadata_cache import PartitionState
from kcli.errors import TerseError

log = logging.getLogger("kafka.zk.KafkaZkClient")

MULTI_CHUNK = 500  # partitions per multi (two creates each; well under jute.maxbuffer)


class ControllerMovedError(Exception):
    """The /controller_epoch check of a controller write failed: another broker leads now
    (Kafka's ControllerMovedException); the writer must resign."""


@dataclass(frozen=True, slots=True)
class ControllerElection:
    """Outcome of one election attempt: who leads, and (if we won) our epoch and its zkVersion."""

    controller_id: int
    epoch: int = -1
    epoch_zk_version: int = -1


class KafkaZkClient:
    def __init__(self, zk: ZkClient) -> None:
        self.zk = zk

    async def create_top_level_paths(self) -> None:
        for path in PERSISTENT_PATHS:
            if await self.zk.exists(path) is None:
                with contextlib.suppress(NodeExists):  # another broker made it first
                    await self.zk.ensure_path(path)

    async def get_or_create_cluster_id(self) -> str:
        found = await self.zk.get(ClusterIdZNode.path)
        if found is not None:
            return ClusterIdZNode.decode(found[0])
        proposed = ClusterIdZNode.new_id()
        await self.zk.ensure_path("/cluster")
        try:
            await self.zk.create(ClusterIdZNode.path, ClusterIdZNode.encode(proposed))
        except NodeExists:  # lost the race; the winner's id stands
            found = await self.zk.get(ClusterIdZNode.path)
            assert found is not None
            return ClusterIdZNode.decode(found[0])
        return proposed

    async def generate_broker_id(self, reserved_max_id: int) -> int:
        """broker.id.generation.enable: each setData on /brokers/seqid bumps its version."""
        stat = await self.zk.set(BrokerSequenceIdZNode.path, b"")
        return reserved_max_id + stat.version

    async def register_broker(self, registration: BrokerRegistration) -> int:
        """Create the ephemeral /brokers/ids/<id>; returns the broker epoch (its czxid).

        Kafka's CheckedEphemeral: an existing node owned by this session (a retry) is kept;
        one owned by another session means the id is taken.
        """
        path = BrokerIdZNode.path(registration.broker_id)
        data = BrokerIdZNode.encode(registration)
        try:
            await self.zk.multi(
                [Op("create", path, b"", ephemeral=True), Op("set", path, data, version=0)]
            )
        except NodeExists:
            stat = await self.zk.exists(path)
            if stat is None or stat.ephemeral_owner != self.zk.session_id:
                owner = stat.ephemeral_owner if stat is not None else 0
                raise TerseError(
                    f"Error while creating ephemeral at {path}, node already exists and owner "
                    f"'{owner}' does not match current session '{self.zk.session_id}'"
                ) from None
        stat = await self.zk.exists(path)
        assert stat is not None
        log.info(
            "Registered broker %d at path %s with addresses: %s, czxid (broker epoch): %d",
            registration.broker_id,
            path,
            ",".join(f"{e[0]}://{e[2]}:{e[3]}" for e in registration.endpoints),
            stat.czxid,
        )
        return stat.czxid

    async def get_controller_id(self, watch: bool = False) -> int:
        """The controller's broker id, -1 when there is none; `watch` sets an exists-watch."""
        if watch:  # an exists-watch fires on creation, change and deletion
            await self.zk.exists(ControllerZNode.path, watch=True)
        found = await self.zk.get(ControllerZNode.path)
        return ControllerZNode.decode(found[0]) if found is not None else -1

    async def elect(self, broker_id: int, now_ms: int) -> ControllerElection:
        """KafkaController.elect: create /controller and bump /controller_epoch atomically."""
        current = await self.get_controller_id(watch=True)
        if current != -1:
            return ControllerElection(current)
        found = await self.zk.get(ControllerEpochZNode.path)
        if found is None:
            with contextlib.suppress(NodeExists):
                await self.zk.create(ControllerEpochZNode.path, ControllerEpochZNode.encode(0))
            found = await self.zk.get(ControllerEpochZNode.path)
            assert found is not None
        epoch, stat = ControllerEpochZNode.decode(found[0]), found[1]
        try:
            await self.zk.multi(
                [
                    Op(
                        "create",
                        ControllerZNode.path,
                        ControllerZNode.encode(broker_id, now_ms),
                        ephemeral=True,
                    ),
                    Op(
                        "set",
                        ControllerEpochZNode.path,
                        ControllerEpochZNode.encode(epoch + 1),
                        version=stat.version,
                    ),
                ]
            )
        except (NodeExists, BadVersion, NoNode):
            return ControllerElection(await self.get_controller_id(watch=True))
        log.info("%d successfully elected as the controller. Epoch incremented to %d", broker_id,
                 epoch + 1)  # fmt: skip
        return ControllerElection(broker_id, epoch + 1, stat.version + 1)

    # --- controller writes: each wrapped in a check of /controller_epoch's zkVersion ---------
    async def checked_multi(self, epoch_zk_version: int, ops: list[Op]) -> None:
        """multi(check(/controller_epoch, epochZkVersion), ops...) as Kafka's
        wrapRequestWithControllerEpochCheck; a failed check raises ControllerMovedError."""
        try:
            await self.zk.multi([Op("check", ControllerEpochZNode.path, version=epoch_zk_version),
                                 *ops])  # fmt: skip
        except (BadVersion, NoNode) as exc:
            if exc.path == ControllerEpochZNode.path:
                raise ControllerMovedError(
                    f"Controller epoch zkVersion check fails. Expected zkVersion = "
                    f"{epoch_zk_version}"
                ) from None
            raise

    async def get_topic_assignment(self, topic: str, watch: bool = False) -> TopicAssignment | None:
        found = await self.zk.get(TopicZNode.path(topic), watch=watch)
        if found is None or not found[0]:
            return None
        try:
            return TopicZNode.decode(found[0])
        except (ValueError, KeyError, TypeError):
            log.warning("Ignoring topic %s: unreadable assignment %r", topic, found[0][:200])
            return None

    async def get_partition_state(self, topic: str, partition: int) -> PartitionState | None:
        found = await self.zk.get(TopicPartitionStateZNode.path(topic, partition))
        if found is None or not found[0]:
            return None
        try:
            return TopicPartitionStateZNode.decode(found[0], found[1].version)
        except (ValueError, KeyError, TypeError):
            return None

    async def create_partition_state(
        self, epoch_zk_version: int, topic: str, partition: int, state: PartitionState
    ) -> PartitionState:
        """Create `/partitions`, `/partitions/<p>` and `/partitions/<p>/state` (each missing
        one), all under the epoch check; returns the state as stored (an existing state znode,
        left by an earlier controller, wins)."""
        with contextlib.suppress(NodeExists):
            await self.checked_multi(epoch_zk_version,
                                     [Op("create", TopicPartitionsZNode.path(topic))])  # fmt: skip
        state_op = Op("create", TopicPartitionStateZNode.path(topic, partition),
                      TopicPartitionStateZNode.encode(state))  # fmt: skip
        try:
            await self.checked_multi(
                epoch_zk_version,
                [Op("create", TopicPartitionZNode.path(topic, partition)), state_op],
            )
        except NodeExists as exc:
            if exc.path != TopicPartitionZNode.path(topic, partition):
                raise
            try:
                await self.checked_multi(epoch_zk_version, [state_op])
            except NodeExists:
                existing = await self.get_partition_state(topic, partition)
                if existing is not None:
                    return existing
                raise
        return state

    async def create_partition_states(
        self, epoch_zk_version: int, topic: str, states: dict[int, PartitionState]
    ) -> dict[int, PartitionState]:
        """Many new partitions of one topic in few round trips: one multi per chunk creating
        `/partitions/<p>` and its `/state`; a chunk that meets an existing znode falls back to
        one partition at a time."""
        with contextlib.suppress(NodeExists):
            await self.checked_multi(epoch_zk_version,
                                     [Op("create", TopicPartitionsZNode.path(topic))])  # fmt: skip
        stored: dict[int, PartitionState] = {}
        items = sorted(states.items())
        for start in range(0, len(items), MULTI_CHUNK):
            chunk = items[start : start + MULTI_CHUNK]
            ops: list[Op] = []
            for p, state in chunk:
                ops.append(Op("create", TopicPartitionZNode.path(topic, p)))
                ops.append(Op("create", TopicPartitionStateZNode.path(topic, p),
                              TopicPartitionStateZNode.encode(state)))  # fmt: skip
            try:
                await self.checked_multi(epoch_zk_version, ops)
                stored.update(chunk)
            except NodeExists:
                for p, state in chunk:
                    stored[p] = await self.create_partition_state(epoch_zk_version, topic, p, state)
        return stored

    async def update_partition_state(
        self, epoch_zk_version: int, topic: str, partition: int, state: PartitionState
    ) -> PartitionState:
        """Conditional setData on the state znode (version = the partition epoch we read);
        BadVersion means someone else changed it. Returns the state with its new zkVersion."""
        path = TopicPartitionStateZNode.path(topic, partition)
        await self.checked_multi(epoch_zk_version, [
            Op("set", path, TopicPartitionStateZNode.encode(state), version=state.zk_version)
        ])  # fmt: skip
        return PartitionState(state.leader, state.leader_epoch, state.isr,
                              state.controller_epoch, state.zk_version + 1)  # fmt: skip

    # --- a leader's own ISR updates (ReplicationUtils / ZkAlterPartitionManager, IBP < 2.7) --
    async def update_leader_and_isr(
        self, topic: str, partition: int, state: PartitionState
    ) -> PartitionState | None:
        """Conditional setData of the state znode by the partition's leader, expecting
        `state.zk_version`; the stored state with its new version, or None when the znode
        changed meanwhile (the leader re-reads and decides again)."""
        path = TopicPartitionStateZNode.path(topic, partition)
        try:
            stat = await self.zk.set(path, TopicPartitionStateZNode.encode(state),
                                     version=state.zk_version)  # fmt: skip
        except BadVersion:
            return None
        return PartitionState(state.leader, state.leader_epoch, state.isr,
                              state.controller_epoch, stat.version)  # fmt: skip

    async def propagate_isr_changes(self, partitions: list[tuple[str, int]]) -> None:
        """Tell the controller which partitions' ISR changed (a sequential notification)."""
        await self.zk.create(
            IsrChangeNotificationSequenceZNode.sequence_prefix,
            IsrChangeNotificationSequenceZNode.encode(partitions),
            sequence=True,
        )

    async def take_isr_change_notifications(self, epoch_zk_version: int) -> set[tuple[str, int]]:
        """The controller's side: every pending notification's partitions; the notification
        znodes are deleted (under the epoch check). Re-arms the child watch."""
        names = await self.zk.get_children(IsrChangeNotificationZNode.path, watch=True) or []
        partitions: set[tuple[str, int]] = set()
        for name in names:
            path = f"{IsrChangeNotificationZNode.path}/{name}"
            found = await self.zk.get(path)
            if found is not None:
                try:
                    partitions.update(IsrChangeNotificationSequenceZNode.decode(found[0]))
                except (ValueError, KeyError, TypeError):
                    log.warning("Ignoring unreadable ISR change notification %s", path)
            with contextlib.suppress(NoNode):
                await self.checked_multi(epoch_zk_version, [Op("delete", path)])
        return partitions

    async def delete_topic(self, epoch_zk_version: int, topic: str) -> None:
        """TopicDeletionManager's last step: `/brokers/topics/<t>` recursively, then
        `/config/topics/<t>`, then `/admin/delete_topics/<t>`, each under the epoch check."""
        nodes = await self._subtree(TopicZNode.path(topic))
        if nodes:
            await self.checked_multi(epoch_zk_version, [Op("delete", p) for p in nodes])
        for path in (ConfigEntityZNode.path("topics", topic), DeleteTopicsTopicZNode.path(topic)):
            with contextlib.suppress(NoNode):
                await self.checked_multi(epoch_zk_version, [Op("delete", path)])

    async def delete_deletion_marker(self, epoch_zk_version: int, topic: str) -> None:
        with contextlib.suppress(NoNode):
            await self.checked_multi(
                epoch_zk_version, [Op("delete", DeleteTopicsTopicZNode.path(topic))]
            )

    async def _subtree(self, path: str) -> list[str]:
        """Every znode under `path` and `path` itself, children before parents."""
        children = await self.zk.get_children(path)
        if children is None:
            return []
        result: list[str] = []
        for child in children:
            result.extend(await self._subtree(f"{path}/{child}"))
        result.append(path)
        return result

    async def get_topic_config(self, topic: str) -> dict[str, str]:
        found = await self.zk.get(ConfigEntityZNode.path("topics", topic))
        try:
            return ConfigEntityZNode.decode(found[0] if found is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("Ignoring unreadable config of topic %s", topic)
            return {}
