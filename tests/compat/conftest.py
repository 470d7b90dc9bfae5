"""Fixtures for compatibility tests: the bundled ZooKeeper, a real Apache one, and zkCli.sh.

Each fixture skips (with the reason) when what it needs is not installed, so the suite runs on a
machine without Java; `.ci/run` installs Debian's `zookeeper` so that CI runs them all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason, zkcli_path
from kcli.testing.zookeeper import EmbeddedZooKeeper

# zkCli.sh prints these around every session; they say nothing about the command.
ZKCLI_NOISE = (
    "Connecting to ",
    "Welcome to ZooKeeper!",
    "JLine support is ",
    "WATCHER::",
    "WatchedEvent state:SyncConnected type:None path:null",
    "WatchedEvent state:Closed type:None path:null",
    "SLF4J:",
)

ZkCli = Callable[..., tuple[int, list[str]]]


def start_embedded_zookeeper(workdir: Path) -> EmbeddedZooKeeper:
    return EmbeddedZooKeeper(workdir).start()


def start_apache_zookeeper(workdir: Path) -> ApacheZooKeeper:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    return ApacheZooKeeper(workdir).start()


@pytest.fixture(scope="module")
def embedded_zk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedZooKeeper]:
    server = start_embedded_zookeeper(tmp_path_factory.mktemp("embedded-zk"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def apache_zk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheZooKeeper]:
    server = start_apache_zookeeper(tmp_path_factory.mktemp("apache-zk"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def zkcli(tmp_path_factory: pytest.TempPathFactory) -> ZkCli:
    """run(connect, *command, stdin=None) -> (exit status, output lines without zkCli's banner).

    stdout and stderr are merged in order: zkCli 3.5+ prints `Created /x` and errors on stderr.
    """
    script = zkcli_path()
    if script is None:
        pytest.skip("zkCli.sh (Debian package `zookeeper`) or java is not installed")
    log_dir = tmp_path_factory.mktemp("zkcli-logs")
    env = {
        **os.environ,
        "ZOO_LOG_DIR": str(log_dir),
        # A small client JVM that starts quickly; zkCli does little work.
        "CLIENT_JVMFLAGS": "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
    }

    def run(connect: str, *command: str, stdin: str | None = None) -> tuple[int, list[str]]:
        feed: dict[str, Any] = (
            {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
        )
        res = subprocess.run(
            [script, "-server", connect, *command],
            **feed,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            timeout=90,
            check=False,
        )
        lines = [
            line
            for line in res.stdout.splitlines()
            if line.strip() and not line.startswith(ZKCLI_NOISE)
        ]
        return res.returncode, lines

    return run
