"""Lab 2 runs end to end unattended on free ports, and refuses a taken broker port at once."""

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
WALKTHROUGH = ROOT / "labs" / "02-cluster-failover" / "walkthrough.py"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie has exited all the same
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_walkthrough_auto_passes_every_step(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("zookeeper", "broker0", "broker1", "broker2")}
    argv = [sys.executable, str(WALKTHROUGH), "--auto", "--work-dir", str(tmp_path)]
    for name, port in ports.items():
        argv += ["--port", f"{name}={port}"]
    started = time.monotonic()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    out = res.stdout
    assert res.returncode == 0, out[-6000:] + res.stderr[-2000:]
    assert re.search(r"All \d+ steps passed\.", out)
    print(f"Lab 2 took {time.monotonic() - started:.0f}s")
    for text in (
        "Created topic my-failsafe-topic.",
        "✓ leadership spread over brokers 0, 1 and 2",
        "✓ every consumer printed every message",
        "✓ each message went to exactly one member; 3 members shared them",
        "✓ each message went to exactly one member; 2 members shared them",
        "✓ leaders only on brokers 1 and 2, no 0 in any ISR",
        "✓ the survivors got m15 and m16",
        "Successfully completed leader election (PREFERRED) for partitions",
        "✓ the same leaders as right after creation",
    ):
        assert text in out, text
    for script in ("start-1st-server.sh", "create-replicated-topic.sh", "describe-topics.sh",
                   "start-consumer-console-group.sh", "describe-group.sh", "kill-1st-server.sh",
                   "stop-1st-server.sh", "elect-preferred-leaders.sh"):  # fmt: skip
        assert f"$ ./{script}" in out
    # Nothing the lab started is still running, and the brokers' logs went to the work dir.
    pids = [int(p) for p in re.findall(r"running \(pid (\d+)", out)]
    assert len(pids) >= 12
    for pid in pids:
        assert not pid_alive(pid)
    assert (tmp_path / "logs" / "kafka-2" / "my-failsafe-topic-12").is_dir()


def test_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = subprocess.run(
            [sys.executable, str(WALKTHROUGH), "--auto", "--work-dir", str(tmp_path),
             "--port", f"zookeeper={free_port()}", "--port", f"broker0={free_port()}",
             "--port", f"broker1={port}", "--port", f"broker2={free_port()}"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert res.returncode == 2
    assert f"port {port} (broker1) is already in use" in res.stderr
