"""Kafka's rack-unaware replica assignment (`AdminUtils.assignReplicasToBrokers`), pure.

Brokers are sorted by id. Partition p's first replica (its preferred leader) is broker
`(p + startIndex) % n`; follower j sits `1 + (shift + j) % (n - 1)` places after it, so it is
never the leader's broker, and the shift grows by one after every full round of n partitions
so followers spread as well. Kafka draws startIndex and shift independently at random;
`fixed_start_index` sets both (as Kafka's tests do), `rng` makes the draws reproducible.

Adding partitions continues the rotation: start index = position of the existing partition 0
leader in the broker list, first new id = the existing partition count
(`AdminZkClient.createNewPartitionsAssignment`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


class AssignmentError(ValueError):
    """A request Kafka refuses; `error` names the Kafka error code (lower-case kio name)."""

    error = "invalid_replica_assignment"


class InvalidPartitionsError(AssignmentError):
    error = "invalid_partitions"


class InvalidReplicationFactorError(AssignmentError):
    error = "invalid_replication_factor"


class InvalidReplicaAssignmentError(AssignmentError):
    error = "invalid_replica_assignment"


def assign_replicas_to_brokers(
    brokers: Sequence[int],
    n_partitions: int,
    replication_factor: int,
    *,
    fixed_start_index: int = -1,
    start_partition_id: int = -1,
    rng: random.Random | None = None,
) -> dict[int, tuple[int, ...]]:
    """Partition id -> replicas, preferred leader first (Kafka's messages on bad input)."""
    if n_partitions <= 0:
        raise InvalidPartitionsError("Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise InvalidReplicationFactorError("Replication factor must be larger than 0.")
    if replication_factor > len(brokers):
        raise InvalidReplicationFactorError(
            f"Replication factor: {replication_factor} larger than available brokers: "
            f"{len(brokers)}."
        )
    ids = sorted(brokers)
    n = len(ids)
    draw = rng or random.Random()
    start_index = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    shift = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    partition = max(0, start_partition_id)
    result: dict[int, tuple[int, ...]] = {}
    for _ in range(n_partitions):
        if partition > 0 and partition % n == 0:
            shift += 1
        first = (partition + start_index) % n
        followers = (ids[replica_index(first, shift, j, n)] for j in range(replication_factor - 1))
        result[partition] = (ids[first], *followers)
        partition += 1
    return result


def replica_index(first: int, shift: int, j: int, n: int) -> int:
    """Broker list index of follower j (1 + ... never lands on the leader's own index)."""
    return (first + 1 + (shift + j) % (n - 1)) % n


def assign_new_partitions(
    brokers: Sequence[int],
    existing: Mapping[int, Sequence[int]],
    total_partitions: int,
    *,
    rng: random.Random | None = None,
) -> dict[int, tuple[int, ...]]:
    """Replicas for partitions len(existing)..total-1, continuing Kafka's rotation."""
    current = len(existing)
    if total_partitions < current:
        raise InvalidPartitionsError(
            f"Topic currently has {current} partitions, which is higher than the requested "
            f"{total_partitions}."
        )
    if total_partitions == current:
        raise InvalidPartitionsError(f"Topic already has {current} partitions.")
    first_replicas = tuple(existing.get(0, ()))
    ids = sorted(brokers)
    # Kafka: max(0, index of the first broker whose id >= the partition 0 leader)
    start = next((i for i, b in enumerate(ids) if first_replicas and b >= first_replicas[0]), 0)
    return assign_replicas_to_brokers(
        ids,
        total_partitions - current,
        len(first_replicas) or 1,
        fixed_start_index=start,
        start_partition_id=current,
        rng=rng,
    )


def validate_assignment(assignment: Mapping[int, Sequence[int]]) -> None:
    """An explicit assignment's shape, as AdminZkClient.validateTopicCreate checks it."""
    if not assignment:
        raise InvalidReplicaAssignmentError("Replica assignment is empty.")
    if set(assignment) != set(range(len(assignment))):
        raise InvalidReplicaAssignmentError(
            "partitions should be a consecutive 0-based integer sequence"
        )
    sizes = {len(r) for r in assignment.values()}
    for partition, replicas in sorted(assignment.items()):
        if not replicas:
            raise InvalidReplicaAssignmentError(
                f"Replica assignment for partition {partition} is empty."
            )
        if len(set(replicas)) != len(replicas):
            raise InvalidReplicaAssignmentError(
                f"Duplicate replica assignment found: {_scala_map(assignment)}"
            )
    if len(sizes) > 1:
        raise InvalidReplicaAssignmentError(
            "All partitions should have the same number of replicas"
        )


def _scala_map(assignment: Mapping[int, Sequence[int]]) -> str:
    body = ", ".join(
        f"{p} -> List({', '.join(str(b) for b in r)})" for p, r in sorted(assignment.items())
    )
    return f"Map({body})"
