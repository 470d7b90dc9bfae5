"""ControllerChannelManager: how the controller's decisions reach brokers.

Kafka sends LeaderAndIsr, UpdateMetadata and StopReplica requests to every live broker,
itself included. Here the controller's own broker is told directly, through its
ReplicaManager (`LocalReplicas`); other brokers through a `RemoteSender` (the inter-broker
wire path, issue 5). Without one, only the controller's own broker acts on the decisions,
which is exactly right for a one-broker cluster; other brokers still see the new leaders
through their ZooKeeper watches (metadata_sync) but do not open their replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from kcli.broker.replica.state import PartitionState as LeaderAndIsrPartitionState

log = logging.getLogger("kafka.controller.ControllerChannelManager")

TopicPartition = tuple[str, int]


class LocalReplicas(Protocol):
    """The part of ReplicaManager the controller calls."""

    async def become_leader_or_follower(
        self,
        controller_id: int,
        controller_epoch: int,
        states: Sequence[LeaderAndIsrPartitionState],
        topic_configs: Mapping[str, Mapping[str, str]],
    ) -> dict[TopicPartition, int]: ...

    async def stop_replicas(
        self, controller_epoch: int, partitions: Sequence[TopicPartition], delete: bool
    ) -> dict[TopicPartition, int]: ...


class RemoteSender(Protocol):
    """Inter-broker requests to another broker; returns per-partition error codes."""

    async def leader_and_isr(
        self,
        broker_id: int,
        controller_id: int,
        controller_epoch: int,
        states: Sequence[LeaderAndIsrPartitionState],
    ) -> dict[TopicPartition, int]: ...

    async def stop_replica(
        self,
        broker_id: int,
        controller_id: int,
        controller_epoch: int,
        partitions: Sequence[TopicPartition],
        delete: bool,
    ) -> dict[TopicPartition, int]: ...


class ControllerChannelManager:
    def __init__(
        self,
        controller_id: int,
        local: LocalReplicas | None,
        remote: RemoteSender | None = None,
    ) -> None:
        self.controller_id = controller_id
        self.local = local
        self.remote = remote

    async def leader_and_isr(
        self,
        broker_id: int,
        controller_epoch: int,
        states: Sequence[LeaderAndIsrPartitionState],
        topic_configs: Mapping[str, Mapping[str, str]],
    ) -> dict[TopicPartition, int]:
        if not states:
            return {}
        log.debug("Sending LeaderAndIsr for %d partitions to broker %d", len(states), broker_id)
        if broker_id == self.controller_id:
            if self.local is None:
                return {}
            return await self.local.become_leader_or_follower(
                self.controller_id, controller_epoch, states, topic_configs
            )
        if self.remote is None:
            return {}
        return await self.remote.leader_and_isr(
            broker_id, self.controller_id, controller_epoch, states
        )

    async def stop_replica(
        self,
        broker_id: int,
        controller_epoch: int,
        partitions: Sequence[TopicPartition],
        delete: bool,
    ) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        if broker_id == self.controller_id:
            if self.local is None:
                return {}
            return await self.local.stop_replicas(controller_epoch, partitions, delete)
        if self.remote is None:
            return {}
        return await self.remote.stop_replica(
            broker_id, self.controller_id, controller_epoch, partitions, delete
        )
