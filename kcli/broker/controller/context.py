"""ControllerContext: what the controller knows, rebuilt from ZooKeeper at every failover.

Live brokers and their epochs (czxid of /brokers/ids/<id>), each topic's assignment, each
partition's leader/ISR state with its zkVersion, topics queued for deletion and brokers in
controlled shutdown. Only the controller's event task reads or changes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kcli.broker.metadata_cache import PartitionState

TopicPartition = tuple[str, int]


class ControllerContext:
    def __init__(self) -> None:
        self.live_brokers: set[int] = set()
        self.broker_epochs: dict[int, int] = {}  # czxid of /brokers/ids/<id>
        self.assignments: dict[str, dict[int, tuple[int, ...]]] = {}
        self.states: dict[TopicPartition, PartitionState] = {}
        self.topics_to_delete: set[str] = set()
        self.deletions_in_flight: set[str] = set()  # StopReplica sent, answers pending
        self.shutting_down: set[int] = set()  # controlled shutdown asked; never elected

    @property
    def electable(self) -> set[int]:
        return self.live_brokers - self.shutting_down

    def partitions(self, topics: Iterable[str] | None = None) -> list[TopicPartition]:
        names = sorted(self.assignments) if topics is None else sorted(topics)
        return [(t, p) for t in names for p in sorted(self.assignments.get(t, {}))]

    def replicas(self, tp: TopicPartition) -> tuple[int, ...]:
        return self.assignments.get(tp[0], {}).get(tp[1], ())

    def remove_topic(self, topic: str) -> None:
        for p in self.assignments.pop(topic, {}):
            self.states.pop((topic, p), None)
        self.topics_to_delete.discard(topic)
        self.deletions_in_flight.discard(topic)
