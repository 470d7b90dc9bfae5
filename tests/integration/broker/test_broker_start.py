"""The broker against a real ZooKeeper: znodes with Kafka's JSON, meta.properties, controller,
clean and unclean stops, and the start-up errors a user can make."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient
from kio.schema.metadata.v12.request import MetadataRequest

from kcli.broker.controller.znodes import PERSISTENT_PATHS
from kcli.testing.process import free_port, kcli_argv, wait_until
from tests.integration.broker import wire
from tests.integration.broker.conftest import BrokerFactory

pytestmark = pytest.mark.integration


def _json(kazoo: KazooClient, path: str) -> dict[str, object]:
    data, _ = kazoo.get(path)
    result: dict[str, object] = json.loads(data)
    return result


def test_registration_controller_and_cluster_id(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0)
    reg = _json(kazoo, "/brokers/ids/0")
    timestamp = reg.pop("timestamp")
    assert isinstance(timestamp, str) and abs(int(timestamp) - time.time() * 1000) < 60_000
    assert reg == {
        "features": {},
        "listener_security_protocol_map": {"PLAINTEXT": "PLAINTEXT"},
        "endpoints": [f"PLAINTEXT://127.0.0.1:{broker.port}"],
        "jmx_port": -1,
        "port": broker.port,
        "host": "127.0.0.1",
        "version": 5,
    }
    assert kazoo.exists("/brokers/ids/0").ephemeralOwner != 0
    controller = _json(kazoo, "/controller")
    assert (controller["version"], controller["brokerid"]) == (1, 0)
    assert kazoo.get("/controller_epoch")[0] == b"1"
    cluster = _json(kazoo, "/cluster/id")
    assert cluster["version"] == "1" and len(str(cluster["id"])) == 22
    for path in PERSISTENT_PATHS:
        assert kazoo.exists(path) is not None, path
    meta = (broker.log_dir / "meta.properties").read_text().splitlines()
    assert f"cluster.id={cluster['id']}" in meta
    assert "broker.id=0" in meta and "version=0" in meta
    assert "[KafkaServer id=0] started (kafka.server.KafkaServer)" in broker.new_log()


def test_clean_stop_deregisters_at_once_and_sigkill_waits_for_the_session(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0, zookeeper_session_timeout_ms="4000")
    assert broker.stop() == 0
    assert kazoo.exists("/brokers/ids/0") is None
    assert kazoo.exists("/controller") is None
    assert "[KafkaServer id=0] shut down completed" in broker.new_log()

    broker.start()
    assert kazoo.exists("/brokers/ids/0") is not None
    broker.kill()
    assert kazoo.exists("/brokers/ids/0") is not None  # the session outlives the process
    wait_until(lambda: kazoo.exists("/brokers/ids/0") is None, 30, what="session expiry")


def test_controller_moves_when_the_controller_stops(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    first = make_broker(0)
    make_broker(1)
    assert _json(kazoo, "/controller")["brokerid"] == 0
    first.stop()
    wait_until(lambda: kazoo.exists("/controller") is not None, 15, what="a new controller")
    assert _json(kazoo, "/controller")["brokerid"] == 1
    assert kazoo.get("/controller_epoch")[0] == b"2"


def test_metadata_sees_topics_written_into_zookeeper(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0)
    request = MetadataRequest(
        topics=None, allow_auto_topic_creation=False, include_topic_authorized_operations=False
    )
    assert wire.call(broker.bootstrap, request, 12).topics == ()
    # Only the assignment, as the legacy --zookeeper path writes it: the controller writes
    # the partition states (writing them here too raced it: NodeExistsError).
    kazoo.create("/brokers/topics/lab1", b'{"version":1,"partitions":{"0":[0],"1":[0]}}')

    def leaders() -> list[int]:
        topics = wire.call(broker.bootstrap, request, 12).topics
        return [p.leader_id for t in topics for p in t.partitions]

    wait_until(lambda: leaders() == [0, 0], 10, what="topic in metadata")
    kazoo.delete("/brokers/topics/lab1", recursive=True)
    wait_until(lambda: leaders() == [], 10, what="topic gone from metadata")


def test_duplicate_broker_id_is_refused(make_broker: BrokerFactory) -> None:
    make_broker(0)
    twin = make_broker(0, start=False)
    twin.log_dir = twin.workdir / "twin-logs"
    twin.start(wait=False)
    assert twin.wait_exit(30) == 1
    assert "Error: Error while creating ephemeral at /brokers/ids/0, node already exists" in (
        twin.new_log()
    )


def test_meta_properties_of_another_cluster_is_refused(make_broker: BrokerFactory) -> None:
    broker = make_broker(0, start=False)
    broker.log_dir.mkdir(parents=True)
    (broker.log_dir / "meta.properties").write_text("version=0\nbroker.id=0\ncluster.id=other\n")
    broker.start(wait=False)
    assert broker.wait_exit(30) == 1
    assert "doesn't match stored clusterId Some(other)" in broker.new_log()


def _run_kcli(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kcli_argv("server-start", *args), capture_output=True, text=True, timeout=timeout,
        cwd=tmp_path, env=_env(tmp_path), check=False,
    )  # fmt: skip


def _env(tmp_path: Path) -> dict[str, str]:
    import os

    return {**os.environ, "KCLI_RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs")}


def test_unreachable_zookeeper_fails_within_the_connection_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    res = _run_kcli(
        tmp_path,
        "--override", f"zookeeper.connect=127.0.0.1:{free_port()}",
        "--override", "zookeeper.connection.timeout.ms=1500",
        "--override", f"log.dirs={tmp_path / 'logs'}",
        "--override", f"listeners=PLAINTEXT://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1
    assert res.stderr.startswith("Error: Timed out waiting for connection to ZooKeeper")
    assert time.monotonic() - started < 30


def test_taken_port_is_a_one_line_error(tmp_path: Path, zk_connect: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = _run_kcli(
            tmp_path,
            "--override", f"zookeeper.connect={zk_connect}",
            "--override", f"log.dirs={tmp_path / 'logs'}",
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
        )  # fmt: skip
    assert res.returncode == 1
    assert res.stderr == (
        f"Error: Socket server failed to bind to 127.0.0.1:{port}: Address already in use.\n"
    )


def test_bad_values_are_one_line_errors(tmp_path: Path) -> None:
    res = _run_kcli(tmp_path, "--override", "broker.id=abc")
    assert (res.returncode, res.stderr) == (
        1,
        "Error: Invalid value abc for configuration broker.id: Not a number of type INT\n",
    )
    res = _run_kcli(tmp_path, "--override", "listeners=SSL://:9093")
    assert res.returncode == 1 and "PLAINTEXT listeners only" in res.stderr


def test_cluster_helper_starts_three_brokers_with_one_controller(
    tmp_path: Path, zk_connect: str, kazoo: KazooClient
) -> None:
    from kcli.testing.broker import bootstrap_servers, cluster

    with cluster(tmp_path, zk_connect, size=3) as brokers:
        assert sorted(kazoo.get_children("/brokers/ids")) == ["0", "1", "2"]
        assert _json(kazoo, "/controller")["brokerid"] in (0, 1, 2)
        request = MetadataRequest(
            topics=None, allow_auto_topic_creation=False, include_topic_authorized_operations=False
        )
        expected = [(b.broker_id, b.port) for b in brokers]

        def seen() -> list[tuple[int, int]]:
            response = wire.call(brokers[2].bootstrap, request, 12)
            return sorted((b.node_id, b.port) for b in response.brokers)

        wait_until(lambda: seen() == expected, 10, what="all brokers in metadata")
        assert bootstrap_servers(brokers).count(",") == 2
    assert all(not b.alive() for b in brokers)
    assert kazoo.get_children("/brokers/ids") == []


def test_generated_broker_id_is_kept_in_meta_properties(
    make_broker: BrokerFactory, kazoo: KazooClient
) -> None:
    broker = make_broker(0, start=False)
    broker.overrides["broker.id"] = "-1"
    broker.start()
    assert kazoo.get_children("/brokers/ids") == ["1001"]  # reserved.broker.max.id + seqid
    assert "broker.id=1001" in (broker.log_dir / "meta.properties").read_text()
    broker.restart()
    assert kazoo.get_children("/brokers/ids") == ["1001"]
