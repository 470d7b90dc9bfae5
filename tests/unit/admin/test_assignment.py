"""Replica assignment against Kafka's worked examples (AdminUtils.assignReplicasToBrokers)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kcli.admin.assignment import (
    AdminOperationError,
    assign_replicas_to_brokers,
    parse_replica_assignment,
    validate_assignment_brokers,
)


class Draws(random.Random):
    """A Random whose randrange returns the given values in order (startIndex, then shift)."""

    def __init__(self, *values: int) -> None:
        super().__init__(0)
        self.values = list(values)

    def randrange(self, *args: object, **kwargs: object) -> int:
        return self.values.pop(0)


def rows(assignment: dict[int, list[int]]) -> list[str]:
    return [",".join(map(str, assignment[p])) for p in sorted(assignment)]


def test_lab_13_partitions_on_3_brokers_start_2_shift_0() -> None:
    got = assign_replicas_to_brokers([0, 1, 2], 13, 3, rng=Draws(2, 0))
    expected = "2,0,1 0,1,2 1,2,0 2,1,0 0,2,1 1,0,2 2,0,1 0,1,2 1,2,0 2,1,0 0,2,1 1,0,2 2,0,1"
    assert " ".join(rows(got)) == expected


def test_kafka_2_0_sample_4_partitions_rf3() -> None:
    got = assign_replicas_to_brokers([0, 1, 2], 4, 3, rng=Draws(2, 0))
    assert rows(got) == ["2,0,1", "0,1,2", "1,2,0", "2,1,0"]


@pytest.mark.parametrize(
    ("start", "shift", "expected"),
    [
        (0, 0, "0,1,2 1,2,0 2,0,1 0,2,1 1,0,2 2,1,0 0,1,2"),
        (1, 1, "1,0,2 2,1,0 0,2,1 1,2,0 2,0,1 0,1,2 1,0,2"),
    ],
)
def test_reference_simulations(start: int, shift: int, expected: str) -> None:
    got = assign_replicas_to_brokers([0, 1, 2], 7, 3, rng=Draws(start, shift))
    assert " ".join(rows(got)) == expected


def test_admin_rack_aware_test_replica_assignment_fixed_start_0() -> None:
    got = assign_replicas_to_brokers([0, 1, 2, 3, 4], 10, 3, fixed_start_index=0)
    assert got == {
        0: [0, 1, 2], 1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 0], 4: [4, 0, 1],
        5: [0, 2, 3], 6: [1, 3, 4], 7: [2, 4, 0], 8: [3, 0, 1], 9: [4, 1, 2],
    }  # fmt: skip


def test_broker_ids_are_sorted_and_need_not_be_contiguous() -> None:
    got = assign_replicas_to_brokers([9, 1, 5], 3, 2, fixed_start_index=0)
    assert got == {0: [1, 5], 1: [5, 9], 2: [9, 1]}


def test_added_partitions_start_after_the_existing_ones() -> None:
    # addPartitions: fixedStartIndex = index of partition 0's leader, startPartitionId = count;
    # partition 3 of 3 brokers bumps the shift from 1 to 2 first.
    got = assign_replicas_to_brokers([0, 1, 2], 2, 2, fixed_start_index=1, start_partition_id=3)
    assert got == {3: [1, 2], 4: [2, 0]}


@pytest.mark.parametrize(
    ("brokers", "partitions", "rf", "message"),
    [
        ([0], 0, 1, "Number of partitions must be larger than 0."),
        ([0], 1, 0, "Replication factor must be larger than 0."),
        ([0], 1, 3, "Replication factor: 3 larger than available brokers: 1."),
        ([], 1, 1, "Replication factor: 1 larger than available brokers: 0."),
    ],
)
def test_errors(brokers: list[int], partitions: int, rf: int, message: str) -> None:
    with pytest.raises(AdminOperationError) as info:
        assign_replicas_to_brokers(brokers, partitions, rf)
    assert info.value.message == message


@given(
    n=st.integers(1, 8),
    partitions=st.integers(1, 40),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_replicas_are_distinct_and_leaders_spread(
    n: int, partitions: int, data: st.DataObject, seed: int
) -> None:
    rf = data.draw(st.integers(1, n))
    got = assign_replicas_to_brokers(list(range(n)), partitions, rf, rng=random.Random(seed))
    assert sorted(got) == list(range(partitions))
    for replicas in got.values():
        assert len(replicas) == rf == len(set(replicas))
    leaders = [got[p][0] for p in got]
    counts = [leaders.count(b) for b in range(n)]
    assert max(counts) - min(counts) <= 1  # round robin over brokers


def test_parse_replica_assignment() -> None:
    assert parse_replica_assignment("0:1, 1:2 ,2:0") == {0: [0, 1], 1: [1, 2], 2: [2, 0]}
    assert parse_replica_assignment("3") == {0: [3]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1:1", "Partition replica lists may not contain duplicate entries: 1"),
        ("0:1,1:2:0", "Partition 1 has different replication factor: [1, 2, 0]"),
        ("0:x", 'For input string: "x"'),
    ],
)
def test_parse_replica_assignment_errors(text: str, message: str) -> None:
    with pytest.raises(Exception) as info:
        parse_replica_assignment(text)
    assert getattr(info.value, "message", None) == message


def test_validate_assignment_brokers() -> None:
    validate_assignment_brokers({3: [0, 1]}, [0, 1, 2])
    with pytest.raises(AdminOperationError, match="Unknown broker\\(s\\) in replica assignment: 5"):
        validate_assignment_brokers({3: [0, 5]}, [0, 1, 2])
