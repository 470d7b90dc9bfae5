"""Controller failover with work left undone (real brokers, bundled ZooKeeper): the
controller's broker is frozen (SIGSTOP) so it cannot act on a topic creation and a topic
deletion written just then, and is killed; the broker that wins /controller next finds both
in ZooKeeper at failover and finishes them (Kafka's onControllerFailover reads topics and
resumes deletions)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from kazoo.client import KazooClient

from kcli.testing.process import kcli_argv, wait_until
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


def _topics_zk(zk_connect: str, *args: str) -> None:
    done = subprocess.run(kcli_argv("topics", "--zookeeper", zk_connect, *args),
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def _controller(kazoo: KazooClient) -> int:
    found = kazoo.exists("/controller")
    return int(json.loads(kazoo.get("/controller")[0])["brokerid"]) if found else -1


def test_new_controller_finishes_creation_and_deletion(
    make_broker: BrokerFactory, kazoo: KazooClient, zk_connect: str
) -> None:
    first = make_broker(0)  # the controller
    others = [make_broker(1), make_broker(2)]
    assert _controller(kazoo) == 0
    wait_until(lambda: len(kazoo.get_children("/brokers/ids")) == 3, 10, what="3 brokers")
    client = admin(others[0])
    old = NewTopic("old", num_partitions=2, replica_assignment=[[1, 2], [2, 1]])
    client.create_topics([old], request_timeout=15)["old"].result()
    wait_until(lambda: all((b.log_dir / "old-0").is_dir() for b in others), 10, what="old's logs")

    assert first.process is not None
    os.kill(first.process.pid, signal.SIGSTOP)  # the controller can no longer act
    try:
        _topics_zk(zk_connect, "--create", "--topic", "fresh", "--replica-assignment", "1:2,2:1")
        _topics_zk(zk_connect, "--delete", "--topic", "old")
        assert kazoo.exists("/brokers/topics/fresh/partitions") is None  # nobody acted yet
        assert kazoo.exists("/admin/delete_topics/old") is not None
    finally:
        first.kill()  # SIGKILL ends a stopped process too

    wait_until(lambda: _controller(kazoo) in (1, 2), 20, what="a new controller")
    wait_until(lambda: kazoo.exists("/brokers/topics/old") is None, 15, what="old deleted")
    assert kazoo.exists("/admin/delete_topics/old") is None
    wait_until(lambda: not any((b.log_dir / f"old-{p}").exists() for b in others
                               for p in (0, 1)), 10, what="old's logs removed")  # fmt: skip
    wait_until(lambda: kazoo.exists("/brokers/topics/fresh/partitions/1/state") is not None, 15,
               what="fresh's partition states")  # fmt: skip
    for p, leader in ((0, 1), (1, 2)):
        state = json.loads(kazoo.get(f"/brokers/topics/fresh/partitions/{p}/state")[0])
        assert (state["leader"], state["leader_epoch"]) == (leader, 0)
    assert int(kazoo.get("/controller_epoch")[0]) == 2
