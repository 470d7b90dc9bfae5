"""One bundled ZooKeeper and three kcli brokers for the session (brokers under a chroot of their
own), and a helper that runs `kcli` as a user does. Every process is stopped by the fixture that
started it. Tests that stop brokers start a cluster of their own (`fresh_cluster`).
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker, bootstrap_servers, cluster
from kcli.testing.process import kcli_argv
from kcli.testing.zookeeper import EmbeddedZooKeeper

_names = itertools.count()


@dataclass
class Cluster:
    zookeeper: str  # connect string with the chroot
    bootstrap: str
    brokers: list[KcliBroker]
    kazoo: KazooClient


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedZooKeeper]:
    server = EmbeddedZooKeeper(tmp_path_factory.mktemp("zk"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka(
    zookeeper: EmbeddedZooKeeper, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    yield from _cluster(zookeeper, tmp_path_factory, "kcli-commands")


@pytest.fixture
def fresh_cluster(
    zookeeper: EmbeddedZooKeeper, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Three brokers of this test's own, for tests that stop or kill brokers."""
    yield from _cluster(zookeeper, tmp_path_factory, f"kcli-fresh-{next(_names)}")


def _cluster(
    zookeeper: EmbeddedZooKeeper, tmp_path_factory: pytest.TempPathFactory, chroot: str
) -> Iterator[Cluster]:
    connect = f"{zookeeper.connect_string}/{chroot}"
    with cluster(tmp_path_factory.mktemp("brokers"), connect, size=3) as brokers:
        client = KazooClient(hosts=connect, timeout=10.0)
        client.start(timeout=15)
        try:
            yield Cluster(connect, bootstrap_servers(brokers), brokers, client)
        finally:
            client.stop()
            client.close()


@pytest.fixture
def topic_name() -> str:
    """A topic name no other test in the module uses."""
    return f"topic-{next(_names)}"


def kcli(
    *args: str, stdin: str | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kcli_argv(*args), input=stdin, capture_output=True, text=True, timeout=timeout
    )


def lines(text: str) -> list[str]:
    return text.splitlines()


__all__ = ["Cluster", "Path", "kcli", "lines"]
