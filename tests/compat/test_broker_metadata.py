"""Independent Kafka clients bootstrap against kcli's broker: ApiVersions, Metadata and
DescribeCluster as confluent-kafka (librdkafka 2.x), kafka-python, aiokafka and kcat see them."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker

pytestmark = pytest.mark.compat

STATE = b'{"controller_epoch":1,"leader":0,"version":1,"leader_epoch":0,"isr":[0]}'


def _zookeeper(workdir: Path) -> Any:
    try:
        from kcli.testing.zookeeper import EmbeddedZooKeeper
    except ImportError:
        from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason

        reason = unavailable_reason()
        if reason:
            pytest.skip(reason)
        return ApacheZooKeeper(workdir).start()
    server = EmbeddedZooKeeper(workdir)
    return server.start() or server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KcliBroker, str]]:
    """One broker with a 3-partition topic `lab` written straight into ZooKeeper."""
    workdir = tmp_path_factory.mktemp("broker-compat")
    zookeeper = _zookeeper(workdir / "zk")
    broker: KcliBroker | None = None
    try:
        connect = f"{zookeeper.connect_string}/compat"
        # Without auto-creation an unknown topic is UNKNOWN_TOPIC_OR_PARTITION, not created.
        broker = KcliBroker(
            workdir, connect, 0, overrides={"auto.create.topics.enable": "false"}
        ).start()
        zk = KazooClient(hosts=connect)
        zk.start(timeout=15)
        try:
            cluster_id = json.loads(zk.get("/cluster/id")[0])["id"]
            assignment = b'{"version":1,"partitions":{"0":[0],"1":[0],"2":[0]}}'
            zk.create("/brokers/topics/lab", assignment)
            for p in range(3):
                zk.create(f"/brokers/topics/lab/partitions/{p}/state", STATE, makepath=True)
        finally:
            zk.stop()
            zk.close()
        yield broker, cluster_id
    finally:
        if broker is not None:
            broker.stop()
        zookeeper.stop()


def _eventually(fetch: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_confluent_kafka_admin_list_topics(cluster: tuple[KcliBroker, str]) -> None:
    from confluent_kafka.admin import AdminClient

    broker, cluster_id = cluster
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})

    def with_leaders() -> Any:
        md = admin.list_topics(timeout=10)
        lab = md.topics.get("lab")
        return md if lab and all(p.leader == 0 for p in lab.partitions.values()) else None

    md = _eventually(with_leaders)
    assert md is not None
    assert md.cluster_id == cluster_id
    assert md.controller_id == 0
    assert {b.id: (b.host, b.port) for b in md.brokers.values()} == {0: ("127.0.0.1", broker.port)}
    lab = md.topics["lab"]
    assert lab.error is None
    assert {p: (v.leader, v.replicas, v.isrs) for p, v in lab.partitions.items()} == {
        p: (0, [0], [0]) for p in range(3)
    }
    missing = admin.list_topics(topic="nope", timeout=10).topics["nope"]
    assert missing.error is not None and missing.error.code() == 3  # UNKNOWN_TOPIC_OR_PARTITION


def test_kafka_python_admin(cluster: tuple[KcliBroker, str]) -> None:
    from kafka import KafkaAdminClient

    broker, cluster_id = cluster
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        described = admin.describe_cluster()  # DescribeCluster v0-1
        assert described["cluster_id"] == cluster_id
        assert described["controller_id"] == 0
        assert [(b["broker_id"], b["port"]) for b in described["brokers"]] == [(0, broker.port)]
        (topic,) = admin.describe_topics(["lab"])
        assert topic["error_code"] == 0 and len(topic["partitions"]) == 3
        assert "lab" in admin.list_topics()
    finally:
        admin.close()


def test_kafka_python_consumer_bootstrap(cluster: tuple[KcliBroker, str]) -> None:
    from kafka import KafkaConsumer

    broker, _ = cluster
    # kafka-python opens with ApiVersions v4 (advertised here) and infers a broker version.
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        assert "lab" in consumer.topics()
        assert consumer.partitions_for_topic("lab") == {0, 1, 2}
    finally:
        consumer.close()


def test_aiokafka_bootstrap_and_metadata(cluster: tuple[KcliBroker, str]) -> None:
    import aiokafka

    broker, _ = cluster

    async def main() -> tuple[Any, Any]:
        client = aiokafka.AIOKafkaClient(bootstrap_servers=broker.bootstrap)
        await client.bootstrap()  # ApiVersions v0, then Metadata v5
        try:
            metadata = await client.fetch_all_metadata()
            return client.cluster.brokers(), metadata.partitions_for_topic("lab")
        finally:
            await client.close()

    brokers, partitions = asyncio.run(main())
    assert [(b.nodeId, b.port) for b in brokers] == [(0, broker.port)]
    assert partitions == {0, 1, 2}


def test_kcat_metadata_listing(cluster: tuple[KcliBroker, str]) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        pytest.skip("kcat is not installed")
    broker, _ = cluster
    res = subprocess.run(
        [kcat, "-b", broker.bootstrap, "-L", "-J", "-m", "10"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    listing = json.loads(res.stdout)
    assert listing["controllerid"] == 0
    assert [b["name"] for b in listing["brokers"]] == [f"127.0.0.1:{broker.port}"]
    (lab,) = [t for t in listing["topics"] if t["topic"] == "lab"]
    assert [p["leader"] for p in lab["partitions"]] == [0, 0, 0]


def test_clients_still_work_after_garbage(cluster: tuple[KcliBroker, str]) -> None:
    from confluent_kafka.admin import AdminClient

    broker, _ = cluster
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as bad:
        bad.sendall(struct.pack(">i", 12) + b"\xde\xad\xbe\xef" * 3)
        bad.settimeout(10)
        assert bad.recv(1) == b""
    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
    assert "lab" in md.topics
