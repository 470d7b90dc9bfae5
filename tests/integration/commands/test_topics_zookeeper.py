"""`kcli topics --zookeeper` (Kafka 2.x's legacy path) against the bundled ZooKeeper with three
kcli brokers registered: the znodes it writes and Kafka's text for every action."""

from __future__ import annotations

import json
import random

import pytest

from kcli.admin.assignment import assign_replicas_to_brokers
from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration

PREFIX = "Error while executing topic command : "


def zk(kafka: Cluster, *args: str) -> tuple[int, list[str], list[str]]:
    res = kcli("topics", "--zookeeper", kafka.zookeeper, *args)
    return res.returncode, lines(res.stdout), lines(res.stderr)


def znode(kafka: Cluster, path: str) -> dict[str, object]:
    data, _ = kafka.kazoo.get(path)
    result: dict[str, object] = json.loads(data)
    return result


def test_create_writes_kafkas_znodes(kafka: Cluster, topic_name: str) -> None:
    code, out, err = zk(kafka, "--create", "--topic", topic_name, "--partitions", "13",
                        "--replication-factor", "3", "--config", "retention.ms=60000")  # fmt: skip
    assert (code, out, err) == (0, [f"Created topic {topic_name}."], [])
    topic = znode(kafka, f"/brokers/topics/{topic_name}")
    assert topic["version"] == 3
    assert topic["adding_replicas"] == {} and topic["removing_replicas"] == {}
    assert isinstance(topic["topic_id"], str) and len(topic["topic_id"]) == 22
    partitions = topic["partitions"]
    assert isinstance(partitions, dict)
    got = {int(p): r for p, r in partitions.items()}
    # Kafka's rack-unaware pattern for one of the n*n random (startIndex, shift) draws
    candidates = [
        assign_replicas_to_brokers([0, 1, 2], 13, 3, rng=_Fixed(start, shift))
        for start in range(3)
        for shift in range(3)
    ]
    assert got in candidates
    assert znode(kafka, f"/config/topics/{topic_name}") == {
        "version": 1,
        "config": {"retention.ms": "60000"},
    }


class _Fixed(random.Random):
    """randrange returns the given draws (startIndex, then shift)."""

    def __init__(self, *values: int) -> None:
        super().__init__(0)
        self.values = list(values)

    def randrange(self, *_args: object, **_kwargs: object) -> int:
        return self.values.pop(0)


def test_list_and_describe(kafka: Cluster, topic_name: str) -> None:
    assert (
        zk(kafka, "--create", "--topic", topic_name, "--replica-assignment", "0:1,1:2,2:0")[0] == 0
    )
    code, out, _ = zk(kafka, "--list")
    assert code == 0 and topic_name in out and out == sorted(out)
    code, out, _ = zk(kafka, "--list", "--topic", topic_name, "--format", "json")
    assert json.loads("\n".join(out)) == [
        {"name": topic_name, "internal": False, "marked_for_deletion": False}
    ]
    topic_id = znode(kafka, f"/brokers/topics/{topic_name}")["topic_id"]
    code, out, err = zk(kafka, "--describe", "--topic", topic_name)
    assert code == 0, err
    assert out[0] == (
        f"Topic: {topic_name}\tTopicId: {topic_id}\tPartitionCount: 3\tReplicationFactor: 2\t"
        "Configs: "
    )
    assert len(out) == 4
    for partition, (line, replicas) in enumerate(zip(out[1:], ["0,1", "1,2", "2,0"], strict=True)):
        fields = line.split("\t")
        assert fields[:3] == ["", f"Topic: {topic_name}", f"Partition: {partition}"]
        assert fields[4] == f"Replicas: {replicas}"
        # Before the controller acts: no leader and an empty ISR; after: preferred leader, full ISR.
        assert (fields[3], fields[5]) in (
            ("Leader: none", "Isr: "),
            (f"Leader: {replicas[0]}", f"Isr: {replicas}"),
        )


def test_create_errors(kafka: Cluster, topic_name: str) -> None:
    args = ("--create", "--topic", topic_name, "--partitions", "1", "--replication-factor", "1")
    assert zk(kafka, *args)[0] == 0
    assert zk(kafka, *args) == (1, [], [f"{PREFIX}Topic '{topic_name}' already exists."])
    assert zk(kafka, *args, "--if-not-exists") == (0, [], [])
    rf4 = zk(kafka, "--create", "--topic", "rf", "--partitions", "1", "--replication-factor", "4")
    assert rf4 == (1, [], [f"{PREFIX}Replication factor: 4 larger than available brokers: 3."])
    assert zk(kafka, "--create", "--topic", "zero", "--partitions", "0", "--replication-factor",
              "1") == (1, [], [f"{PREFIX}Number of partitions must be larger than 0."])  # fmt: skip
    assert zk(kafka, "--create", "--topic", "a b", "--partitions", "1", "--replication-factor",
              "1")[2] == [f"{PREFIX}Topic name \"a b\" is illegal, it contains a character other "
                          "than ASCII alphanumerics, '.', '_' and '-'"]  # fmt: skip
    code, _, err = zk(kafka, "--create", "--topic", "bad-config", "--partitions", "1",
                        "--replication-factor", "1", "--config", "no.such=1")  # fmt: skip
    assert (code, err) == (1, [f"{PREFIX}Unknown topic config name: no.such"])
    assert kafka.kazoo.exists("/brokers/topics/bad-config") is None


def test_collision_warning_and_error(kafka: Cluster) -> None:
    args = ("--partitions", "1", "--replication-factor", "1")
    code, out, _ = zk(kafka, "--create", "--topic", "metrics_a", *args)
    assert code == 0
    assert out == [
        "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore "
        "('_') could collide. To avoid issues it is best to use either, but not both.",
        "Created topic metrics_a.",
    ]
    code, out, err = zk(kafka, "--create", "--topic", "metrics.a", *args)
    assert code == 1
    assert err == [f"{PREFIX}Topic 'metrics.a' collides with existing topics: metrics_a"]


def test_alter_partitions_and_configs(kafka: Cluster, topic_name: str) -> None:
    assert zk(kafka, "--create", "--topic", topic_name, "--partitions", "3",
              "--replication-factor", "2")[0] == 0  # fmt: skip
    before = znode(kafka, f"/brokers/topics/{topic_name}")
    code, out, err = zk(kafka, "--alter", "--topic", topic_name, "--partitions", "5")
    assert (code, err) == (0, [])
    assert out == [
        "WARNING: If partitions are increased for a topic that has a key, the partition logic or "
        "ordering of the messages will be affected",
        "Adding partitions succeeded!",
    ]
    after = znode(kafka, f"/brokers/topics/{topic_name}")
    assert after["topic_id"] == before["topic_id"]
    parts = after["partitions"]
    assert isinstance(parts, dict) and sorted(parts, key=int) == ["0", "1", "2", "3", "4"]
    assert all(len(set(r)) == 2 for r in parts.values())
    code, out, err = zk(kafka, "--alter", "--topic", topic_name, "--partitions", "6",
                        "--replica-assignment", "0:1,0:1,0:1,0:1,0:1,2:1")  # fmt: skip
    assert (code, out[-1], err) == (0, "Adding partitions succeeded!", [])
    assert znode(kafka, f"/brokers/topics/{topic_name}")["partitions"]["5"] == [2, 1]  # type: ignore[index]
    code, _, err = zk(kafka, "--alter", "--topic", topic_name, "--partitions", "2")
    assert code == 1
    assert err == [
        f"{PREFIX}The number of partitions for a topic can only be increased. Topic {topic_name} "
        "currently has 6 partitions, 2 would not be an increase."
    ]
    code, out, err = zk(kafka, "--alter", "--topic", topic_name, "--config",
                        "cleanup.policy=compact", "--config", "retention.ms=1000")  # fmt: skip
    assert (code, err) == (0, [])
    assert out == [
        "WARNING: Altering topic configuration from this script has been deprecated and may be "
        "removed in future releases.",
        "         Going forward, please use kafka-configs.sh for this functionality",
        f"Updated config for topic {topic_name}.",
    ]
    code, out, err = zk(kafka, "--alter", "--topic", topic_name, "--delete-config", "retention.ms")
    assert code == 0, err
    assert znode(kafka, f"/config/topics/{topic_name}")["config"] == {"cleanup.policy": "compact"}
    changes = sorted(kafka.kazoo.get_children("/config/changes"))
    notes = [znode(kafka, f"/config/changes/{c}") for c in changes]
    assert {"version": 2, "entity_path": f"topics/{topic_name}"} in notes
    code, out, _ = zk(kafka, "--describe", "--topic", topic_name, "--topics-with-overrides")
    assert code == 0
    assert out[0].endswith("\tConfigs: cleanup.policy=compact") and len(out) == 1


def test_delete(kafka: Cluster, topic_name: str) -> None:
    assert zk(kafka, "--create", "--topic", topic_name, "--partitions", "1",
              "--replication-factor", "1")[0] == 0  # fmt: skip
    code, out, err = zk(kafka, "--delete", "--topic", topic_name)
    assert (code, err) == (0, [])
    assert out == [
        f"Topic {topic_name} is marked for deletion.",
        "Note: This will have no impact if delete.topic.enable is not set to true.",
    ]
    # The controller may already have deleted it; until then list marks it.
    _, listed, _ = zk(kafka, "--list", "--topic", topic_name)
    assert listed in ([], [f"{topic_name} - marked for deletion"])


def test_missing_topics(kafka: Cluster) -> None:
    for action in ("--describe", "--delete", "--alter"):
        extra = ["--partitions", "3"] if action == "--alter" else []
        code, out, err = zk(kafka, action, "--topic", "no-such-topic", *extra)
        assert (code, out) == (1, [])
        assert err == [f"{PREFIX}Topic 'no-such-topic' does not exist as expected"]
        assert zk(kafka, action, "--topic", "no-such-topic", "--if-exists", *extra) == (0, [], [])


def test_internal_topic_cannot_be_deleted(kafka: Cluster) -> None:
    if kafka.kazoo.exists("/brokers/topics/__consumer_offsets") is None:  # a group made it?
        kafka.kazoo.create(
            "/brokers/topics/__consumer_offsets",
            b'{"version":3,"partitions":{"0":[0]},"adding_replicas":{},"removing_replicas":{}}',
            makepath=True,
        )
    code, _, err = zk(kafka, "--delete", "--topic", "__consumer_offsets")
    assert code == 1
    assert err == [
        f"{PREFIX}Topic __consumer_offsets is a kafka internal topic and is not allowed to be "
        "marked for deletion."
    ]
    _, out, _ = zk(kafka, "--list", "--exclude-internal")
    assert "__consumer_offsets" not in out
