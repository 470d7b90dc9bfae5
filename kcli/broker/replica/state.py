"""What the controller tells a replica: one partition's entry of a LeaderAndIsr request.

Kafka's LeaderAndIsrPartitionState (LeaderAndIsrRequest.json, ZK mode), the fields the broker
acts on. The controller builds these from `/brokers/topics/<t>/partitions/<p>/state` and
`/brokers/topics/<t>` and hands them to `ReplicaManager.become_leader_or_follower`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartitionState:
    """One partition of a LeaderAndIsr request.

    `zk_version` is the version of the partition's `/state` znode (the partition epoch);
    `replicas` is the full assignment, preferred leader first; `is_new` marks partitions of a
    topic being created (their logs are expected not to exist yet).
    """

    topic: str
    partition: int
    controller_epoch: int
    leader: int
    leader_epoch: int
    isr: tuple[int, ...]
    zk_version: int
    replicas: tuple[int, ...]
    is_new: bool = False
