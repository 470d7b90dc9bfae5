"""Three brokers (bundled ZooKeeper): the controller's LeaderAndIsr reaches the other brokers
over the wire, so partitions led by any broker take writes and every replica has its log;
StopReplica deletes the logs of a deleted topic on every broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import NewTopic
from kazoo.client import KazooClient

from kcli.protocol import inter_broker as ib
from kcli.protocol.errors import ErrorCode
from kcli.testing.process import wait_until
from tests.integration.broker import wire
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


def test_three_brokers_lead_replicate_and_delete(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    brokers = [make_broker(i, start=False) for i in range(3)]
    for b in brokers:
        b.start(wait=False)
    for b in brokers:
        b.wait_ready()
    wait_until(lambda: len(kazoo.get_children("/brokers/ids")) == 3, 10, what="3 brokers")
    client = admin(brokers[0])
    spread = NewTopic("spread", num_partitions=3, replica_assignment=[[0], [1], [2]])
    wide = NewTopic("wide", 2, 3)
    for future in client.create_topics([spread, wide], request_timeout=15).values():
        future.result()
    for p in range(3):  # each partition led by a different broker
        assert (
            json.loads(kazoo.get(f"/brokers/topics/spread/partitions/{p}/state")[0])["leader"] == p
        )
        produce_and_read_back(brokers[p], "spread", p)
    # RF 3: every broker opened its replica's log (as leader or follower).
    wait_until(lambda: all((b.log_dir / f"wide-{p}").is_dir() for b in brokers for p in (0, 1)),
               10, what="wide's logs on all brokers")  # fmt: skip

    client.delete_topics(["wide"], operation_timeout=15)["wide"].result()
    assert kazoo.exists("/brokers/topics/wide") is None
    wait_until(lambda: not any((b.log_dir / f"wide-{p}").exists() for b in brokers
                               for p in (0, 1)), 10, what="wide's logs deleted")  # fmt: skip


def test_deletion_waits_for_a_stopped_replica(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first, second = make_broker(0), make_broker(1)
    client = admin(first)
    pair = NewTopic("pair", num_partitions=1, replica_assignment=[[0, 1]])
    client.create_topics([pair], request_timeout=15)["pair"].result()
    wait_until((second.log_dir / "pair-0").is_dir, 10, what="the follower's log")
    second.stop()
    wait_until(lambda: kazoo.get_children("/brokers/ids") == ["0"], 10, what="broker 1 gone")
    kazoo.create("/admin/delete_topics/pair")  # as kafka-topics.sh --zookeeper --delete does
    # Kafka marks the deletion ineligible while a replica is offline: nothing is deleted yet.
    wait_until(lambda: "paused" in first.new_log(), 10, what="the paused deletion")
    assert kazoo.exists("/brokers/topics/pair") is not None
    second.start()
    wait_until(lambda: kazoo.exists("/admin/delete_topics/pair") is None, 15, what="deletion")
    assert kazoo.exists("/brokers/topics/pair") is None  # deleted before the request znode
    wait_until(lambda: not (second.log_dir / "pair-0").exists(), 10, what="broker 1's log gone")
    assert not (first.log_dir / "pair-0").exists()


def _controlled_shutdown(bootstrap: str, broker_id: int, epoch: int) -> Any:
    request = ib.ControlledShutdownRequest(broker_id=broker_id, broker_epoch=epoch)
    with wire.connect(bootstrap) as sock:
        sock.sendall(wire.request_bytes(request, ib.CONTROLLED_SHUTDOWN_VERSION))
        frame = wire.read_frame(sock)
    return ib.decode(ib.ControlledShutdownResponse, frame, 5)  # correlation id + no tags


def test_controlled_shutdown_moves_leadership_off_the_broker(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first, second = make_broker(0), make_broker(1)  # broker 0 is the controller
    client = admin(first)
    cs = NewTopic("cs", num_partitions=2, replica_assignment=[[1, 0], [0, 1]])
    client.create_topics([cs], request_timeout=15)["cs"].result()
    epoch = kazoo.exists("/brokers/ids/1").czxid

    assert _controlled_shutdown(second.bootstrap, 1, epoch).error_code == ErrorCode.not_controller
    stale = _controlled_shutdown(first.bootstrap, 1, epoch - 1)
    assert stale.error_code == ErrorCode.stale_broker_epoch
    assert _controlled_shutdown(first.bootstrap, 7, -1).error_code == (
        ErrorCode.broker_not_available
    )
    done = _controlled_shutdown(first.bootstrap, 1, epoch)
    assert (done.error_code, done.remaining_partitions) == (ErrorCode.none, ())
    led = json.loads(kazoo.get("/brokers/topics/cs/partitions/0/state")[0])
    followed = json.loads(kazoo.get("/brokers/topics/cs/partitions/1/state")[0])
    # (the ISR may grow back to [0, 1]: broker 1, still running, now follows and catches up)
    assert (led["leader"], led["leader_epoch"]) == (0, 1)
    assert (followed["leader"], followed["isr"], followed["leader_epoch"]) == (0, [0], 1)
    second.stop()  # now the broker goes: nothing it led needs an election any more

    def led_by_0_alone() -> bool:
        after = json.loads(kazoo.get("/brokers/topics/cs/partitions/0/state")[0])
        return (after["leader"], after["isr"]) == (0, [0])

    wait_until(led_by_0_alone, 10, what="cs-0 led by broker 0 alone")
