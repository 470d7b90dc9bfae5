"""Fixtures for broker integration tests: one ZooKeeper per module (Debian's Apache ZooKeeper,
and kcli's bundled one once `kcli.testing.zookeeper` exists), a fresh chroot per test so tests
sharing that ZooKeeper never see each other's znodes, and brokers stopped by their fixture."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.broker import KcliBroker

_chroots = itertools.count()


def _start_zookeeper(kind: str, workdir: Path) -> Any:
    if kind == "apache":
        reason = unavailable_reason()
        if reason:
            pytest.skip(reason)
        return ApacheZooKeeper(workdir).start()
    try:
        from kcli.testing.zookeeper import EmbeddedZooKeeper
    except ImportError:
        pytest.skip("kcli.testing.zookeeper (the bundled ZooKeeper's harness) is not available yet")
    server = EmbeddedZooKeeper(workdir)
    started = server.start()
    return started or server


@pytest.fixture(scope="module", params=["apache", "embedded"])
def zookeeper(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    server = _start_zookeeper(request.param, tmp_path_factory.mktemp(f"zk-{request.param}"))
    try:
        yield server
    finally:
        server.stop()


def start_any_zookeeper(workdir: Path) -> Any:
    """The bundled ZooKeeper when its harness exists, else Debian's (tests that are about the
    broker alone need only one of them)."""
    try:
        return _start_zookeeper("embedded", workdir)
    except pytest.skip.Exception:
        return _start_zookeeper("apache", workdir)


@pytest.fixture
def zk_connect(zookeeper: Any) -> str:
    """A connect string with a chroot of its own (the broker creates the chroot)."""
    return f"{zookeeper.connect_string}/kcli-test-{next(_chroots)}"


@pytest.fixture
def kazoo(zk_connect: str) -> Iterator[KazooClient]:
    hosts, _, chroot = zk_connect.partition("/")
    outside = KazooClient(hosts=hosts, timeout=10.0)
    outside.start(timeout=15)
    try:
        outside.ensure_path("/" + chroot)
    finally:
        outside.stop()
        outside.close()
    client = KazooClient(hosts=zk_connect, timeout=10.0)
    client.start(timeout=15)
    try:
        yield client
    finally:
        client.stop()
        client.close()


BrokerFactory = Callable[..., KcliBroker]


@pytest.fixture
def make_broker(tmp_path: Path, zk_connect: str) -> Iterator[BrokerFactory]:
    started: list[KcliBroker] = []

    def make(broker_id: int = 0, start: bool = True, **overrides: str) -> KcliBroker:
        broker = KcliBroker(
            tmp_path, zk_connect, broker_id,
            overrides={k.replace("_", "."): v for k, v in overrides.items()},
        )  # fmt: skip
        started.append(broker)
        return broker.start() if start else broker

    try:
        yield make
    finally:
        for broker in started:
            broker.stop()
