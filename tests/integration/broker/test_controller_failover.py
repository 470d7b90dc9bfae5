"""The controller across broker stops (bundled ZooKeeper): a restarted single broker leads its
partitions again; when the controller's broker stops, the other broker wins `/controller` with
the next epoch, elects new leaders from the ISR with Kafka's JSON and serves produce; a
deposed controller's writes are refused by the `/controller_epoch` version check."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic
from kazoo.client import KazooClient

from kcli.broker.config import ZkConnect
from kcli.broker.controller.kafka_zk_client import ControllerMovedError, KafkaZkClient
from kcli.broker.controller.zk import ZkClient
from kcli.broker.metadata_cache import PartitionState
from kcli.testing.process import wait_until
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin, produce_and_read_back

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def state(kazoo: KazooClient, topic: str, p: int) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        kazoo.get(f"/brokers/topics/{topic}/partitions/{p}/state")[0]
    )
    return found


def test_restarted_broker_leads_its_partitions_again(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0)
    client = admin(broker)  # the futures need their client alive
    client.create_topics([NewTopic("stay", 2, 1)], request_timeout=15)["stay"].result()
    produce_and_read_back(broker, "stay", 1)
    broker.restart()
    assert kazoo.get("/controller_epoch")[0] == b"2"
    produce_and_read_back(broker, "stay", 1)  # LeaderAndIsr at failover reopened the log
    assert state(kazoo, "stay", 1)["leader"] == 0


def test_controller_failover_elects_from_the_isr(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first = make_broker(0, controlled_shutdown_enable="false")  # leaders move at failover
    second = make_broker(1)
    assert json.loads(kazoo.get("/controller")[0])["brokerid"] == 0
    new = NewTopic("ha", num_partitions=2, replica_assignment=[[0, 1], [1, 0]])
    client = admin(first)
    client.create_topics([new], request_timeout=15)["ha"].result()
    assert state(kazoo, "ha", 0) == {
        "controller_epoch": 1, "leader": 0, "version": 1, "leader_epoch": 0, "isr": [0, 1],
    }  # fmt: skip

    first.stop()  # SIGTERM: its session closes, /controller and /brokers/ids/0 go at once
    wait_until(lambda: kazoo.exists("/controller") is not None
               and json.loads(kazoo.get("/controller")[0])["brokerid"] == 1,
               15, what="broker 1 as controller")  # fmt: skip
    assert kazoo.get("/controller_epoch")[0] == b"2"
    wait_until(lambda: state(kazoo, "ha", 0)["leader"] == 1, 15, what="new leader of ha-0")
    assert state(kazoo, "ha", 0) == {
        "controller_epoch": 2, "leader": 1, "version": 1, "leader_epoch": 1, "isr": [1],
    }  # fmt: skip
    wait_until(lambda: state(kazoo, "ha", 1)["isr"] == [1], 15, what="ha-1 ISR shrink")
    assert state(kazoo, "ha", 1)["leader_epoch"] == 1
    produce_and_read_back(second, "ha", 0)


def test_deposed_controller_writes_are_fenced(zk_connect: str, kazoo: KazooClient) -> None:
    async def go() -> None:
        zk = ZkClient(ZkConnect.parse(zk_connect), 6000, 10000)
        await zk.start()
        try:
            kzk = KafkaZkClient(zk)
            await kzk.create_top_level_paths()
            won = await kzk.elect(7, 0)
            assert (won.controller_id, won.epoch) == (7, 1)
            kazoo.ensure_path("/brokers/topics/f")
            fresh = PartitionState(leader=7, leader_epoch=0, isr=(7,), controller_epoch=1)
            await kzk.create_partition_state(won.epoch_zk_version, "f", 0, fresh)
            kazoo.set("/controller_epoch", b"2")  # another controller took over
            with pytest.raises(ControllerMovedError):
                await kzk.create_partition_state(won.epoch_zk_version, "f", 1, fresh)
        finally:
            await zk.close()

    asyncio.run(go())
    assert kazoo.exists("/brokers/topics/f/partitions/0/state") is not None
    assert kazoo.exists("/brokers/topics/f/partitions/1") is None


def _shrink_isr_as_the_leader(zk_connect: str, topic: str, isr: tuple[int, ...]) -> None:
    """What a leader does on the IBP < 2.7 path: rewrite its state znode, then notify."""

    async def go() -> None:
        zk = ZkClient(ZkConnect.parse(zk_connect), 6000, 10000)
        await zk.start()
        try:
            kzk = KafkaZkClient(zk)
            current = await kzk.get_partition_state(topic, 0)
            assert current is not None
            shrunk = PartitionState(current.leader, current.leader_epoch, isr,
                                    current.controller_epoch, current.zk_version)  # fmt: skip
            assert await kzk.update_leader_and_isr(topic, 0, shrunk) is not None
            assert await kzk.update_leader_and_isr(topic, 0, shrunk) is None  # BadVersion now
            await kzk.propagate_isr_changes([(topic, 0)])
        finally:
            await zk.close()

    asyncio.run(go())


@pytest.mark.parametrize("unclean", ["false", "true", "later"])
def test_leader_loss_with_no_live_isr_member(
    make_broker: BrokerFactory, kazoo: KazooClient, zk_connect: str, unclean: str
) -> None:
    first = make_broker(0)  # the controller
    second = make_broker(1, controlled_shutdown_enable="false")  # nothing to move: stop at once
    client = admin(first)
    allowed = "true" if unclean == "true" else "false"
    lone = NewTopic("lone", num_partitions=1, replica_assignment=[[1, 0]],
                    config={"unclean.leader.election.enable": allowed})  # fmt: skip
    client.create_topics([lone], request_timeout=15)["lone"].result()
    assert state(kazoo, "lone", 0)["isr"] == [1, 0]
    _shrink_isr_as_the_leader(zk_connect, "lone", (1,))
    wait_until(lambda: kazoo.get_children("/isr_change_notification") == [], 10,
               what="the controller to take the notification")  # fmt: skip
    second.stop()  # the only ISR member
    if unclean != "true":  # no clean leader: offline, the last ISR member kept (Kafka's JSON)
        wait_until(lambda: state(kazoo, "lone", 0)["leader"] == -1, 15, what="offline")
        assert state(kazoo, "lone", 0) == {
            "controller_epoch": 1, "leader": -1, "version": 1, "leader_epoch": 1, "isr": [1],
        }  # fmt: skip
    if unclean == "false":
        return
    if unclean == "later":  # enabling it on the topic afterwards brings the partition back
        allow = ConfigResource("topic", "lone", incremental_configs=[ConfigEntry(
            "unclean.leader.election.enable", "true",
            incremental_operation=AlterConfigOpType.SET)])  # fmt: skip
        client.incremental_alter_configs([allow])[allow].result()
    # The live out-of-sync replica leads: Kafka's documented loss of what it never copied.
    wait_until(lambda: state(kazoo, "lone", 0)["leader"] == 0, 15, what="unclean leader")
    assert state(kazoo, "lone", 0)["isr"] == [0]
    assert state(kazoo, "lone", 0)["leader_epoch"] == (1 if unclean == "true" else 2)


def test_bounced_broker_is_failed_then_started(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first = make_broker(0)  # the controller
    make_broker(1)
    client = admin(first)
    led = NewTopic("led", num_partitions=1, replica_assignment=[[1, 0]])
    client.create_topics([led], request_timeout=15)["led"].result()
    assert state(kazoo, "led", 0)["leader"] == 1
    # Broker 1's registration replaced in one step (same id, new czxid): a restart the
    # controller saw only as "still there". Kafka treats it as a failure plus a startup.
    data, _ = kazoo.get("/brokers/ids/1")
    tx = kazoo.transaction()
    tx.delete("/brokers/ids/1")
    tx.create("/brokers/ids/1", data, ephemeral=True)
    assert all(r is True or isinstance(r, str) for r in tx.commit())
    wait_until(lambda: state(kazoo, "led", 0)["leader"] == 0, 15, what="leadership moved")
    moved = state(kazoo, "led", 0)
    # Broker 1 is alive: as a follower it catches up and the leader may add it back at once.
    assert moved.pop("isr") in ([0], [0, 1])
    assert moved == {"controller_epoch": 1, "leader": 0, "version": 1, "leader_epoch": 1}
    assert "bounced brokers: [1]" in first.new_log()
