"""Controlled shutdown driven by SIGTERM (bundled ZooKeeper, real broker processes): the broker
asks the controller to move leadership off it before it stops, so the new leader's state znode
is written before the broker's registration disappears; a lone broker stops at once; with
controlled.shutdown.enable=false leadership only moves when the session is gone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from kazoo.client import KazooClient

from kcli.testing.process import wait_until
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def _state(kazoo: KazooClient, topic: str, p: int) -> tuple[dict[str, Any], Any]:
    data, stat = kazoo.get(f"/brokers/topics/{topic}/partitions/{p}/state")
    return json.loads(data), stat


def test_sigterm_moves_leadership_before_the_broker_leaves(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    brokers = [make_broker(i, start=False) for i in range(3)]
    for b in brokers:
        b.start(wait=False)
    for b in brokers:
        b.wait_ready()
    wait_until(lambda: len(kazoo.get_children("/brokers/ids")) == 3, 10, what="3 brokers")
    topic = NewTopic("cs", num_partitions=3, replica_assignment=[[1, 0, 2], [1, 2, 0], [0, 1, 2]])
    client = admin(brokers[0])
    client.create_topics([topic], request_timeout=15)["cs"].result()
    # followers catch up and join the ISR (empty logs: at once)
    wait_until(lambda: all(len(_state(kazoo, "cs", p)[0]["isr"]) == 3 for p in range(3)), 15,
               what="full ISRs")  # fmt: skip

    started = time.monotonic()
    brokers[1].stop()
    took = time.monotonic() - started
    log = brokers[1].new_log()
    assert "Controlled shutdown request returned successfully" in log, log[-2000:]
    ids_stat = kazoo.exists("/brokers/ids")
    for p, new_leader in ((0, 0), (1, 2)):
        state, stat = _state(kazoo, "cs", p)
        assert state["leader"] == new_leader and 1 not in state["isr"]
        assert state["leader_epoch"] >= 1
        # written before broker 1's registration went away (that deletion bumped pzxid)
        assert stat.mzxid < ids_stat.pzxid
    state, _ = _state(kazoo, "cs", 2)
    assert state["leader"] == 0 and 1 not in state["isr"]
    assert took < 10, f"stop took {took:.1f}s"


def test_lone_broker_stops_at_once(make_broker: BrokerFactory) -> None:
    broker = make_broker(0)
    client = admin(broker)
    client.create_topics([NewTopic("solo", 1, 1)], request_timeout=15)["solo"].result()
    started = time.monotonic()
    assert broker.stop() == 0
    assert time.monotonic() - started < 5
    assert "No other live broker: skipping controlled shutdown" in broker.new_log()


def test_disabled_controlled_shutdown_leaves_leadership_to_the_session(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first = make_broker(0)
    second = make_broker(1, controlled_shutdown_enable="false")
    topic = NewTopic("nocs", num_partitions=1, replica_assignment=[[1, 0]])
    client = admin(first)
    client.create_topics([topic], request_timeout=15)["nocs"].result()
    wait_until(lambda: len(_state(kazoo, "nocs", 0)[0]["isr"]) == 2, 15, what="full ISR")
    second.stop()
    assert "controlled shutdown" not in second.new_log().lower()
    # a clean stop closes the session: the controller fails the broker over right away
    wait_until(lambda: _state(kazoo, "nocs", 0)[0]["leader"] == 0, 10, what="broker 0 leads")
