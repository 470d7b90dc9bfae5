"""ControllerChannelManager: how the controller's decisions reach brokers.

Kafka sends LeaderAndIsr, UpdateMetadata and StopReplica requests to every live broker,
itself included. Here the controller's own broker is told directly, through its
ReplicaManager (`LocalReplicas`), and its metadata cache follows ZooKeeper by itself
(metadata_sync); other brokers get the wire requests through a BrokerRequestSender (one queue
and connection per broker). LeaderAndIsr and UpdateMetadata are not waited for (their errors
are logged); StopReplica is, because topic deletion completes only when every replica has
stopped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kcli.broker.controller.broker_channel import BrokerRequestSender
from kcli.broker.replica.state import PartitionState as LeaderAndIsrPartitionState
from kcli.protocol import inter_broker as ib

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


class ControllerChannelManager:
    def __init__(
        self,
        controller_id: int,
        local: LocalReplicas | None,
        remote: BrokerRequestSender | None = None,
    ) -> None:
        self.controller_id = controller_id
        self.local = local
        self.remote = remote

    async def leader_and_isr(
        self,
        broker_id: int,
        controller_epoch: int,
        broker_epoch: int,
        states: Sequence[LeaderAndIsrPartitionState],
        topic_configs: Mapping[str, Mapping[str, str]],
    ) -> dict[TopicPartition, int]:
        """The local broker's per-partition errors; {} for a remote one (sent, not awaited)."""
        if not states:
            return {}
        log.debug("Sending LeaderAndIsr for %d partitions to broker %d", len(states), broker_id)
        if broker_id == self.controller_id:
            if self.local is None:
                return {}
            return await self.local.become_leader_or_follower(
                self.controller_id, controller_epoch, states, topic_configs
            )
        if self.remote is not None:
            sent = self.remote.leader_and_isr(broker_id, controller_epoch, broker_epoch, states)
            sent.add_done_callback(functools.partial(_log_errors, "LeaderAndIsr", broker_id))
        return {}

    async def stop_replica(
        self,
        broker_id: int,
        controller_epoch: int,
        broker_epoch: int,
        partitions: Sequence[TopicPartition],
        delete: bool,
    ) -> dict[TopicPartition, int]:
        """Per-partition errors; raises ConnectionError when a remote broker cannot answer."""
        if not partitions:
            return {}
        if broker_id == self.controller_id:
            if self.local is None:
                return {}
            return await self.local.stop_replicas(controller_epoch, partitions, delete)
        if self.remote is None:
            return {}
        return await self.remote.stop_replica(
            broker_id, controller_epoch, broker_epoch, partitions, delete
        )

    def update_metadata(
        self,
        brokers: Mapping[int, int],
        controller_epoch: int,
        states: Sequence[ib.UpdateMetadataTopicState],
    ) -> None:
        """UpdateMetadata to every other live broker (`brokers`: id -> broker epoch)."""
        if self.remote is None or not states:
            return
        for broker_id, broker_epoch in sorted(brokers.items()):
            if broker_id == self.controller_id:
                continue
            sent = self.remote.update_metadata(broker_id, controller_epoch, broker_epoch, states)
            sent.add_done_callback(functools.partial(_log_errors, "UpdateMetadata", broker_id))

    def remove_broker(self, broker_id: int) -> None:
        if self.remote is not None:
            self.remote.remove_broker(broker_id)

    async def close(self) -> None:
        if self.remote is not None:
            await self.remote.close()


def _log_errors(name: str, broker_id: int, future: asyncio.Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.warning("%s to broker %d failed: %s", name, broker_id, exc)
        return
    result = future.result()
    failed = {tp: e for tp, e in result.items() if e} if isinstance(result, dict) else {}
    if failed:
        log.warning("%s errors from broker %d: %s", name, broker_id, failed)
