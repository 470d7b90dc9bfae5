"""Differential test of watches: one raw connection runs the same random reads with watches,
writes, multis, addWatch and removeWatches against kcli's server and Apache ZooKeeper 3.8;
the frames that come back (notifications in order, then the reply's error code) must match."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.zookeeper import EmbeddedZooKeeper
from kcli.zookeeper.codes import OpCode, Xid
from kcli.zookeeper.jute import OPEN_ACL_UNSAFE
from kcli.zookeeper.records import (
    CheckVersionRequest,
    CreateRequest,
    DeleteRequest,
    MultiRequest,
    PathModeRequest,
    PathWatchRequest,
    Request,
    SetDataRequest,
)

from .rawzk import RawZk

pytestmark = [pytest.mark.integration, pytest.mark.compat]

SUFFIXES = ["/a", "/a/x", "/a/y", "/b", "/b/z", "/p", "/p/q", "/p/q/r"]
# addWatch goes only to /p. Apache 3.8.0 keeps one mode per (watcher, path), so a one-shot
# watch on a path replaces a persistent one there; kcli keeps both, as ZooKeeper 3.9 does.
PERSISTENT_AT = "/p"
Frame = tuple[str, int, str]


def _op(rng: random.Random, paths: list[str]) -> tuple[int, Request]:
    path = rng.choice(paths)
    persistent_at = paths[SUFFIXES.index(PERSISTENT_AT)]
    acl = list(OPEN_ACL_UNSAFE)
    kind = rng.randrange(10)
    if kind == 0:
        return OpCode.CREATE, CreateRequest(path, b"d", acl, rng.choice([0, 0, 1]))
    if kind == 1:
        return OpCode.DELETE, DeleteRequest(path, rng.choice([-1, -1, 0, 1]))
    if kind == 2:
        return OpCode.SET_DATA, SetDataRequest(path, b"v", rng.choice([-1, -1, 0]))
    if kind in (3, 4, 5):
        op = (OpCode.GET_DATA, OpCode.EXISTS, OpCode.GET_CHILDREN)[kind - 3]
        return op, PathWatchRequest(path, path != persistent_at and rng.random() < 0.8)
    if kind == 6:
        ops: list[tuple[int, object]] = []
        for _ in range(rng.randrange(1, 4)):
            p = rng.choice(paths)
            ops.append(
                rng.choice(
                    [
                        (OpCode.CREATE, CreateRequest(p, b"", acl, 0)),
                        (OpCode.DELETE, DeleteRequest(p, -1)),
                        (OpCode.SET_DATA, SetDataRequest(p, b"m", -1)),
                        (OpCode.CHECK, CheckVersionRequest(p, 0)),
                    ]
                )
            )
        return OpCode.MULTI, MultiRequest(ops)  # type: ignore[arg-type]
    if kind == 7:
        return OpCode.ADD_WATCH, PathModeRequest(persistent_at, rng.choice([0, 1]))
    # WatcherType 1 Children, 2 Data, 3 Any (3.8.0 has no 4/5 on the wire yet); at /p only Any
    kind_of_watch = 3 if path == persistent_at else rng.choice([1, 2, 3])
    op = OpCode.CHECK_WATCHES if kind == 8 else OpCode.REMOVE_WATCHES
    return op, PathModeRequest(path, kind_of_watch)


def _run(port: int, seed: int, count: int) -> list[list[Frame]]:
    rng = random.Random(seed)
    out: list[list[Frame]] = []
    with RawZk("127.0.0.1", port) as raw:
        raw.connect()
        root = raw.call(
            OpCode.CREATE, CreateRequest(f"/wd{seed}-", b"", list(OPEN_ACL_UNSAFE), 2)
        ).body.string()
        paths = [root + s for s in SUFFIXES]
        for _ in range(count):
            op, record = _op(rng, paths)
            xid = raw.send(op, record)
            frames: list[Frame] = []
            while True:
                reply = raw.read_reply()
                if reply.xid == Xid.NOTIFICATION:
                    etype, _state = reply.body.int32(), reply.body.int32()
                    frames.append(("event", etype, reply.body.string().replace(root, "")))
                    continue
                assert reply.xid == xid
                frames.append((OpCode(op).name, reply.err, ""))
                break
            out.append(frames)
    return out


@pytest.fixture(scope="module")
def apache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheZooKeeper]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = ApacheZooKeeper(tmp_path_factory.mktemp("apache-watch")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_watch_events_match_apache(seed: int, apache: ApacheZooKeeper, tmp_path: Path) -> None:
    theirs = _run(apache.port, seed, 300)
    with EmbeddedZooKeeper(tmp_path / "kcli") as kcli:
        ours = _run(kcli.port, seed, 300)
    diffs = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert not diffs, f"first differences (op index, ours, theirs): {diffs[:3]}"
