"""Topics through the controller, against both ZooKeepers (Debian's Apache ZooKeeper and the
bundled one): CreateTopics from confluent-kafka's AdminClient, Kafka's znode JSON, leaders in
Metadata, produce at once; Kafka's error codes and messages; a topic written straight into
ZooKeeper (the legacy --zookeeper path) and a partition increase written there come alive."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker
from kcli.testing.process import wait_until
from tests.integration.broker.conftest import BrokerFactory

pytestmark = pytest.mark.integration


def admin(broker: KcliBroker) -> AdminClient:
    return AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000})


def produce_and_read_back(broker: KcliBroker, topic: str, partition: int) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 10000})
    producer.produce(topic, b"hello", key=b"k", partition=partition)
    assert producer.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})  # fmt: skip
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        msg = None
        for _ in range(50):  # bounded: 50 polls of 0.2 s
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                break
        assert msg is not None and msg.error() is None and msg.value() == b"hello"
    finally:
        consumer.close()


def error_of(future: object) -> KafkaError:
    with pytest.raises(KafkaException) as info:
        future.result()  # type: ignore[attr-defined]
    error: KafkaError = info.value.args[0]
    return error


def test_create_topic_znodes_metadata_and_errors(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0)
    client = admin(broker)
    fs = client.create_topics(
        [NewTopic("orders", 3, 1, config={"retention.ms": "86400000"})], request_timeout=15
    )
    fs["orders"].result()
    # CreateTopics waited for the controller: state znodes exist with Kafka's exact JSON.
    for p in range(3):
        data, _ = kazoo.get(f"/brokers/topics/orders/partitions/{p}/state")
        assert data == b'{"controller_epoch":1,"leader":0,"version":1,"leader_epoch":0,"isr":[0]}'
    topic = json.loads(kazoo.get("/brokers/topics/orders")[0])
    assert topic["version"] == 3 and topic["partitions"] == {"0": [0], "1": [0], "2": [0]}
    assert len(topic["topic_id"]) == 22
    assert kazoo.get("/config/topics/orders")[0] == (
        b'{"version":1,"config":{"retention.ms":"86400000"}}'
    )
    meta = client.list_topics("orders", timeout=10).topics["orders"]
    assert {p: (m.leader, m.isrs) for p, m in meta.partitions.items()} == {
        0: (0, [0]), 1: (0, [0]), 2: (0, [0]),
    }  # fmt: skip
    produce_and_read_back(broker, "orders", 2)

    exists = error_of(client.create_topics([NewTopic("orders", 1, 1)])["orders"])
    assert (exists.code(), exists.str()) == (
        KafkaError.TOPIC_ALREADY_EXISTS, "Topic 'orders' already exists.",
    )  # fmt: skip
    rf = error_of(client.create_topics([NewTopic("wide", 1, 3)])["wide"])
    assert (rf.code(), rf.str()) == (
        KafkaError.INVALID_REPLICATION_FACTOR,
        "Replication factor: 3 larger than available brokers: 1.",
    )
    bad = error_of(client.create_topics([NewTopic("c", 1, 1, config={"segment.bytes": "x"})])["c"])
    assert bad.code() == KafkaError.INVALID_CONFIG
    assert bad.str() == "Invalid value x for configuration segment.bytes: Not a number of type INT"
    only = client.create_topics([NewTopic("dry", 2, 1)], validate_only=True)
    only["dry"].result()
    assert kazoo.exists("/brokers/topics/dry") is None


def test_topic_written_into_zookeeper_comes_alive(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0)
    # What `kafka-topics.sh --zookeeper ... --create` (Kafka <= 2.x) writes: no state znodes.
    kazoo.create("/brokers/topics/legacy", b'{"version":1,"partitions":{"0":[0],"1":[0]}}')
    state = "/brokers/topics/legacy/partitions/{}/state"
    wait_until(lambda: kazoo.exists(state.format(1)) is not None, 15, what="state znodes")
    assert json.loads(kazoo.get(state.format(0))[0])["leader"] == 0
    produce_and_read_back(broker, "legacy", 1)
    # A partition increase written the same way (AdminZkClient.addPartitions) comes alive too.
    kazoo.set("/brokers/topics/legacy", b'{"version":1,"partitions":{"0":[0],"1":[0],"2":[0]}}')
    wait_until(lambda: kazoo.exists(state.format(2)) is not None, 15, what="new partition")
    produce_and_read_back(broker, "legacy", 2)
