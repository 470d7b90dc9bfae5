"""Pure views of `kcli topics`: Kafka 2.8-3.x text (TopicCommand's println formats) and JSON.

    Topic: X\tTopicId: <base64url>\tPartitionCount: N\tReplicationFactor: R\tConfigs: k=v,...
    \tTopic: X\tPartition: P\tLeader: L|none\tReplicas: a,b\tIsr: a,b

TopicId is left out for the zero UUID (topics written to ZooKeeper before Kafka 2.8); a topic
marked for deletion gets `\tMarkedForDeletion: true` on both kinds of line.
"""

from __future__ import annotations

from typing import Any

from kcli.admin.topic_model import DescribeFilter, PartitionDescription, TopicDescription

COLLISION_WARNING = (
    "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore "
    "('_') could collide. To avoid issues it is best to use either, but not both."
)


def _ids(brokers: tuple[int, ...]) -> str:
    return ",".join(str(b) for b in brokers)


def header_line(topic: TopicDescription) -> str:
    parts = [f"Topic: {topic.name}"]
    if topic.topic_id:
        parts.append(f"TopicId: {topic.topic_id}")
    parts.append(f"PartitionCount: {len(topic.partitions)}")
    parts.append(f"ReplicationFactor: {topic.replication_factor}")
    parts.append("Configs: " + ",".join(f"{k}={v}" for k, v in topic.configs.items()))
    line = "\t".join(parts)
    return line + ("\tMarkedForDeletion: true" if topic.marked_for_deletion else "")


def partition_line(topic: TopicDescription, p: PartitionDescription) -> str:
    leader = "none" if p.leader is None else str(p.leader)
    line = (
        f"\tTopic: {topic.name}\tPartition: {p.partition}\tLeader: {leader}"
        f"\tReplicas: {_ids(p.replicas)}\tIsr: {_ids(p.isr)}"
    )
    if p.adding_replicas:
        line += f"\tAdding Replicas: {_ids(p.adding_replicas)}"
    if p.removing_replicas:
        line += f"\tRemoving Replicas: {_ids(p.removing_replicas)}"
    return line + ("\tMarkedForDeletion: true" if topic.marked_for_deletion else "")


def describe_lines(topics: list[TopicDescription], flt: DescribeFilter) -> list[str]:
    lines: list[str] = []
    for topic in topics:
        if flt.shows_header(topic):
            lines.append(header_line(topic))
        lines.extend(
            partition_line(topic, p)
            for p in sorted(topic.partitions, key=lambda p: p.partition)
            if flt.shows_partition(topic, p)
        )
    return lines


def describe_json(topics: list[TopicDescription], flt: DescribeFilter) -> list[dict[str, Any]]:
    """One object per topic with the partitions --describe would print (same filters)."""
    out: list[dict[str, Any]] = []
    for topic in topics:
        parts = [
            p for p in sorted(topic.partitions, key=lambda p: p.partition)
            if flt.shows_partition(topic, p)
        ]  # fmt: skip
        if not parts and not flt.shows_header(topic):
            continue
        out.append(
            {
                "name": topic.name,
                "topic_id": topic.topic_id,
                "internal": topic.internal,
                "partition_count": len(topic.partitions),
                "replication_factor": topic.replication_factor,
                "configs": dict(topic.configs),
                "marked_for_deletion": topic.marked_for_deletion,
                "partitions": [
                    {
                        "partition": p.partition,
                        "leader": p.leader,
                        "replicas": list(p.replicas),
                        "isr": list(p.isr),
                        "adding_replicas": list(p.adding_replicas),
                        "removing_replicas": list(p.removing_replicas),
                    }
                    for p in parts
                ],
            }
        )
    return out


def list_lines(names: list[str], marked_for_deletion: set[str]) -> list[str]:
    return [f"{n} - marked for deletion" if n in marked_for_deletion else n for n in names]


def list_json(names: list[str], marked_for_deletion: set[str]) -> list[dict[str, Any]]:
    from kcli.protocol.topic import is_internal

    return [
        {"name": n, "internal": is_internal(n), "marked_for_deletion": n in marked_for_deletion}
        for n in names
    ]
