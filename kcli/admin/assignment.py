"""Replica assignment as ZooKeeper-mode Kafka computes it (`AdminUtils.assignReplicasToBrokers`,
rack-unaware), and `--replica-assignment` parsing (`TopicCommand.parseReplicaAssignment`).

The first replica of each partition is its preferred leader. Partition p's first replica is
broker `(p + startIndex) % n` of the id-sorted broker list; followers sit at offsets
`1 + (shift + j) % (n - 1)` from it, and the shift grows by one after every full round of n
partitions so that followers spread too. Kafka draws startIndex and shift independently at
random; tests pass `fixed_start_index` (used for both, as Kafka does) or a seeded `rng`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from kcli.errors import TerseError


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
    """Partition id -> replica list (preferred leader first)."""
    if n_partitions <= 0:
        raise AdminOperationError("Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise AdminOperationError("Replication factor must be larger than 0.")
    if replication_factor > len(brokers):
        raise AdminOperationError(
            f"Replication factor: {replication_factor} larger than available brokers: "
            f"{len(brokers)}."
        )
    ids = sorted(brokers)
    n = len(ids)
    draw = rng or random.Random()
    start_index = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    shift = fixed_start_index if fixed_start_index >= 0 else draw.randrange(n)
    partition = max(0, start_partition_id)
    result: dict[int, list[int]] = {}
    for _ in range(n_partitions):
        if partition > 0 and partition % n == 0:
            shift += 1
        first = (partition + start_index) % n
        replicas = [ids[first]]
        replicas.extend(
            ids[_replica_index(first, shift, j, n)] for j in range(replication_factor - 1)
        )
        result[partition] = replicas
        partition += 1
    return result


def _replica_index(first: int, shift: int, j: int, n: int) -> int:
    # 1 + ... never lands on offset 0, so a follower is never the leader's broker.
    return (first + 1 + (shift + j) % (n - 1)) % n


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
