"""Fixtures for the bundled ZooKeeper: a real `kcli zookeeper-start` process per module (or per
test when it gets restarted/killed), and kazoo clients that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.zookeeper import EmbeddedZooKeeper


@pytest.fixture(scope="module")
def zk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedZooKeeper]:
    """One server shared by a module's tests (they use distinct paths)."""
    server = EmbeddedZooKeeper(tmp_path_factory.mktemp("zk"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_zk_server(tmp_path: Path) -> Iterator[EmbeddedZooKeeper]:
    """A server for one test (restarts, kills, special properties)."""
    server = EmbeddedZooKeeper(tmp_path / "zk")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kazoo_factory() -> Iterator[Callable[..., KazooClient]]:
    """`kazoo_factory(hosts, **kwargs)` -> started KazooClient, stopped and closed after."""
    clients: list[KazooClient] = []

    def make(hosts: str, start: bool = True, **kwargs: Any) -> KazooClient:
        client = KazooClient(hosts=hosts, **kwargs)
        clients.append(client)
        if start:
            client.start(timeout=15)
        return client

    try:
        yield make
    finally:
        for client in clients:
            try:
                client.stop()
                client.close()
            except Exception:
                pass


@pytest.fixture
def kazoo(zk_server: EmbeddedZooKeeper, kazoo_factory: Callable[..., KazooClient]) -> KazooClient:
    return kazoo_factory(zk_server.connect_string)


def _start_server(kind: str, workdir: Path) -> Any:
    if kind == "apache":
        reason = unavailable_reason()
        if reason:
            pytest.skip(reason)
        return ApacheZooKeeper(workdir).start()
    return EmbeddedZooKeeper(workdir).start()


@pytest.fixture(scope="module", params=["embedded", "apache"])
def zk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The bundled server, then a real Apache ZooKeeper: shell tests must pass on both."""
    server = _start_server(request.param, tmp_path_factory.mktemp(f"zk-{request.param}"))
    try:
        yield server
    finally:
        server.stop()
