"""The group state table: every transition is checked, and only Kafka's are allowed."""

from __future__ import annotations

import itertools

import pytest

from kcli.broker.group.group import Group
from kcli.broker.group.state import (
    VALID_PREVIOUS,
    GroupState,
    IllegalStateError,
    check_transition,
    state_by_name,
)

S = GroupState

KAFKA_TRANSITIONS = {
    (S.EMPTY, S.PREPARING_REBALANCE),
    (S.STABLE, S.PREPARING_REBALANCE),
    (S.COMPLETING_REBALANCE, S.PREPARING_REBALANCE),
    (S.PREPARING_REBALANCE, S.COMPLETING_REBALANCE),
    (S.COMPLETING_REBALANCE, S.STABLE),
    (S.PREPARING_REBALANCE, S.EMPTY),
    *((s, S.DEAD) for s in GroupState),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(GroupState, GroupState)))
def test_every_pair_is_checked_against_the_table(current: GroupState, target: GroupState) -> None:
    allowed = (current, target) in KAFKA_TRANSITIONS
    assert (current in VALID_PREVIOUS[target]) == allowed
    if allowed:
        check_transition("g", current, target)
    else:
        with pytest.raises(IllegalStateError, match=f"Instead it is in {current.value} state"):
            check_transition("g", current, target)


def test_group_transition_goes_through_the_table() -> None:
    group = Group("g", 0)
    with pytest.raises(IllegalStateError):
        group.transition_to(S.STABLE, 1)
    assert group.state is S.EMPTY
    group.transition_to(S.PREPARING_REBALANCE, 5)
    assert (group.state, group.state_timestamp_ms) == (S.PREPARING_REBALANCE, 5)


def test_every_state_documents_action_and_transition() -> None:
    for state in GroupState:
        doc = state.__doc__ or ""
        assert "action:" in doc, state
        assert state is S.DEAD or "transition:" in doc, state


def test_state_names_parse_case_insensitively() -> None:
    assert state_by_name("stable") is S.STABLE
    assert state_by_name("COMPLETINGREBALANCE") is S.COMPLETING_REBALANCE
    assert state_by_name("nope") is None
