"""--describe line for line, and its partition filters after a broker stops (Kafka's
DescribeOptions): under-replicated, unavailable, under/at min ISR, topics with overrides."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration


def describe(kafka: Cluster, *args: str, zookeeper: bool = False) -> list[str]:
    where = (
        ["--zookeeper", kafka.zookeeper] if zookeeper else ["--bootstrap-server", kafka.bootstrap]
    )
    res = kcli("topics", *where, "--describe", *args)
    assert res.returncode == 0, res.stderr
    return lines(res.stdout)


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.3)


def create(kafka: Cluster, topic: str, assignment: str, *configs: str) -> None:
    args = [a for c in configs for a in ("--config", c)]
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, "--create", "--topic", topic,
               "--replica-assignment", assignment, *args)  # fmt: skip
    assert res.returncode == 0, res.stderr


def test_describe_filters_after_a_broker_stops(fresh_cluster: Cluster) -> None:
    kafka = fresh_cluster
    create(kafka, "spread", "0:1,1:2,2:0", "min.insync.replicas=2")
    create(kafka, "lonely", "2")
    topic_id = kafka.kazoo.get("/brokers/topics/spread")[0].decode().split('"topic_id":"')[1][:22]
    expected = [
        f"Topic: spread\tTopicId: {topic_id}\tPartitionCount: 3\tReplicationFactor: 2\t"
        "Configs: min.insync.replicas=2",
        "\tTopic: spread\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1",
        "\tTopic: spread\tPartition: 1\tLeader: 1\tReplicas: 1,2\tIsr: 1,2",
        "\tTopic: spread\tPartition: 2\tLeader: 2\tReplicas: 2,0\tIsr: 2,0",
    ]
    wait_for(lambda: describe(kafka, "--topic", "spread") == expected)
    assert describe(kafka, "--topic", "spread", zookeeper=True) == expected
    assert describe(kafka, "--under-replicated-partitions") == []
    assert describe(kafka, "--topics-with-overrides") == [expected[0]]

    kafka.brokers[2].stop()
    after = [
        "\tTopic: spread\tPartition: 1\tLeader: 1\tReplicas: 1,2\tIsr: 1",
        "\tTopic: spread\tPartition: 2\tLeader: 0\tReplicas: 2,0\tIsr: 0",
    ]
    wait_for(lambda: describe(kafka, "--topic", "spread")[2:] == after)
    assert describe(kafka, "--under-replicated-partitions", "--topic", "spread") == after
    assert describe(kafka, "--under-min-isr-partitions", "--topic", "spread") == after
    assert describe(kafka, "--at-min-isr-partitions", "--topic", "spread") == [expected[1]]
    unavailable = describe(kafka, "--unavailable-partitions")
    assert unavailable == ["\tTopic: lonely\tPartition: 0\tLeader: none\tReplicas: 2\tIsr: 2"]
    assert describe(kafka, "--unavailable-partitions", zookeeper=True) == unavailable
