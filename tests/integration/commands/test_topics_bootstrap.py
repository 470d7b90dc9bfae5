"""`kcli topics --bootstrap-server` against kcli brokers (AdminClient path): reads of topics the
legacy path wrote, Kafka's error text, and bounded failure when nothing listens."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from kcli.testing.process import free_port
from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration

PREFIX = "Error while executing topic command : "


def bs(kafka: Cluster, *args: str) -> tuple[int, list[str], list[str]]:
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, *args)
    return res.returncode, lines(res.stdout), lines(res.stderr)


def wait_listed(kafka: Cluster, topic: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if topic in bs(kafka, "--list")[1]:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{topic} never listed through the brokers")


def test_describe_matches_the_zookeeper_path(kafka: Cluster, topic_name: str) -> None:
    created = kcli("topics", "--zookeeper", kafka.zookeeper, "--create", "--topic", topic_name,
                   "--replica-assignment", "1:2,2:0")  # fmt: skip
    assert created.returncode == 0, created.stderr
    wait_listed(kafka, topic_name)
    code, out, err = bs(kafka, "--describe", "--topic", topic_name)
    assert code == 0, err
    zk_out = lines(kcli("topics", "--zookeeper", kafka.zookeeper, "--describe", "--topic",
                        topic_name).stdout)  # fmt: skip
    header = out[0].split("\t")
    # Same topic id, counts and replicas whichever way it is read.
    assert header[:4] == zk_out[0].split("\t")[:4]
    assert header[0] == f"Topic: {topic_name}" and header[2:4] == [
        "PartitionCount: 2",
        "ReplicationFactor: 2",
    ]
    assert [line.split("\t")[4] for line in out[1:]] == ["Replicas: 1,2", "Replicas: 2,0"]
    code, out, _ = bs(kafka, "--describe", "--topic", topic_name, "--format", "json")
    described = json.loads("\n".join(out))
    assert [(d["name"], d["partition_count"]) for d in described] == [(topic_name, 2)]
    assert [p["replicas"] for p in described[0]["partitions"]] == [[1, 2], [2, 0]]


def test_list_regex_and_exclude_internal(kafka: Cluster) -> None:
    for name in ("regex-a1", "regex-a2", "regex-b1"):
        res = kcli("topics", "--zookeeper", kafka.zookeeper, "--create", "--topic", name,
                   "--partitions", "1", "--replication-factor", "1")  # fmt: skip
        assert res.returncode == 0, res.stderr
    wait_listed(kafka, "regex-b1")
    assert bs(kafka, "--list", "--topic", "regex-a.*") == (0, ["regex-a1", "regex-a2"], [])
    assert bs(kafka, "--list", "--topic", "regex-a1,regex-b1")[1] == ["regex-a1", "regex-b1"]


def test_missing_topic(kafka: Cluster) -> None:
    assert bs(kafka, "--describe", "--topic", "absent") == (
        1,
        [],
        [f"{PREFIX}Topic 'absent' does not exist as expected"],
    )
    assert bs(kafka, "--describe", "--topic", "absent", "--if-exists") == (0, [], [])
    assert bs(kafka, "--delete", "--topic", "absent", "--if-exists") == (0, [], [])


def test_unreachable_bootstrap_server_is_one_line_and_bounded() -> None:
    port = free_port()
    started = time.monotonic()
    res = kcli("topics", "--bootstrap-server", f"127.0.0.1:{port}", "--list", "--timeout", "2")
    assert time.monotonic() - started < 15
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr == f"Error: cannot reach any broker at 127.0.0.1:{port} within 2s\n"


def test_unreachable_zookeeper_is_one_line() -> None:
    port = free_port()
    res = kcli("topics", "--zookeeper", f"127.0.0.1:{port}", "--list", "--timeout", "2")
    assert res.returncode == 1
    assert res.stderr == (
        f"Error: cannot connect to ZooKeeper at 127.0.0.1:{port} (connection refused)\n"
    )


@pytest.mark.parametrize("command", ["console-producer", "console-consumer"])
def test_console_commands_unreachable(command: str) -> None:
    port = free_port()
    res = kcli(command, "--bootstrap-server", f"127.0.0.1:{port}", "--topic", "t",
               "--connect-timeout", "2", stdin="x\n")  # fmt: skip
    assert res.returncode == 1
    assert f"Error: cannot reach any broker at 127.0.0.1:{port} within 2s" in res.stderr
    assert "Traceback" not in res.stderr


def test_list_imports_nothing_heavy(kafka: Cluster) -> None:
    code = (
        "import sys\n"
        "from kcli.cli import main\n"
        f"try:\n    main(['topics', '--bootstrap-server', '{kafka.bootstrap}', '--list'])\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('kcli.broker', 'kcli.zookeeper', 'kcli.storage', 'kazoo', 'prompt_toolkit',"
        " 'rich', 'kio')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in res.stdout, res.stdout + res.stderr
