"""Kafka's rack-unaware replica assignment: cli_anchors.md §2's worked examples."""

from __future__ import annotations

import random

import pytest

from kcli.protocol.assignment import (
    InvalidPartitionsError,
    InvalidReplicaAssignmentError,
    InvalidReplicationFactorError,
    assign_new_partitions,
    assign_replicas_to_brokers,
    validate_assignment,
)


class _Draws(random.Random):
    """Hands out fixed 'random' draws: startIndex first, then the replica shift."""

    def __init__(self, *draws: int) -> None:
        super().__init__(0)
        self._draws = list(draws)

    def randrange(self, *args: object, **kwargs: object) -> int:
        return self._draws.pop(0)


def _rows(assignment: dict[int, tuple[int, ...]]) -> list[str]:
    return [",".join(map(str, assignment[p])) for p in sorted(assignment)]


def test_kafka_2_0_sample_three_brokers_start_index_2_shift_0() -> None:
    # cli_anchors §2: startIndex=2, nextReplicaShift=0 -> 2,0,1 | 0,1,2 | 1,2,0 | 2,1,0 | ...
    got = assign_replicas_to_brokers([0, 1, 2], 13, 3, rng=_Draws(2, 0))
    assert _rows(got) == [
        "2,0,1", "0,1,2", "1,2,0", "2,1,0", "0,2,1", "1,0,2",
        "2,0,1", "0,1,2", "1,2,0", "2,1,0", "0,2,1", "1,0,2", "2,0,1",
    ]  # fmt: skip


def test_fixed_start_index_zero_and_one() -> None:
    assert _rows(assign_replicas_to_brokers([2, 0, 1], 7, 3, fixed_start_index=0)) == [
        "0,1,2", "1,2,0", "2,0,1", "0,2,1", "1,0,2", "2,1,0", "0,1,2",
    ]  # fmt: skip
    assert _rows(assign_replicas_to_brokers([0, 1, 2], 6, 3, fixed_start_index=1)) == [
        "1,0,2", "2,1,0", "0,2,1", "1,2,0", "2,0,1", "0,1,2",
    ]  # fmt: skip


def test_admin_rack_aware_test_reference() -> None:
    # AdminRackAwareTest.testReplicaAssignment: 5 brokers, 10 partitions, RF 3, start 0.
    got = assign_replicas_to_brokers([0, 1, 2, 3, 4], 10, 3, fixed_start_index=0)
    assert got == {
        0: (0, 1, 2), 1: (1, 2, 3), 2: (2, 3, 4), 3: (3, 4, 0), 4: (4, 0, 1),
        5: (0, 2, 3), 6: (1, 3, 4), 7: (2, 4, 0), 8: (3, 0, 1), 9: (4, 1, 2),
    }  # fmt: skip


def test_leader_never_repeats_in_followers_and_seeded_draws_repeat() -> None:
    for seed in range(20):
        a = assign_replicas_to_brokers([1, 5, 9, 12], 17, 3, rng=random.Random(seed))
        assert a == assign_replicas_to_brokers([12, 9, 5, 1], 17, 3, rng=random.Random(seed))
        assert all(len(set(r)) == 3 for r in a.values())


def test_errors_have_kafkas_messages() -> None:
    with pytest.raises(InvalidReplicationFactorError, match=r"^Replication factor: 3 larger "
                       r"than available brokers: 1\.$"):  # fmt: skip
        assign_replicas_to_brokers([0], 1, 3)
    with pytest.raises(InvalidPartitionsError, match=r"partitions must be larger than 0\."):
        assign_replicas_to_brokers([0], 0, 1)
    with pytest.raises(InvalidReplicationFactorError, match="must be larger than 0"):
        assign_replicas_to_brokers([0], 1, 0)


def test_add_partitions_continues_the_rotation() -> None:
    existing = assign_replicas_to_brokers([0, 1, 2], 3, 2, fixed_start_index=1)
    added = assign_new_partitions([0, 1, 2], existing, 6)
    # start index = position of partition 0's leader (1), first new id = 3
    assert added == assign_replicas_to_brokers(
        [0, 1, 2], 3, 2, fixed_start_index=1, start_partition_id=3
    )
    assert sorted(added) == [3, 4, 5]
    with pytest.raises(InvalidPartitionsError, match=r"^Topic already has 3 partitions\.$"):
        assign_new_partitions([0, 1, 2], existing, 3)
    with pytest.raises(
        InvalidPartitionsError,
        match=r"^Topic currently has 3 partitions, which is higher than the requested 2\.$",
    ):
        assign_new_partitions([0, 1, 2], existing, 2)


def test_validate_explicit_assignment() -> None:
    validate_assignment({0: [1, 2], 1: [2, 1]})
    with pytest.raises(InvalidReplicaAssignmentError, match="consecutive 0-based"):
        validate_assignment({0: [1], 2: [1]})
    with pytest.raises(InvalidReplicaAssignmentError, match="Duplicate replica assignment"):
        validate_assignment({0: [1, 1]})
    with pytest.raises(InvalidReplicaAssignmentError, match="same number of replicas"):
        validate_assignment({0: [1, 2], 1: [1]})
