"""Preferred leader election (bundled ZooKeeper, real brokers): after a broker is stopped and
comes back, `kcli leader-election` gives its partitions back to it with Kafka's output, and the
controller's auto rebalance does the same unasked when it is enabled."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from kazoo.client import KazooClient

from kcli.protocol.errors import ErrorCode
from kcli.testing.broker import KcliBroker
from kcli.testing.process import kcli_argv, wait_until
from tests.integration.broker import wire
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin

pytestmark = pytest.mark.integration

ASSIGNMENT = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def _state(kazoo: KazooClient, topic: str, p: int) -> dict[str, Any]:
    return dict(json.loads(kazoo.get(f"/brokers/topics/{topic}/partitions/{p}/state")[0]))


def _leaders(kazoo: KazooClient, topic: str) -> list[int]:
    return [_state(kazoo, topic, p)["leader"] for p in range(len(ASSIGNMENT))]


def _three(make_broker: BrokerFactory, kazoo: KazooClient, **overrides: str) -> list[KcliBroker]:
    brokers = [make_broker(i, start=False, **overrides) for i in range(3)]
    for b in brokers:
        b.start(wait=False)
    for b in brokers:
        b.wait_ready()
    wait_until(lambda: len(kazoo.get_children("/brokers/ids")) == 3, 10, what="3 brokers")
    client = admin(brokers[0])
    topic = NewTopic("pref", num_partitions=3, replica_assignment=ASSIGNMENT)
    client.create_topics([topic], request_timeout=15)["pref"].result()
    wait_until(lambda: all(len(_state(kazoo, "pref", p)["isr"]) == 3 for p in range(3)), 15,
               what="full ISRs")  # fmt: skip
    return brokers


def _bounce_broker_0(brokers: list[KcliBroker], kazoo: KazooClient) -> None:
    brokers[0].stop()  # controlled shutdown: partition 0 moves to broker 1
    assert _leaders(kazoo, "pref") == [1, 1, 2]
    brokers[0].start()
    wait_until(lambda: all(0 in _state(kazoo, "pref", p)["isr"] for p in range(3)), 20,
               what="broker 0 back in every ISR")  # fmt: skip


def _election(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(kcli_argv("leader-election", "--bootstrap-server", bootstrap, *args),
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_leader_election_command_restores_preferred_leaders(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    brokers = _three(make_broker, kazoo, auto_leader_rebalance_enable="false")
    _bounce_broker_0(brokers, kazoo)
    bootstrap = brokers[1].bootstrap
    unclean = _election(bootstrap, "--election-type", "unclean", "--topic", "pref",
                        "--partition", "0")  # fmt: skip
    assert unclean.stdout == "Valid replica already elected for partitions pref-0\n"
    done = _election(bootstrap, "--election-type", "PREFERRED", "--all-topic-partitions")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout == "Successfully completed leader election (PREFERRED) for partitions pref-0\n"
    )
    assert _leaders(kazoo, "pref") == [0, 1, 2]
    again = _election(bootstrap, "--election-type", "preferred", "--topic", "pref",
                      "--partition", "0", "--format", "json")  # fmt: skip
    assert json.loads(again.stdout) == {"election_type": "PREFERRED", "succeeded": [],
                                        "not_needed": ["pref-0"], "failed": []}  # fmt: skip
    missing = _election(bootstrap, "--election-type", "PREFERRED", "--topic", "nope",
                        "--partition", "3")  # fmt: skip
    assert missing.returncode == 1
    assert missing.stdout.startswith("Error completing leader election (PREFERRED) for partition: "
                                     "nope-3: org.apache.kafka.common.errors.")  # fmt: skip
    bad = _election(bootstrap, "--election-type", "PREFERRED", "--topic", "pref")
    assert (bad.returncode, bad.stderr.strip()) == (
        1, "Error: Missing required option(s) [partition]")  # fmt: skip


def test_auto_rebalance_restores_preferred_leaders(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    brokers = _three(make_broker, kazoo, leader_imbalance_check_interval_seconds="1")
    _bounce_broker_0(brokers, kazoo)
    wait_until(lambda: _leaders(kazoo, "pref") == [0, 1, 2], 10, what="preferred leaders back")


def test_elect_leaders_elsewhere_than_the_controller_answers_not_controller(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    from kio.schema.elect_leaders.v0.request import ElectLeadersRequest as V0
    from kio.schema.elect_leaders.v2.request import ElectLeadersRequest as V2

    brokers = _three(make_broker, kazoo, auto_leader_rebalance_enable="false")
    controller = json.loads(kazoo.get("/controller")[0])["brokerid"]
    other = brokers[(controller + 1) % 3]
    everything = wire.call(other.bootstrap, V2(election_type=0, topic_partitions=None), 2)
    codes = {(t.topic, p.partition_id): p.error_code
             for t in everything.replica_election_results for p in t.partition_result}  # fmt: skip
    assert {("pref", 0), ("pref", 1), ("pref", 2)} <= set(codes)
    assert set(codes.values()) == {ErrorCode.not_controller}
    # v0 (preferred only) to the controller: every partition already has its preferred leader
    v0 = wire.call(brokers[controller].bootstrap, V0(topic_partitions=None), 0)
    assert v0.replica_election_results == ()
