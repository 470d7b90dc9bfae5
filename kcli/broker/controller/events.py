"""Controller events (Kafka's ControllerEvent family). ZooKeeper watches only enqueue; the
controller's single task takes events off its queue one at a time and acts on them.

`event_for` maps a fired watch to the event Kafka's ZNodeChangeHandlers would raise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from kcli.broker.controller.zk import ZkEvent
from kcli.broker.controller.znodes import (
    BrokerIdsZNode,
    ConfigEntityChangeNotificationZNode,
    DeleteTopicsZNode,
    IsrChangeNotificationZNode,
    TopicsZNode,
)


@dataclass(frozen=True, slots=True)
class ControllerEvent:
    """Base of every event; `name` is Kafka's ControllerState for log lines."""

    @property
    def name(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, slots=True)
class Startup(ControllerEvent):
    """This broker just won the election (onControllerFailover)."""


@dataclass(frozen=True, slots=True)
class BrokerChange(ControllerEvent):
    """Children of /brokers/ids changed: brokers started or died."""


@dataclass(frozen=True, slots=True)
class TopicChange(ControllerEvent):
    """Children of /brokers/topics changed: topics created (or removed)."""


@dataclass(frozen=True, slots=True)
class PartitionModifications(ControllerEvent):
    """Data of /brokers/topics/<topic> changed: partitions added."""

    topic: str


@dataclass(frozen=True, slots=True)
class TopicDeletion(ControllerEvent):
    """Children of /admin/delete_topics changed: deletions requested."""


@dataclass(frozen=True, slots=True)
class TopicDeletionStopped(ControllerEvent):
    """Every replica of a topic being deleted answered StopReplica (`ok`: all succeeded)."""

    topic: str
    ok: bool


@dataclass(frozen=True, slots=True)
class IsrChangeNotification(ControllerEvent):
    """Children of /isr_change_notification: leaders changed ISRs in ZooKeeper themselves."""


@dataclass(frozen=True, slots=True)
class TopicConfigChange(ControllerEvent):
    """A config change notification: a topic may now allow unclean leader election, so
    offline partitions are tried again (Kafka's TopicUncleanLeaderElectionEnable)."""


@dataclass(frozen=True, slots=True)
class ControlledShutdown(ControllerEvent):
    """A broker about to stop asks to have leadership moved off it; the answer (partitions it
    still leads, or a ControllerApiError) goes to `result`."""

    broker_id: int
    broker_epoch: int
    result: asyncio.Future[list[tuple[str, int]]] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ElectLeaders(ControllerEvent):
    """ElectLeaders from an admin client: `election_type` 0 preferred, 1 unclean; partitions
    None means all. The answer (TopicPartition -> (error, message)) goes to `result`."""

    election_type: int
    partitions: list[tuple[str, int]] | None
    result: asyncio.Future[dict[tuple[str, int], tuple[Any, str | None]]] = field(
        compare=False, repr=False
    )


@dataclass(frozen=True, slots=True)
class AutoLeaderRebalance(ControllerEvent):
    """The periodic imbalance check (auto.leader.rebalance.enable)."""


@dataclass(frozen=True, slots=True)
class Reconnected(ControllerEvent):
    """The ZooKeeper connection came back: re-read everything, since a read that failed
    while it was down left its watch unset."""


def event_for(event: ZkEvent) -> ControllerEvent | None:
    """The controller event a fired watch stands for, or None when it is not the controller's."""
    path = event.path
    if event.type == "SESSION":
        return Reconnected() if path == "CONNECTED" else None
    if path == BrokerIdsZNode.path:
        return BrokerChange()
    if path == TopicsZNode.path:
        return TopicChange()
    if path == DeleteTopicsZNode.path:
        return TopicDeletion()
    if path == IsrChangeNotificationZNode.path:
        return IsrChangeNotification()
    if path == ConfigEntityChangeNotificationZNode.path:
        return TopicConfigChange()
    prefix = TopicsZNode.path + "/"
    if path.startswith(prefix) and "/" not in path[len(prefix) :]:
        return PartitionModifications(path[len(prefix) :])
    return None
