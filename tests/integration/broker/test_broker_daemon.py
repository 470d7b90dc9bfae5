"""`server-start -daemon` detaches with its log in $LOG_DIR; `server-stop` stops it cleanly."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.testing.process import free_port, kcli_argv, wait_until

pytestmark = pytest.mark.integration


def _kcli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KCLI_RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs")}
    return subprocess.run(
        kcli_argv(*args), capture_output=True, text=True, timeout=90, cwd=tmp_path, env=env,
        check=False,
    )  # fmt: skip


def test_daemon_start_and_server_stop(tmp_path: Path, zk_connect: str, kazoo: KazooClient) -> None:
    port = free_port()
    config = tmp_path / "server.properties"
    config.write_text(
        f"broker.id=3\nlisteners=PLAINTEXT://127.0.0.1:{port}\nlog.dirs={tmp_path / 'data'}\n"
        f"zookeeper.connect={zk_connect}\n"
    )
    assert _kcli(tmp_path, "server-stop").stderr == "Error: No kafka server to stop\n"
    started = _kcli(tmp_path, "server-start", "-daemon", str(config))
    try:
        assert started.returncode == 0, started.stderr
        assert "Broker started in the background" in started.stdout
        assert kazoo.exists("/brokers/ids/3") is not None
        log = (tmp_path / "logs" / "kafkaServer.out").read_text()
        assert "[KafkaServer id=3] started (kafka.server.KafkaServer)" in log
    finally:
        stopped = _kcli(tmp_path, "server-stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith("Stopped broker 3 (pid ")
    assert kazoo.exists("/brokers/ids/3") is None
    assert list((tmp_path / "run" / "broker").glob("*.pid")) == []
    wait_until(
        lambda: "shut down completed" in (tmp_path / "logs" / "kafkaServer.out").read_text(),
        10,
        what="shutdown line",
    )
