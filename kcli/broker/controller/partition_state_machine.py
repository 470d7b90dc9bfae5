"""The controller's leader decisions, as pure functions (Kafka's PartitionStateMachine and
Election.scala). No I/O: the controller reads ZooKeeper, asks these, then writes the answer.

States a partition moves through (PartitionStateMachine.scala):

    NonExistent -> New -> Online <-> Offline -> NonExistent (deleted)

New partitions get leader = first live replica in assignment order, ISR = the live replicas,
leader epoch 0 (`initializeLeaderAndIsrForPartitions`). An Online partition whose leader died
goes Offline and is elected again: the first replica in assignment order that is alive and in
the ISR; with none, the first live replica only when unclean leader election is enabled
(`offlinePartitionLeaderElection`). Each new leader bumps the leader epoch.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from enum import Enum

from kcli.broker.metadata_cache import PartitionState

NO_LEADER = -1
LEADER_DURING_DELETE = -2  # UpdateMetadata's leader for partitions of a topic being deleted


class PartitionStatus(Enum):
    NON_EXISTENT = "NonExistentPartition"
    NEW = "NewPartition"
    ONLINE = "OnlinePartition"
    OFFLINE = "OfflinePartition"


# Kafka's validPreviousStates, keyed by target state.
VALID_PREVIOUS: dict[PartitionStatus, frozenset[PartitionStatus]] = {
    PartitionStatus.NEW: frozenset({PartitionStatus.NON_EXISTENT}),
    PartitionStatus.ONLINE: frozenset(
        {PartitionStatus.NEW, PartitionStatus.ONLINE, PartitionStatus.OFFLINE}
    ),
    PartitionStatus.OFFLINE: frozenset(
        {PartitionStatus.NEW, PartitionStatus.ONLINE, PartitionStatus.OFFLINE}
    ),
    PartitionStatus.NON_EXISTENT: frozenset({PartitionStatus.OFFLINE}),
}


def check_transition(current: PartitionStatus, target: PartitionStatus) -> bool:
    return current in VALID_PREVIOUS[target]


def initial_leader_and_isr(
    replicas: Sequence[int], live: Collection[int], controller_epoch: int
) -> PartitionState | None:
    """State for a new partition, or None when no replica is alive (it stays New and is
    retried when brokers change)."""
    live_replicas = tuple(r for r in replicas if r in live)
    if not live_replicas:
        return None
    return PartitionState(
        leader=live_replicas[0],
        leader_epoch=0,
        isr=live_replicas,
        controller_epoch=controller_epoch,
        zk_version=0,
    )


def offline_leader_election(
    replicas: Sequence[int],
    current: PartitionState,
    live: Collection[int],
    controller_epoch: int,
    unclean: bool = False,
) -> PartitionState | None:
    """A new leader for a partition whose leader is gone, or None if it must stay offline.

    Clean: first replica in assignment order that is alive and in the ISR; the ISR shrinks to
    its live members. Unclean (allowed only by `unclean.leader.election.enable`): first live
    replica, ISR = [it]. The leader epoch goes up by one either way.
    """
    isr_live = [r for r in replicas if r in live and r in current.isr]
    if isr_live:
        leader = isr_live[0]
        isr = tuple(r for r in current.isr if r in live)
    elif unclean:
        candidates = [r for r in replicas if r in live]
        if not candidates:
            return None
        leader, isr = candidates[0], (candidates[0],)
    else:
        return None
    return replace(
        current, leader=leader, leader_epoch=current.leader_epoch + 1, isr=isr,
        controller_epoch=controller_epoch,
    )  # fmt: skip


def controlled_shutdown_leader_election(
    replicas: Sequence[int],
    current: PartitionState,
    live: Collection[int],
    shutting_down: Collection[int],
    controller_epoch: int,
) -> PartitionState | None:
    """A new leader for a partition whose leader is shutting down (Kafka's
    ControlledShutdownPartitionLeaderElectionStrategy): the first replica in assignment
    order that is alive, in the ISR and not shutting down; the ISR loses the brokers shutting
    down. None when there is no such replica (the partition stays with its leader)."""
    candidates = [r for r in replicas if r in current.isr and r in live and r not in shutting_down]
    if not candidates:
        return None
    return replace(
        current, leader=candidates[0], leader_epoch=current.leader_epoch + 1,
        isr=tuple(r for r in current.isr if r not in shutting_down),
        controller_epoch=controller_epoch,
    )  # fmt: skip


def preferred_replica_election(
    replicas: Sequence[int],
    current: PartitionState,
    live: Collection[int],
    controller_epoch: int,
) -> PartitionState | None:
    """The preferred replica (first in assignment order) as leader, if it is alive and in the
    ISR (Kafka's PreferredReplicaPartitionLeaderElectionStrategy); the ISR is kept, the leader
    epoch goes up. None when it cannot lead or already does."""
    if not replicas:
        return None
    preferred = replicas[0]
    if preferred == current.leader or preferred not in live or preferred not in current.isr:
        return None
    return replace(
        current, leader=preferred, leader_epoch=current.leader_epoch + 1,
        controller_epoch=controller_epoch,
    )  # fmt: skip


def imbalanced_partitions(
    assignments: dict[str, dict[int, tuple[int, ...]]],
    leaders: dict[tuple[str, int], int],
    electable: Collection[int],
    percentage: int,
    skip_topics: Collection[str] = (),
) -> list[tuple[str, int]]:
    """Kafka's checkAndTriggerAutoLeaderRebalance: for each preferred broker, the share of its
    partitions led by someone else; over `percentage` %, those of them whose preferred broker
    is alive (and not shutting down) are due a preferred election."""
    by_preferred: dict[int, list[tuple[str, int]]] = {}
    for topic, partitions in sorted(assignments.items()):
        if topic in skip_topics:
            continue
        for p, replicas in sorted(partitions.items()):
            if replicas:
                by_preferred.setdefault(replicas[0], []).append((topic, p))
    due: list[tuple[str, int]] = []
    for broker, owned in sorted(by_preferred.items()):
        elsewhere = [tp for tp in owned if leaders.get(tp, -1) != broker]
        if len(elsewhere) / len(owned) > percentage / 100 and broker in electable:
            due.extend(elsewhere)
    return due


def remove_replicas_from_isr(
    current: PartitionState, replicas: Collection[int], controller_epoch: int
) -> PartitionState:
    """OfflineReplica: drop dead replicas from the ISR (leader -1 if one of them led), leader
    epoch + 1. The last ISR member is kept, so a clean election can pick it when it returns
    (Kafka's behaviour)."""
    leader = NO_LEADER if current.leader in replicas else current.leader
    isr = tuple(r for r in current.isr if r not in replicas) or current.isr
    return replace(
        current, leader=leader, leader_epoch=current.leader_epoch + 1, isr=isr,
        controller_epoch=controller_epoch,
    )  # fmt: skip


def needs_election(state: PartitionState | None, live: Collection[int]) -> bool:
    """Offline: a state exists but its leader is not a live broker."""
    return state is not None and state.leader not in live
