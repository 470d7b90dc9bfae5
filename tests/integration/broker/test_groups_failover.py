"""Issue 6 acceptance: committed offsets survive the coordinator's broker being killed.

Three brokers, __consumer_offsets with replication factor 3: a group commits (acks=all, so the
records are on every ISR member), the broker coordinating it is SIGKILLed, the controller moves
the partition's leadership, the new leader replays the partition, and the group's offsets and
metadata come back from it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from kazoo.client import KazooClient

from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import build, request_class
from kcli.testing.broker import KcliBroker, bootstrap_servers, cluster
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper
from tests.integration.broker.test_produce_fetch import create_topic

pytestmark = pytest.mark.integration

GROUP = "failover-group"
TOPIC = "failover-orders"
OVERRIDES = {
    "offsets.topic.replication.factor": "3",
    "offsets.topic.num.partitions": "3",
    "replica.fetch.backoff.ms": "200",
}


@pytest.fixture
def brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[KcliBroker]]:
    zk = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        outside = KazooClient(hosts=zk.connect_string, timeout=10.0)
        outside.start(15)
        try:
            outside.ensure_path("/failover")
        finally:
            outside.stop()
            outside.close()
        connect = f"{zk.connect_string}/failover"
        with cluster(tmp_path_factory.mktemp("brokers"), connect, 3, OVERRIDES) as started:
            yield started
    finally:
        zk.stop()


def coordinator(brokers: list[KcliBroker]) -> int:
    """The node FindCoordinator names, asked of any live broker; -1 while there is none."""
    for b in brokers:
        if not b.alive():
            continue
        try:
            found: Any = wire.call(
                b.bootstrap, build(request_class(10, 1), key=GROUP, key_type=0), 1
            )
        except OSError:
            continue
        return int(found.node_id) if found.error_code == ErrorCode.none else -1
    return -1


def committed(bootstrap: str) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        wanted = [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)]
        return [tp.offset for tp in consumer.committed(wanted, 10)]
    finally:
        consumer.close()


def retry(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_committed_offsets_survive_the_coordinators_broker_being_killed(
    brokers: list[KcliBroker],
) -> None:
    bootstrap = bootstrap_servers(brokers)
    create_topic(bootstrap, TOPIC, 2)
    deadline = time.monotonic() + 30
    while coordinator(brokers) < 0:
        assert time.monotonic() < deadline, "no coordinator for the group"
        time.sleep(0.3)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                         "enable.auto.commit": False})  # fmt: skip
    try:
        consumer.commit(offsets=[TopicPartition(TOPIC, 0, 123), TopicPartition(TOPIC, 1, 456)],
                        asynchronous=False)  # fmt: skip
    finally:
        consumer.close()
    assert committed(bootstrap) == [123, 456]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    offsets_topic = admin.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"]
    assert {len(p.replicas) for p in offsets_topic.partitions.values()} == {3}

    old = coordinator(brokers)
    brokers[old].kill()
    survivors = [b for b in brokers if b.broker_id != old]
    deadline = time.monotonic() + 45
    while coordinator(survivors) in (-1, old):
        assert time.monotonic() < deadline, "the group never found a new coordinator"
        time.sleep(0.3)
    assert retry(lambda: committed(bootstrap_servers(survivors)), 30) == [123, 456]
