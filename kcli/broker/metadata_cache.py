"""The broker's view of the cluster: live brokers, topics, partition states, controller.

Kafka fills its MetadataCache from the controller's UpdateMetadata requests; kcli fills it
from those and from ZooKeeper watches (kcli.broker.controller.metadata_sync), whichever comes
first, never letting an older partition state replace a newer one. Handlers only read it.
`generation` moves on every change so encoded responses can be cached.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

ZERO_UUID = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    listener_name: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    id: int
    endpoints: tuple[BrokerEndpoint, ...]
    rack: str | None = None

    def endpoint(self, listener_name: str) -> BrokerEndpoint | None:
        return next((e for e in self.endpoints if e.listener_name == listener_name), None)


@dataclass(frozen=True, slots=True)
class PartitionState:
    """/brokers/topics/<t>/partitions/<p>/state; zk_version is the partition epoch."""

    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    controller_epoch: int
    zk_version: int = 0


@dataclass(frozen=True, slots=True)
class TopicInfo:
    name: str
    topic_id: uuid.UUID
    assignment: dict[int, tuple[int, ...]]  # partition -> replicas, preferred leader first
    states: dict[int, PartitionState] = field(default_factory=dict)


class MetadataCache:
    def __init__(self) -> None:
        self.cluster_id: str | None = None
        self.controller_id = -1
        self.brokers: dict[int, BrokerInfo] = {}
        self.topics: dict[str, TopicInfo] = {}
        self.generation = 0
        # Encoded Metadata response bodies for the current generation (Metadata is asked for on
        # every client start and refresh; kio's encoder costs ~1-2 ms for a mid-size cluster).
        self.encoded: dict[tuple[object, ...], tuple[bytes, int]] = {}
        self._change: asyncio.Event | None = None  # set (and dropped) on the next change

    def _changed(self) -> None:
        self.generation += 1
        self.encoded.clear()
        if self._change is not None:
            self._change.set()
            self._change = None

    async def wait_for_change(self) -> None:
        """Until the cache next changes; admin requests wait (under their own timeout) for
        the controller's work to show."""
        if self._change is None:
            self._change = asyncio.Event()
        await self._change.wait()

    def set_controller(self, broker_id: int) -> None:
        if broker_id != self.controller_id:
            self.controller_id = broker_id
            self._changed()

    def set_broker(self, info: BrokerInfo) -> None:
        if self.brokers.get(info.id) != info:
            self.brokers[info.id] = info
            self._changed()

    def remove_broker(self, broker_id: int) -> None:
        if self.brokers.pop(broker_id, None) is not None:
            self._changed()

    def set_topic(self, topic: TopicInfo) -> None:
        if self.topics.get(topic.name) != topic:
            self.topics[topic.name] = topic
            self._changed()

    def remove_topic(self, name: str) -> None:
        if self.topics.pop(name, None) is not None:
            self._changed()

    def set_partition_state(self, topic: str, partition: int, state: PartitionState | None) -> None:
        info = self.topics.get(topic)
        if info is None or info.states.get(partition) == state:
            return
        states = dict(info.states)
        if state is None:
            states.pop(partition, None)
        else:
            states[partition] = state
        self.topics[topic] = TopicInfo(info.name, info.topic_id, info.assignment, states)
        self._changed()

    def set_partition_state_if_newer(
        self, topic: str, partition: int, state: PartitionState
    ) -> None:
        """UpdateMetadata's rule here: a state from the controller is applied unless the cache
        already holds a newer one (leader epoch, then partition epoch) read from ZooKeeper."""
        info = self.topics.get(topic)
        old = info.states.get(partition) if info is not None else None
        if old is None or (state.leader_epoch, state.zk_version) >= (
            old.leader_epoch, old.zk_version,
        ):  # fmt: skip
            self.set_partition_state(topic, partition, state)

    def alive_brokers(self) -> list[BrokerInfo]:
        return [self.brokers[b] for b in sorted(self.brokers)]
