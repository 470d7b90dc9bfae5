"""Unclean leader election end to end (real brokers, bundled ZooKeeper), Kafka's classic
scenario: the follower stops, the leader takes more acknowledged records alone, then dies.

- unclean off: the returning follower may not lead; the partition stays offline (leader -1,
  listed by `topics --describe --unavailable-partitions`) until the old leader returns, and
  then every acknowledged record is there.
- unclean on (`kcli leader-election --election-type UNCLEAN`): the lagging follower leads at
  once; what only the dead leader had is lost (Kafka's documented loss), and when the old
  leader returns it truncates to the new leader's log, so offsets stay consecutive.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker
from kcli.testing.process import kcli_argv, wait_until
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin

pytestmark = pytest.mark.integration

TOPIC = "u"


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def _state(kazoo: KazooClient) -> dict[str, Any]:
    return dict(json.loads(kazoo.get(f"/brokers/topics/{TOPIC}/partitions/0/state")[0]))


def _produce(broker: KcliBroker, values: list[str]) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all",
                         "message.timeout.ms": 15000})  # fmt: skip
    for v in values:
        producer.produce(TOPIC, v.encode(), partition=0)
    assert producer.flush(20) == 0


def _consume(broker: KcliBroker) -> list[tuple[int, str]]:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})  # fmt: skip
    try:
        end = consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=15)[1]
        consumer.assign([TopicPartition(TOPIC, 0, 0)])
        got: list[tuple[int, str]] = []
        for _ in range(100):  # bounded: 100 polls of 0.2 s
            if len(got) >= end:
                break
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                got.append((msg.offset() or 0, bytes(msg.value() or b"").decode()))
        return got
    finally:
        consumer.close()


def _describe(broker: KcliBroker, flag: str) -> str:
    argv = kcli_argv("topics", "--bootstrap-server", broker.bootstrap, "--describe",
                     "--topic", TOPIC, flag)  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _leader_alone_dies(make_broker: BrokerFactory, kazoo: KazooClient) -> list[KcliBroker]:
    """Broker 0 leads `u-0` with broker 1 following; 1 stops, 0 takes "b" records alone and
    is killed. Ends with both down and the partition's last ISR member being broker 0."""
    leader, follower = make_broker(0), make_broker(1)
    client = admin(leader)
    topic = NewTopic(TOPIC, num_partitions=1, replica_assignment=[[0, 1]],
                     config={"min.insync.replicas": "1"})  # fmt: skip
    client.create_topics([topic], request_timeout=15)[TOPIC].result()
    wait_until(lambda: _state(kazoo)["isr"] == [0, 1], 15, what="full ISR")
    _produce(leader, [f"a{i}" for i in range(10)])
    wait_until((follower.log_dir / f"{TOPIC}-0").is_dir, 10, what="follower's log")
    follower.stop()  # controlled shutdown: out of the ISR at once
    assert _state(kazoo)["isr"] == [0]
    assert "Partition: 0" in _describe(leader, "--under-replicated-partitions")
    assert "Partition: 0" in _describe(leader, "--at-min-isr-partitions")  # 1 of min 1
    assert _describe(leader, "--under-min-isr-partitions") == ""
    _produce(leader, [f"b{i}" for i in range(10)])  # acknowledged by the leader alone
    leader.kill()
    return [leader, follower]


def test_unclean_off_stays_offline_and_loses_nothing(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    leader, follower = _leader_alone_dies(make_broker, kazoo)
    follower.start()
    wait_until(lambda: _state(kazoo)["leader"] == -1, 20, what="leader -1 after the session")
    assert _state(kazoo)["isr"] == [0]  # Kafka keeps the last ISR member
    unavailable = _describe(follower, "--unavailable-partitions")
    assert f"Topic: {TOPIC}\tPartition: 0\tLeader: none" in unavailable, unavailable
    leader.start()  # the last in-sync replica returns and leads again
    wait_until(lambda: _state(kazoo)["leader"] == 0, 20, what="broker 0 leads")
    got = _consume(leader)
    assert got == [(i, f"a{i}") for i in range(10)] + [(10 + i, f"b{i}") for i in range(10)]
    wait_until(lambda: _state(kazoo)["isr"] == [0, 1], 20, what="broker 1 back in the ISR")
    assert _describe(leader, "--under-replicated-partitions") == ""
    client = admin(leader)
    stricter = ConfigResource("topic", TOPIC, incremental_configs=[ConfigEntry(
        "min.insync.replicas", "3", incremental_operation=AlterConfigOpType.SET)])  # fmt: skip
    client.incremental_alter_configs([stricter])[stricter].result()
    wait_until(lambda: "Partition: 0" in _describe(leader, "--under-min-isr-partitions"), 10,
               what="listed under min ISR")  # fmt: skip
    assert _describe(leader, "--at-min-isr-partitions") == ""


def test_unclean_on_elects_the_lagging_replica_and_loses_its_tail(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    leader, follower = _leader_alone_dies(make_broker, kazoo)
    follower.start()
    wait_until(lambda: _state(kazoo)["leader"] == -1, 20, what="leader -1 after the session")
    elect = subprocess.run(kcli_argv("leader-election", "--bootstrap-server", follower.bootstrap,
                                     "--election-type", "UNCLEAN", "--topic", TOPIC,
                                     "--partition", "0"), capture_output=True, text=True,
                           timeout=60)  # fmt: skip
    assert (
        elect.stdout
        == f"Successfully completed leader election (UNCLEAN) for partitions {TOPIC}-0\n"
    )
    state = _state(kazoo)
    assert (state["leader"], state["isr"]) == (1, [1])
    _produce(follower, [f"c{i}" for i in range(5)])
    leader.start()  # comes back as a follower and truncates its "b" records away
    wait_until(lambda: _state(kazoo)["isr"] == [1, 0], 20, what="broker 0 back in the ISR")
    expected = [(i, f"a{i}") for i in range(10)] + [(10 + i, f"c{i}") for i in range(5)]
    assert _consume(follower) == expected
    follower.stop()  # controlled shutdown hands leadership to broker 0, now in sync
    assert _state(kazoo)["leader"] == 0
    assert _consume(leader) == expected  # its "b" records are gone, "c" copied in their place
