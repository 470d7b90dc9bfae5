"""A port of Kafka's replication system test (tests/kafkatest/tests/core/replication_test.py,
"clean_shutdown" and "hard_shutdown" of the leader) on kcli brokers with confluent-kafka.

Three brokers, a topic with RF 3 and min.insync.replicas 2, an idempotent acks=all producer
paced at ~1,200 msg/s. The leader of partition 0 is stopped with SIGTERM (controlled shutdown)
and killed with SIGKILL (failover after the ZooKeeper session expires; 6 s here), and restarted
each time once its replacement leads. Then a consumer reads every partition from the start:
every acknowledged record is there at the offset it was acknowledged with, no value appears
twice, and each partition's offsets run 0, 1, 2, ... without a gap. Run on the bundled ZooKeeper
and on Debian's Apache ZooKeeper.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker, bootstrap_servers, cluster
from kcli.testing.process import wait_until
from tests.compat.conftest import start_apache_zookeeper, start_embedded_zookeeper

pytestmark = pytest.mark.compat

TOPIC = "bounce"
PARTITIONS = 3
RATE = 1200  # records/s offered
SESSION_MS = 6000
BROKER_OVERRIDES = {
    "zookeeper.session.timeout.ms": str(SESSION_MS),
    "min.insync.replicas": "2",
    "controlled.shutdown.retry.backoff.ms": "500",
    "auto.leader.rebalance.enable": "false",  # leadership moves only because of the bounces
}


@pytest.fixture(params=["embedded", "apache"])
def zk_connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    start = start_embedded_zookeeper if request.param == "embedded" else start_apache_zookeeper
    server: Any = start(tmp_path / "zk")
    try:
        yield f"{server.connect_string}/bounce"
    finally:
        server.stop()


class PacedProducer(threading.Thread):
    """Sends "0", "1", ... at RATE records/s, keyless across partitions, and remembers where
    each acknowledged value landed."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "message.timeout.ms": 120000, "partitioner": "random",
        })  # fmt: skip
        self.acked: dict[str, tuple[int, int]] = {}
        self.failed: list[str] = []
        self.sent = 0
        self.elapsed = 0.0
        self.stopping = threading.Event()

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        value = bytes(msg.value() or b"").decode()
        if err is None:
            self.acked[value] = (msg.partition() or 0, msg.offset() or 0)
        else:
            self.failed.append(f"{value}: {err}")

    def run(self) -> None:
        started = time.monotonic()
        while not self.stopping.is_set():
            due = int((time.monotonic() - started) * RATE)
            while self.sent < due:
                self.producer.produce(TOPIC, str(self.sent).encode(), on_delivery=self._report)
                self.sent += 1
            self.producer.poll(0.01)
        self.elapsed = time.monotonic() - started

    def finish(self) -> None:
        self.stopping.set()
        self.join(10)
        assert self.producer.flush(120) == 0, "records still unacknowledged after 120 s"


def _state(kazoo: KazooClient, p: int) -> dict[str, Any]:
    return dict(json.loads(kazoo.get(f"/brokers/topics/{TOPIC}/partitions/{p}/state")[0]))


def _wait_full_isr(kazoo: KazooClient, timeout: float) -> None:
    wait_until(lambda: all(len(_state(kazoo, p)["isr"]) == 3 for p in range(PARTITIONS)),
               timeout, interval=0.2, what="every ISR back to 3 replicas")  # fmt: skip


def _bounce_leader(brokers: list[KcliBroker], kazoo: KazooClient, hard: bool) -> float:
    """Stop (or kill) partition 0's leader; the seconds until another broker leads it."""
    old = _state(kazoo, 0)["leader"]
    victim = brokers[old]
    started = time.monotonic()
    if hard:
        victim.kill()
    else:
        assert victim.stop() == 0
    wait_until(lambda: _state(kazoo, 0)["leader"] not in (old, -1), SESSION_MS / 1000 + 15,
               interval=0.05, what=f"a new leader for {TOPIC}-0")  # fmt: skip
    took = time.monotonic() - started
    wait_until(lambda: kazoo.exists(f"/brokers/ids/{old}") is None, 15, what="old session gone")
    victim.start()
    _wait_full_isr(kazoo, 30)
    return took


def _consume_all(bootstrap: str) -> dict[int, list[tuple[int, str]]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bounce-check",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=15)[1]
                for p in range(PARTITIONS)}  # fmt: skip
        consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
        seen: dict[int, list[tuple[int, str]]] = {p: [] for p in range(PARTITIONS)}
        deadline = time.monotonic() + 60
        while any(len(seen[p]) < ends[p] for p in seen) and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                assert msg.error() is None, msg.error()
                seen[msg.partition() or 0].append(
                    (msg.offset() or 0, bytes(msg.value() or b"").decode())
                )
        return seen
    finally:
        consumer.close()


def test_leader_bounces_lose_and_duplicate_nothing(zk_connect: str, tmp_path: Path) -> None:
    with cluster(tmp_path, zk_connect, 3, overrides=BROKER_OVERRIDES) as brokers:
        bootstrap = bootstrap_servers(brokers)
        kazoo = KazooClient(hosts=zk_connect, timeout=10.0)
        kazoo.start(timeout=15)
        producer: PacedProducer | None = None
        try:
            admin = AdminClient({"bootstrap.servers": bootstrap})
            admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3)], request_timeout=15)[
                TOPIC
            ].result()
            _wait_full_isr(kazoo, 15)
            producer = PacedProducer(bootstrap)
            producer.start()
            time.sleep(1.5)
            failovers = [
                (hard, _bounce_leader(brokers, kazoo, hard)) for hard in (False, True, False, True)
            ]
            time.sleep(1.0)
            producer.finish()
        finally:
            if producer is not None:
                producer.stopping.set()
            kazoo.stop()
            kazoo.close()
        offered = producer.sent / producer.elapsed
        print(
            f"offered {offered:.0f} msg/s, {len(producer.acked)} acknowledged; failovers: "
            + ", ".join(f"{'SIGKILL' if h else 'SIGTERM'} {t:.2f}s" for h, t in failovers)
        )
        assert offered >= 1000
        assert not producer.failed, producer.failed[:5]
        assert len(producer.acked) == producer.sent
        seen = _consume_all(bootstrap)

    by_position = {(p, off): value for p, records in seen.items() for off, value in records}
    for p, records in seen.items():  # consecutive offsets from 0
        assert [off for off, _ in records] == list(range(len(records))), f"gap in {TOPIC}-{p}"
    values = [value for records in seen.values() for _, value in records]
    assert len(values) == len(set(values)), "a record was consumed twice"
    lost = [v for v, where in producer.acked.items() if by_position.get(where) != v]
    assert not lost, f"{len(lost)} acknowledged records missing or moved, e.g. {lost[:5]}"
    for hard, took in failovers:
        assert took < (SESSION_MS / 1000 + 10 if hard else 10)
