"""Partition increase and topic deletion through the controller (bundled ZooKeeper):
CreatePartitions continues the assignment and its errors carry Kafka's words; DeleteTopics
removes the znodes and the log dirs; delete.topic.enable=false keeps the topic and drops the
request znode; Metadata auto-creates topics only when allowed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import NewPartitions, NewTopic
from kazoo.client import KazooClient
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic

from kcli.testing.process import wait_until
from tests.integration.broker import wire
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin, error_of, produce_and_read_back

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def test_create_partitions_then_delete(make_broker: BrokerFactory, kazoo: KazooClient) -> None:
    broker = make_broker(0)
    client = admin(broker)
    client.create_topics([NewTopic("t", 2, 1)], request_timeout=15)["t"].result()
    client.create_partitions([NewPartitions("t", 4)], request_timeout=15)["t"].result()
    assert kazoo.exists("/brokers/topics/t/partitions/3/state") is not None
    produce_and_read_back(broker, "t", 3)
    same = error_of(client.create_partitions([NewPartitions("t", 4)])["t"])
    assert (same.code(), same.str()) == (
        KafkaError.INVALID_PARTITIONS, "Topic already has 4 partitions.",
    )  # fmt: skip
    fewer = error_of(client.create_partitions([NewPartitions("t", 2)])["t"])
    assert fewer.str() == "Topic currently has 4 partitions, which is higher than the requested 2."

    log_dirs = [broker.log_dir / f"t-{p}" for p in range(4)]
    assert all(d.is_dir() for d in log_dirs)
    client.delete_topics(["t"], operation_timeout=15)["t"].result()
    for path in ("/brokers/topics/t", "/config/topics/t", "/admin/delete_topics/t"):
        assert kazoo.exists(path) is None, path
    assert not any(d.exists() for d in log_dirs)  # renamed to *-delete, removed later
    missing = error_of(client.delete_topics(["t"], operation_timeout=5)["t"])
    assert missing.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_delete_disabled_keeps_topic(make_broker: BrokerFactory, kazoo: KazooClient) -> None:
    broker = make_broker(0, delete_topic_enable="false")
    client = admin(broker)
    client.create_topics([NewTopic("keep", 1, 1)], request_timeout=15)["keep"].result()
    refused = error_of(client.delete_topics(["keep"], operation_timeout=5)["keep"])
    assert refused.code() == KafkaError.TOPIC_DELETION_DISABLED
    # A request written straight into ZooKeeper (kafka-topics.sh --zookeeper --delete) is
    # dropped by the controller and the topic kept.
    kazoo.create("/admin/delete_topics/keep")
    wait_until(lambda: kazoo.exists("/admin/delete_topics/keep") is None, 10,
               what="the request znode removed")  # fmt: skip
    assert kazoo.exists("/brokers/topics/keep/partitions/0/state") is not None
    assert Path(broker.log_dir / "keep-0").is_dir()


def test_auto_create_only_when_allowed(make_broker: BrokerFactory, kazoo: KazooClient) -> None:
    broker = make_broker(0, num_partitions="2")
    refused = wire.call(
        broker.bootstrap,
        MetadataRequest(
            topics=(MetadataRequestTopic(name="quiet", topic_id=None),),
            allow_auto_topic_creation=False,
            include_topic_authorized_operations=False,
        ),
        12,
    )
    assert refused.topics[0].error_code == KafkaError.UNKNOWN_TOPIC_OR_PART
    asked = wire.call(
        broker.bootstrap,
        MetadataRequest(
            topics=(MetadataRequestTopic(name="auto", topic_id=None),),
            allow_auto_topic_creation=True,
            include_topic_authorized_operations=False,
        ),
        12,
    )
    assert asked.topics[0].error_code == KafkaError.LEADER_NOT_AVAILABLE
    assert kazoo.exists("/brokers/topics/quiet") is None
    wait_until(lambda: kazoo.exists("/brokers/topics/auto/partitions/1/state") is not None, 10,
               what="auto-created partitions")  # fmt: skip
    # A producer to an unknown topic creates it (librdkafka asks Metadata with creation allowed).
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 10000})
    producer.produce("made-by-producer", b"x")
    assert producer.flush(15) == 0
    assert kazoo.exists("/brokers/topics/made-by-producer") is not None
