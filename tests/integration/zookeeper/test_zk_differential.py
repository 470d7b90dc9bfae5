"""Differential test: the same random sequence of kazoo operations against kcli's server and
Apache ZooKeeper 3.8 must give the same results, error codes, zxids and Stats."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import ZnodeStat

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.zookeeper import EmbeddedZooKeeper

pytestmark = [pytest.mark.integration, pytest.mark.compat]

Factory = Callable[..., KazooClient]
SUFFIXES = ["/d", "/d/a", "/d/b", "/d/a/x", "/d/b/y", "/e"]


def _norm(value: Any, session: int, base: int, root: str) -> Any:
    """Make results comparable across servers: drop times, name the own session, count
    zxids from the run's first write (the servers' histories before it differ)."""
    if isinstance(value, ZnodeStat):
        owner = "self" if value.ephemeralOwner == session else value.ephemeralOwner

        def rel(zxid: int) -> int:
            return zxid - base if zxid > base else zxid

        return (
            rel(value.czxid),
            rel(value.mzxid),
            rel(value.pzxid),
            value.version,
            value.cversion,
            value.aversion,
            owner,
            value.dataLength,
            value.numChildren,
        )
    if isinstance(value, tuple | list):
        return [_norm(v, session, base, root) for v in value]
    if isinstance(value, Exception):
        return type(value).__name__
    if isinstance(value, str):
        return value.replace(root, "")
    return value


def _random_op(
    rng: random.Random, client: KazooClient, paths: list[str]
) -> tuple[str, Callable[[], Any]]:
    path = rng.choice(paths)
    version = rng.choice([-1, -1, 0, 1, 2])
    data = rng.choice([b"", b"v", b"data" * rng.randrange(1, 4)])
    kind = rng.randrange(9)
    if kind == 0:
        eph, seq = rng.random() < 0.3, rng.random() < 0.3
        return f"create {path} e={eph} s={seq}", lambda: client.create(
            path, data, ephemeral=eph, sequence=seq
        )
    if kind == 1:
        return f"delete {path} v={version}", lambda: client.delete(path, version=version)
    if kind == 2:
        return f"set {path} v={version}", lambda: client.set(path, data, version=version)
    if kind == 3:
        return f"get {path}", lambda: client.get(path)
    if kind == 4:
        return f"exists {path}", lambda: client.exists(path)
    if kind == 5:
        return f"children {path}", lambda: sorted(client.get_children(path))
    if kind == 6:
        return f"children2 {path}", lambda: client.get_children(path, include_data=True)[1]
    if kind == 7:
        return f"acls {path}", lambda: client.get_acls(path)[1]

    def multi() -> Any:
        tx = client.transaction()
        for _ in range(rng.randrange(1, 4)):
            p = rng.choice(paths)
            choice = rng.randrange(4)
            if choice == 0:
                tx.create(p, data)
            elif choice == 1:
                tx.delete(p, version=rng.choice([-1, 0]))
            elif choice == 2:
                tx.set_data(p, data, version=rng.choice([-1, 0, 1]))
            else:
                tx.check(p, rng.choice([0, 1]))
        return tx.commit()

    return "multi", multi


def _run(client: KazooClient, seed: int, count: int) -> list[tuple[str, Any]]:
    rng = random.Random(seed)
    session = client.client_id[0]
    # A fresh subtree per run: the shared Apache server keeps earlier seeds' nodes.
    root = client.create(f"/seed{seed}-", sequence=True)
    base = client.exists(root).czxid
    paths = [root + suffix for suffix in SUFFIXES]
    out: list[tuple[str, Any]] = []
    for _ in range(count):
        name, call = _random_op(rng, client, paths)
        name = name.replace(root, "")
        try:
            result = call()
        except KazooException as exc:
            result = exc
        out.append((name, _norm(result, session, base, root)))
    return out


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheZooKeeper]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = ApacheZooKeeper(tmp_path_factory.mktemp("apache")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_same_results_as_apache_zookeeper(
    seed: int, apache: ApacheZooKeeper, tmp_path: Path, kazoo_factory: Factory
) -> None:
    theirs = _run(kazoo_factory(apache.connect_string), seed, 300)
    with EmbeddedZooKeeper(tmp_path / "kcli") as kcli:
        ours = _run(kazoo_factory(kcli.connect_string), seed, 300)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert not mismatches, f"first differences (ours, theirs): {mismatches[:3]}"
