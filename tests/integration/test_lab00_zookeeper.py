"""Lab 0 runs end to end unattended, refuses a taken port, and cleans up when interrupted."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kcli.testing.process import free_port, wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = ROOT / "labs" / "00-zookeeper" / "walkthrough.py"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has exited all the same.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_walkthrough_auto_passes_every_step(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, str(WALKTHROUGH), "--auto", "--free-ports", "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert re.search(r"All \d+ steps passed\.", res.stdout)
    assert "The data survived the restart" in res.stdout
    assert "✓ no 'alive'" in res.stdout  # the ephemeral went with its session
    # Nothing the lab started is still running.
    for pid in map(int, re.findall(r"running \(pid (\d+)", res.stdout)):
        assert not pid_alive(pid)
    assert (tmp_path / "data" / "zookeeper").is_dir()  # data went to the work dir, not the lab


def test_taken_port_is_refused_at_once(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        started = time.monotonic()
        res = subprocess.run(
            [
                sys.executable,
                str(WALKTHROUGH),
                "--auto",
                "--port",
                f"zookeeper={port}",
                "--work-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert time.monotonic() - started < 30
    assert res.returncode == 2
    assert f"Error: port {port} (zookeeper) is already in use" in res.stderr
    assert "Traceback" not in res.stderr
    assert "Step 1" not in res.stdout


def test_interrupt_stops_everything_started(tmp_path: Path) -> None:
    # Guided mode, driven through a pipe: it pauses for Enter before each step.
    env = {**os.environ, "ZK_PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(WALKTHROUGH), "--work-dir", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("\n")  # run step 1 (start ZooKeeper), then it waits before step 2
        proc.stdin.flush()
        seen = ""
        deadline = time.monotonic() + 60
        while "Step 2" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        match = re.search(r"running \(pid (\d+)", seen)
        assert match, seen
        zookeeper_pid = int(match.group(1))
        assert pid_alive(zookeeper_pid)
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 130, seen + rest
    assert "Interrupted" in rest
    wait_until(lambda: not pid_alive(zookeeper_pid), timeout=10, what="ZooKeeper to be gone")


MINI_LAB = """
import sys
sys.path.insert(0, {lib!r})
from labkit import Lab

lab = Lab(__file__, "mini lab")
with lab:
    lab.start("Start something long-running", "serve.sh", name="server")
    lab.step("A step whose check fails", "hello.sh", expect=["goodbye"])
    lab.step("Never reached", "hello.sh")
"""


def test_labkit_failed_check_exits_1_and_stops_what_it_started(tmp_path: Path) -> None:
    # The runner every lab shares: a failed check ends the lab with status 1, after cleanup.
    (tmp_path / "serve.sh").write_text("#!/usr/bin/env bash\nexec sleep 300\n")
    (tmp_path / "hello.sh").write_text("#!/usr/bin/env bash\necho hello\n")
    walkthrough = tmp_path / "walkthrough.py"
    walkthrough.write_text(MINI_LAB.format(lib=str(ROOT / "labs" / "lib")))
    res = subprocess.run(
        [sys.executable, str(walkthrough), "--auto"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "✗ Step 2 failed: expected to see 'goodbye'" in res.stderr
    assert "Never reached" not in res.stdout
    match = re.search(r"server is running \(pid (\d+)", res.stdout)
    assert match, res.stdout
    assert not pid_alive(int(match.group(1)))
