"""Replica assignment for the `--zookeeper` path (Kafka's `AdminUtils.assignReplicasToBrokers`,
rack-unaware, shared with the broker through `kcli.protocol.assignment`) and
`--replica-assignment` parsing (`TopicCommand.parseReplicaAssignment`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from kcli.errors import TerseError
from kcli.protocol import assignment


class AdminOperationError(TerseError):
    """Kafka's AdminOperationException / InvalidPartitions / InvalidReplicationFactor."""


def assign_replicas_to_brokers(
    brokers: Sequence[int],
    n_partitions: int,
    replication_factor: int,
    *,
    fixed_start_index: int = -1,
    start_partition_id: int = -1,
    rng: random.Random | None = None,
) -> dict[int, list[int]]:
    """Partition id -> replica list (preferred leader first); Kafka's messages as one-line errors.

    The algorithm itself is the broker's (`kcli.protocol.assignment`), so `--zookeeper` and
    CreateTopics place replicas identically.
    """
    try:
        placed = assignment.assign_replicas_to_brokers(
            brokers,
            n_partitions,
            replication_factor,
            fixed_start_index=fixed_start_index,
            start_partition_id=start_partition_id,
            rng=rng,
        )
    except assignment.AssignmentError as exc:
        raise AdminOperationError(str(exc)) from None
    return {p: list(replicas) for p, replicas in placed.items()}


def parse_replica_assignment(text: str) -> dict[int, list[int]]:
    """`0:1,1:2` -> {0: [0, 1], 1: [1, 2]} with TopicCommand's checks and messages."""
    result: dict[int, list[int]] = {}
    for index, part in enumerate(text.split(",")):
        brokers: list[int] = []
        for token in part.split(":"):
            try:
                brokers.append(int(token.strip()))
            except ValueError:
                raise TerseError(f'For input string: "{token.strip()}"') from None
        duplicates = sorted({b for b in brokers if brokers.count(b) > 1})
        if duplicates:
            raise AdminOperationError(
                "Partition replica lists may not contain duplicate entries: "
                + ",".join(str(b) for b in duplicates)
            )
        result[index] = brokers
        if len(brokers) != len(result[0]):
            raise AdminOperationError(
                f"Partition {index} has different replication factor: "
                f"[{', '.join(str(b) for b in brokers)}]"
            )
    return result


def validate_assignment_brokers(
    assignment: dict[int, list[int]], live_brokers: Sequence[int]
) -> None:
    """AdminZkClient.validateReplicaAssignment's broker check for added partitions."""
    unknown = sorted({b for replicas in assignment.values() for b in replicas} - set(live_brokers))
    if unknown:
        raise AdminOperationError(
            "Unknown broker(s) in replica assignment: " + ", ".join(str(b) for b in unknown)
        )
