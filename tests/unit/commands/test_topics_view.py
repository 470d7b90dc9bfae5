"""kafka-topics text (2.8-3.x) and JSON views, line for line."""

from __future__ import annotations

from kcli.admin.topic_model import DescribeFilter, PartitionDescription, TopicDescription
from kcli.commands import _topics_view as view

P = PartitionDescription


def lab() -> TopicDescription:
    return TopicDescription(
        "my-replicated-topic",
        "NPmZHyhbR9y00wMglMH2sg",
        (P(0, 1, (1, 2, 0), (1, 2, 0)), P(1, None, (2, 0, 1), ())),
        {"segment.bytes": "1073741824", "retention.ms": "1000"},
    )


def test_describe_text() -> None:
    assert view.describe_lines([lab()], DescribeFilter()) == [
        "Topic: my-replicated-topic\tTopicId: NPmZHyhbR9y00wMglMH2sg\tPartitionCount: 2\t"
        "ReplicationFactor: 3\tConfigs: segment.bytes=1073741824,retention.ms=1000",
        "\tTopic: my-replicated-topic\tPartition: 0\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,2,0",
        "\tTopic: my-replicated-topic\tPartition: 1\tLeader: none\tReplicas: 2,0,1\tIsr: ",
    ]


def test_zero_topic_id_empty_configs_and_deletion_marker() -> None:
    t = TopicDescription("t", None, (P(0, 0, (0,), (0,)),), {}, marked_for_deletion=True)
    assert view.describe_lines([t], DescribeFilter()) == [
        "Topic: t\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \tMarkedForDeletion: true",
        "\tTopic: t\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tMarkedForDeletion: true",
    ]


def test_reassignment_columns() -> None:
    t = TopicDescription("t", None, (P(0, 0, (0, 1, 2), (0, 1), (2,), (1,)),), {})
    assert view.partition_line(t, t.partitions[0]) == (
        "\tTopic: t\tPartition: 0\tLeader: 0\tReplicas: 0,1,2\tIsr: 0,1"
        "\tAdding Replicas: 2\tRemoving Replicas: 1"
    )
    assert t.replication_factor == 2


def test_under_replicated_prints_only_partition_lines() -> None:
    flt = DescribeFilter(under_replicated=True, live_brokers=frozenset({0, 1, 2}))
    assert view.describe_lines([lab()], flt) == [
        "\tTopic: my-replicated-topic\tPartition: 1\tLeader: none\tReplicas: 2,0,1\tIsr: "
    ]


def test_partitions_sorted_by_id() -> None:
    t = TopicDescription("t", None, (P(1, 0, (0,), (0,)), P(0, 0, (0,), (0,))), {})
    lines = view.describe_lines([t], DescribeFilter())
    assert [line.split("\t")[2] for line in lines[1:]] == ["Partition: 0", "Partition: 1"]


def test_describe_json() -> None:
    got = view.describe_json([lab()], DescribeFilter())
    assert got[0]["name"] == "my-replicated-topic"
    assert got[0]["topic_id"] == "NPmZHyhbR9y00wMglMH2sg"
    assert got[0]["partition_count"] == 2
    assert got[0]["replication_factor"] == 3
    assert got[0]["configs"] == {"segment.bytes": "1073741824", "retention.ms": "1000"}
    assert got[0]["partitions"][1] == {
        "partition": 1,
        "leader": None,
        "replicas": [2, 0, 1],
        "isr": [],
        "adding_replicas": [],
        "removing_replicas": [],
    }
    assert (
        view.describe_json([lab()], DescribeFilter(topics_with_overrides=True))[0]["partitions"]
        == []
    )


def test_list() -> None:
    names = ["__consumer_offsets", "a", "b"]
    assert view.list_lines(names, {"b"}) == ["__consumer_offsets", "a", "b - marked for deletion"]
    assert view.list_json(names, set())[0] == {
        "name": "__consumer_offsets",
        "internal": True,
        "marked_for_deletion": False,
    }
