"""Group states and their allowed transitions (Kafka's ClassicGroupState), as data.

Every transition goes through `check_transition`, which refuses any move the VALID_PREVIOUS
table does not list: a bug in the coordinator shows up as an IllegalStateError at once rather
than as a group stuck in a state no client can leave.
"""

from __future__ import annotations

from enum import Enum


class GroupState(Enum):
    """A state's value is Kafka's name for it (DescribeGroups, ListGroups); its docstring says
    what the coordinator does in it (action) and where it may go (transition)."""

    def __new__(cls, value: str, doc: str) -> GroupState:
        member = object.__new__(cls)
        member._value_ = value
        member.__doc__ = doc
        return member

    EMPTY = (
        "Empty",
        """No members; offsets may remain (and expire by offsets.retention.minutes).

    action: answer JoinGroup by starting a rebalance (after group.initial.rebalance.delay.ms),
            accept simple OffsetCommits (generation -1), DeleteGroups, OffsetDelete
    transition: a member joins -> PreparingRebalance; group and offsets removed -> Dead
    """,
    )
    PREPARING_REBALANCE = (
        "PreparingRebalance",
        """Waiting for every known member to (re)join, bounded by the rebalance timeout.

    action: park JoinGroup responses; Heartbeat answers REBALANCE_IN_PROGRESS; SyncGroup
            answers REBALANCE_IN_PROGRESS; commits of the current generation are accepted
    transition: all joined / timeout with members -> CompletingRebalance (generation + 1);
                timeout with no members -> Empty; group deleted -> Dead
    """,
    )
    COMPLETING_REBALANCE = (
        "CompletingRebalance",
        """Join responses sent; waiting for the leader's SyncGroup with the assignment.

    action: park followers' SyncGroup; OffsetCommit answers REBALANCE_IN_PROGRESS
    transition: leader's SyncGroup -> Stable; a member joins, leaves or expires ->
                PreparingRebalance; group deleted -> Dead
    """,
    )
    STABLE = (
        "Stable",
        """Assignment distributed; members heartbeat and commit.

    action: answer SyncGroup with the member's assignment; Heartbeat NONE
    transition: a member joins, leaves, expires, or the leader rejoins -> PreparingRebalance;
                group deleted -> Dead
    """,
    )
    DEAD = (
        "Dead",
        """Removed (deleted, expired, or its partition moved away); no operation succeeds.

    action: answer COORDINATOR_NOT_AVAILABLE / GROUP_ID_NOT_FOUND; never leaves this state
    """,
    )


VALID_PREVIOUS: dict[GroupState, frozenset[GroupState]] = {
    GroupState.EMPTY: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.PREPARING_REBALANCE: frozenset(
        {GroupState.STABLE, GroupState.COMPLETING_REBALANCE, GroupState.EMPTY}
    ),
    GroupState.COMPLETING_REBALANCE: frozenset({GroupState.PREPARING_REBALANCE}),
    GroupState.STABLE: frozenset({GroupState.COMPLETING_REBALANCE}),
    GroupState.DEAD: frozenset(
        {
            GroupState.STABLE,
            GroupState.PREPARING_REBALANCE,
            GroupState.COMPLETING_REBALANCE,
            GroupState.EMPTY,
            GroupState.DEAD,
        }
    ),
}


class IllegalStateError(RuntimeError):
    """A transition the table does not allow (a coordinator bug, never a client error)."""


def check_transition(group_id: str, current: GroupState, target: GroupState) -> None:
    if current not in VALID_PREVIOUS[target]:
        allowed = " or ".join(sorted(s.value for s in VALID_PREVIOUS[target]))
        raise IllegalStateError(
            f"Group {group_id} should be in the {allowed} states before moving to "
            f"{target.value} state. Instead it is in {current.value} state"
        )


def state_by_name(name: str) -> GroupState | None:
    """ListGroups' states filter is case-insensitive (Kafka's ClassicGroupState.parse)."""
    for state in GroupState:
        if state.value.lower() == name.lower():
            return state
    return None
