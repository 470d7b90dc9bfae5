"""Replication across three real brokers (bundled and Apache ZooKeeper): followers fetch from
leaders, the ISR shrinks after replica.lag.time.max.ms and grows back, acks=all honours
min.insync.replicas, followers' logs equal the leader's byte for byte, and a restarted
follower catches up and rejoins the ISR.

One cluster serves the module (topics differ per test) to keep the run short; every test
resumes what it paused and restarts what it stopped."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker, bootstrap_servers, cluster
from kcli.testing.process import wait_until
from tests.integration.broker.conftest import _start_zookeeper

pytestmark = pytest.mark.integration

LAG_MS = 3000
OVERRIDES = {
    "replica.lag.time.max.ms": str(LAG_MS),
    "replica.fetch.backoff.ms": "200",
    # A paused follower must lose its ISR place to the leader's lag check, not to an expired
    # ZooKeeper session (Kafka's default of 18 s is far above the pauses here).
    "zookeeper.session.timeout.ms": "18000",
}


@pytest.fixture(scope="module", params=["embedded", "apache"])
def zk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The bundled ZooKeeper and Debian's Apache ZooKeeper (the leader's conditional writes
    and sequential notifications against the real server too)."""
    server = _start_zookeeper(request.param, tmp_path_factory.mktemp(f"zk-{request.param}"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def brokers(zk: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[KcliBroker]]:
    connect = f"{zk.connect_string}/replication"
    _ensure_chroot(zk.connect_string, "/replication")
    with cluster(tmp_path_factory.mktemp("brokers"), connect, 3, OVERRIDES) as started:
        yield started


@pytest.fixture(scope="module")
def kazoo(zk: Any, brokers: list[KcliBroker]) -> Iterator[KazooClient]:
    client = KazooClient(hosts=f"{zk.connect_string}/replication", timeout=10.0)
    client.start(timeout=15)
    try:
        wait_until(lambda: len(client.get_children("/brokers/ids")) == 3, 15, what="3 brokers")
        yield client
    finally:
        client.stop()
        client.close()


def _ensure_chroot(hosts: str, chroot: str) -> None:
    outside = KazooClient(hosts=hosts, timeout=10.0)
    outside.start(timeout=15)
    try:
        outside.ensure_path(chroot)
    finally:
        outside.stop()
        outside.close()


def create_topic(brokers: list[KcliBroker], name: str, partitions: int, **configs: str) -> None:
    client = AdminClient({"bootstrap.servers": bootstrap_servers(brokers)})
    assignment = [[(p + i) % 3 for i in range(3)] for p in range(partitions)]
    topic = NewTopic(name, partitions, replica_assignment=assignment, config=configs)
    client.create_topics([topic], request_timeout=15)[name].result()


def state(kazoo: KazooClient, topic: str, partition: int) -> dict[str, Any]:
    data, _ = kazoo.get(f"/brokers/topics/{topic}/partitions/{partition}/state")
    found: dict[str, Any] = json.loads(data)
    return found


def isr(kazoo: KazooClient, topic: str, partition: int) -> list[int]:
    return sorted(state(kazoo, topic, partition)["isr"])


def producer(brokers: list[KcliBroker], **extra: Any) -> Producer:
    conf = {
        "bootstrap.servers": bootstrap_servers(brokers),
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 20000,
    }
    conf.update(extra)
    return Producer(conf)


def produce(p: Producer, topic: str, count: int, partition: int | None = None) -> list[Any]:
    """Send `count` records and wait; returns the delivery errors (None for successes)."""
    errors: list[Any] = []
    for i in range(count):
        kwargs = {"partition": partition} if partition is not None else {}
        p.produce(topic, b"value-%06d" % i, key=b"k%d" % i,
                  on_delivery=lambda err, _msg: errors.append(err), **kwargs)  # fmt: skip
        p.poll(0)
    assert p.flush(30) == 0
    return errors


def consume_all(brokers: list[KcliBroker], topic: str, partitions: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap_servers(brokers), "group.id": "unused",
                         "enable.auto.commit": False, "enable.partition.eof": True})  # fmt: skip
    values: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        eof: set[int] = set()
        for _ in range(150):  # bounded: 150 batches of up to 0.2 s
            for msg in consumer.consume(1000, 0.2):
                if msg.error() is None:
                    values.append(msg.value())
                elif msg.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(msg.partition())
            if len(eof) == partitions:
                break
    finally:
        consumer.close()
    return values


def log_bytes(broker: KcliBroker, topic: str, partition: int) -> bytes:
    directory = broker.log_dir / f"{topic}-{partition}"
    return b"".join(p.read_bytes() for p in sorted(directory.glob("*.log")))


def wait_logs_equal(brokers: list[KcliBroker], topic: str, partition: int) -> None:
    def equal() -> bool:
        logs = [log_bytes(b, topic, partition) for b in brokers]
        return bool(logs[0]) and all(lg == logs[0] for lg in logs)

    wait_until(equal, 15, what=f"identical logs of {topic}-{partition}")


def pause(broker: KcliBroker) -> None:
    assert broker.process is not None and broker.process.proc is not None
    os.kill(broker.process.proc.pid, signal.SIGSTOP)


def resume(broker: KcliBroker) -> None:
    if broker.process is not None and broker.process.proc is not None and broker.alive():
        os.kill(broker.process.proc.pid, signal.SIGCONT)


def test_rf3_acks_all_replicates_every_record_byte_for_byte(
    brokers: list[KcliBroker], kazoo: KazooClient
) -> None:
    create_topic(brokers, "rep", 3, **{"min.insync.replicas": "2"})
    errors = produce(producer(brokers), "rep", 3000)
    assert errors == [None] * 3000
    values = consume_all(brokers, "rep", 3)
    assert sorted(values) == sorted(b"value-%06d" % i for i in range(3000))
    for p in range(3):
        assert isr(kazoo, "rep", p) == [0, 1, 2]
        assert state(kazoo, "rep", p)["leader"] == p  # assignment [p, p+1, p+2]
        wait_logs_equal(brokers, "rep", p)


def test_paused_followers_leave_the_isr_and_acks_all_honours_min_isr(
    brokers: list[KcliBroker], kazoo: KazooClient
) -> None:
    create_topic(brokers, "lag", 1, **{"min.insync.replicas": "2"})  # replicas [0, 1, 2]
    wait_until(lambda: isr(kazoo, "lag", 0) == [0, 1, 2], 10, what="full ISR")
    p = producer(brokers)
    nudge = producer(brokers, acks="1")
    assert produce(p, "lag", 10) == [None] * 10
    try:
        # Kafka counts a follower whose LEO equals the leader's as caught up however long it
        # is silent: only a write it misses starts its lag clock.
        pause(brokers[2])
        assert produce(nudge, "lag", 1) == [None]
        wait_until(lambda: isr(kazoo, "lag", 0) == [0, 1], LAG_MS / 1000 + 10,
                   what="broker 2 out of the ISR")  # fmt: skip
        assert produce(p, "lag", 10) == [None] * 10  # two of three in sync: min ISR 2 holds
        pause(brokers[1])
        assert produce(nudge, "lag", 1) == [None]
        wait_until(lambda: isr(kazoo, "lag", 0) == [0], LAG_MS / 1000 + 10,
                   what="broker 1 out of the ISR")  # fmt: skip
        refused = produce(producer(brokers, retries=0), "lag", 5)
        assert all(e is not None for e in refused), refused
        assert {e.code() for e in refused} == {KafkaError.NOT_ENOUGH_REPLICAS}
    finally:
        resume(brokers[1])
        resume(brokers[2])
    wait_until(lambda: isr(kazoo, "lag", 0) == [0, 1, 2], 20, what="both back in the ISR")
    assert produce(p, "lag", 10) == [None] * 10
    values = consume_all(brokers, "lag", 1)
    assert len(values) == 32  # the refused records were never appended
    wait_logs_equal(brokers, "lag", 0)


def test_restarted_follower_catches_up_and_rejoins(
    brokers: list[KcliBroker], kazoo: KazooClient
) -> None:
    create_topic(brokers, "restart", 1, **{"min.insync.replicas": "2"})
    p = producer(brokers)
    assert produce(p, "restart", 500) == [None] * 500
    follower = brokers[2]
    follower.stop()  # (a SIGKILLed one would linger for the session timeout first)
    wait_until(lambda: isr(kazoo, "restart", 0) == [0, 1], 30, what="broker 2 dropped")
    assert produce(p, "restart", 500) == [None] * 500
    follower.start()
    wait_until(lambda: isr(kazoo, "restart", 0) == [0, 1, 2], 30, what="broker 2 rejoined")
    wait_logs_equal(brokers, "restart", 0)
    assert len(consume_all(brokers, "restart", 1)) == 1000


def test_high_watermark_checkpoint_survives_a_restart(brokers: list[KcliBroker]) -> None:
    # written at clean shutdown (and every replica.high.watermark.checkpoint.interval.ms)
    create_topic(brokers, "hwcp", 1)
    assert produce(producer(brokers), "hwcp", 20) == [None] * 20
    follower = brokers[1]
    wait_logs_equal(brokers, "hwcp", 0)

    def checkpointed() -> int | None:
        path: Path = follower.log_dir / "replication-offset-checkpoint"
        for line in path.read_text().splitlines()[2:]:
            topic, partition, offset = line.split()
            if (topic, partition) == ("hwcp", "0"):
                return int(offset)
        return None

    wait_until(lambda: checkpointed() == 20, 15, what="the follower's HW checkpoint")
