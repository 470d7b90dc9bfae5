"""Lab 1 runs end to end unattended on free ports, and refuses a taken broker port at once."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcli.testing.process import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "labs" / "01-single-node" / "walkthrough.py"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie has exited all the same
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_walkthrough_auto_passes_every_step(tmp_path: Path) -> None:
    zk_port, broker_port = free_port(), free_port()
    res = subprocess.run(
        [sys.executable, str(WALKTHROUGH), "--auto", "--zk-port", str(zk_port),
         "--broker-port", str(broker_port), "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    out = res.stdout
    assert res.returncode == 0, out[-5000:] + res.stderr[-2000:]
    assert re.search(r"All \d+ steps passed\.", out)
    assert f"ports: zookeeper {zk_port}, broker {broker_port}" in out
    assert "Created topic my-topic." in out
    assert "PartitionCount: 13" in out
    assert "✓ all 5 lines arrived" in out
    assert "✓ they arrived in exactly the order they were sent" in out
    assert "✓ every key is in one partition, its values in send order" in out
    # Each step the learner sees by hand is shown with the script it runs.
    for script in ("run-zookeeper.sh", "run-kafka.sh", "create-topic.sh", "list-topics.sh",
                   "start-producer-console.sh", "start-consumer-console.sh"):  # fmt: skip
        assert f"$ ./{script}" in out
    # Nothing the lab started is still running, and its data went to the work dir.
    pids = [int(p) for p in re.findall(r"running \(pid (\d+)", out)]
    assert len(pids) == 5  # ZooKeeper, broker, three producers
    for pid in pids:
        assert not pid_alive(pid)
    assert (tmp_path / "data" / "kafka-logs" / "my-topic-12").is_dir()


def test_taken_broker_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        started = time.monotonic()
        res = subprocess.run(
            [sys.executable, str(WALKTHROUGH), "--auto", "--zk-port", str(free_port()),
             "--work-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "BROKER_PORT": str(port)},
        )  # fmt: skip
    assert time.monotonic() - started < 30
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"Error: port {port} (broker) is already in use" in res.stderr
    assert "Traceback" not in res.stderr
    assert "Step 1" not in res.stdout
