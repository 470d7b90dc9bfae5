"""`kcli topics --bootstrap-server` writes against kcli brokers: Kafka's text line for line.

Needs CreateTopics, CreatePartitions, DeleteTopics and DescribeConfigs in the broker."""

from __future__ import annotations

import time

import pytest

from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration

PREFIX = "Error while executing topic command : "


def bs(kafka: Cluster, *args: str) -> tuple[int, list[str], list[str]]:
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, *args)
    return res.returncode, lines(res.stdout), lines(res.stderr)


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise TimeoutError("condition not met")


def test_create_describe_alter_delete(kafka: Cluster, topic_name: str) -> None:
    assert bs(kafka, "--create", "--topic", topic_name, "--partitions", "3",
              "--replication-factor", "2", "--config", "retention.ms=60000") == (
        0, [f"Created topic {topic_name}."], [])  # fmt: skip
    code, out, err = bs(kafka, "--describe", "--topic", topic_name)
    assert code == 0, err
    header = out[0].split("\t")
    assert header[0] == f"Topic: {topic_name}"
    assert header[1].startswith("TopicId: ") and len(header[1]) == len("TopicId: ") + 22
    assert header[2:4] == ["PartitionCount: 3", "ReplicationFactor: 2"]
    assert header[4].startswith("Configs: ") and "retention.ms=60000" in header[4]
    assert len(out) == 4
    for p, line in enumerate(out[1:]):
        fields = line.split("\t")
        replicas = fields[4].removeprefix("Replicas: ").split(",")
        assert fields[:3] == ["", f"Topic: {topic_name}", f"Partition: {p}"]
        assert len(replicas) == 2 and len(set(replicas)) == 2
        assert fields[3] == f"Leader: {replicas[0]}"  # preferred leader at creation
        assert fields[5] == f"Isr: {','.join(replicas)}"

    assert bs(kafka, "--alter", "--topic", topic_name, "--partitions", "5") == (0, [], [])
    wait_for(lambda: len(bs(kafka, "--describe", "--topic", topic_name)[1]) == 6)
    code, _, err = bs(kafka, "--alter", "--topic", topic_name, "--partitions", "2")
    assert code == 1 and len(err) == 1 and err[0].startswith(PREFIX)
    assert "2" in err[0] and "5" in err[0]

    assert bs(kafka, "--delete", "--topic", topic_name) == (0, [], [])
    wait_for(lambda: topic_name not in bs(kafka, "--list")[1])


def test_create_errors(kafka: Cluster, topic_name: str) -> None:
    args = ("--create", "--topic", topic_name, "--partitions", "1", "--replication-factor", "1")
    assert bs(kafka, *args)[0] == 0
    assert bs(kafka, *args) == (1, [], [f"{PREFIX}Topic '{topic_name}' already exists."])
    assert bs(kafka, *args, "--if-not-exists") == (0, [], [])
    assert bs(kafka, "--create", "--topic", "rf9", "--partitions", "1",
              "--replication-factor", "9") == (
        1, [], [f"{PREFIX}Replication factor: 9 larger than available brokers: 3."])  # fmt: skip
    assert bs(kafka, "--create", "--topic", "p0", "--partitions", "0") == (
        1, [], [f"{PREFIX}The partitions must be greater than 0"])  # fmt: skip
    r0 = bs(kafka, "--create", "--topic", "r0", "--replication-factor", "0")
    assert r0 == (1, [], [f"{PREFIX}The replication factor must be between 1 and 32767 inclusive"])


def test_create_with_broker_defaults_and_replica_assignment(kafka: Cluster) -> None:
    assert bs(kafka, "--create", "--topic", "defaults")[0] == 0
    _, out, _ = bs(kafka, "--describe", "--topic", "defaults")
    assert "PartitionCount: 1\tReplicationFactor: 1" in out[0]  # num.partitions=1 in the harness
    assert bs(kafka, "--create", "--topic", "assigned", "--replica-assignment", "2:1,0:2")[0] == 0
    _, out, _ = bs(kafka, "--describe", "--topic", "assigned")
    assert [line.split("\t")[4] for line in out[1:]] == ["Replicas: 2,1", "Replicas: 0,2"]


def test_zookeeper_created_topic_comes_alive(kafka: Cluster, topic_name: str) -> None:
    # One partition led by each broker; RF 1 so acks=all needs no follower.
    res = kcli("topics", "--zookeeper", kafka.zookeeper, "--create", "--topic", topic_name,
               "--replica-assignment", "0,1,2")  # fmt: skip
    assert res.returncode == 0

    def has_leaders() -> bool:
        out = bs(kafka, "--describe", "--topic", topic_name)[1]
        return len(out) == 4 and all("Leader: none" not in line for line in out[1:])

    wait_for(has_leaders)
    produced = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic",
                    topic_name, stdin="one\ntwo\nthree\n")  # fmt: skip
    assert produced.returncode == 0, produced.stderr
    consumed = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--topic",
                    topic_name, "--from-beginning", "--max-messages", "3", "--timeout-ms",
                    "20000")  # fmt: skip
    assert sorted(lines(consumed.stdout)) == ["one", "three", "two"]
    assert lines(consumed.stderr)[-1] == "Processed a total of 3 messages"
