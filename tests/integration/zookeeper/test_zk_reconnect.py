"""Dropped connections: clients keep their session and watches; setWatches re-arms or fires;
notifications arrive before the reply of the write that caused them; expiry by the expirer."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from kazoo.client import KazooClient, KazooState

from kcli.testing.process import free_port, wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper
from kcli.zookeeper.codes import Code, EventType, OpCode, Xid
from kcli.zookeeper.jute import OPEN_ACL_UNSAFE
from kcli.zookeeper.records import (
    CreateRequest,
    DeleteRequest,
    PathModeRequest,
    PathWatchRequest,
    SetDataRequest,
    SetWatches,
)

from .rawzk import RawZk

pytestmark = pytest.mark.integration

Factory = Callable[..., KazooClient]


class DroppingProxy:
    """TCP forwarder on loopback whose connections can all be cut at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        self.listener.setblocking(False)
        sel.register(self.listener, selectors.EVENT_READ)
        peers: dict[socket.socket, socket.socket] = {}
        while not self.stopping:
            for key, _ in sel.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self.listener:
                    with contextlib.suppress(BlockingIOError):
                        client, _addr = self.listener.accept()
                        upstream = socket.create_connection(("127.0.0.1", self.target_port))
                        with self.lock:
                            self.pairs.append((client, upstream))
                        peers[client], peers[upstream] = upstream, client
                        sel.register(client, selectors.EVENT_READ)
                        sel.register(upstream, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                    if data:
                        peers[sock].sendall(data)
                        continue
                except OSError:
                    pass
                for s in (sock, peers.pop(sock, None)):
                    if s is not None and s.fileno() != -1:
                        with contextlib.suppress(KeyError, ValueError):
                            sel.unregister(s)
                        s.close()
        sel.close()

    def drop_all(self) -> None:
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stopping = True
        self.drop_all()
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def proxy(zk_server: EmbeddedZooKeeper) -> Iterator[DroppingProxy]:
    p = DroppingProxy(zk_server.port)
    try:
        yield p
    finally:
        p.close()


def test_client_survives_dropped_connection_with_watches(
    zk_server: EmbeddedZooKeeper, proxy: DroppingProxy, kazoo_factory: Factory
) -> None:
    writer = kazoo_factory(zk_server.connect_string)
    client = kazoo_factory(f"127.0.0.1:{proxy.port}")
    writer.create("/dropped/node", b"v0", makepath=True)
    values: list[bytes | None] = []
    children: list[list[str]] = []
    client.DataWatch("/dropped/node", lambda data, stat: values.append(data))
    client.ChildrenWatch("/dropped", lambda kids: children.append(sorted(kids)))
    wait_until(lambda: values == [b"v0"] and children == [["node"]], 5, what="first values")
    states: list[KazooState] = []
    client.add_listener(states.append)
    session = client.client_id[0]

    proxy.drop_all()
    wait_until(lambda: KazooState.SUSPENDED in states, 10, what="client to notice the drop")
    writer.set("/dropped/node", b"v1")  # changes while the client is away
    writer.create("/dropped/other")
    wait_until(lambda: states[-1] == KazooState.CONNECTED, 15, what="reconnect")
    assert client.client_id[0] == session  # same session, not a new one
    wait_until(lambda: values[-1] == b"v1", 10, what="data watch to catch up")
    wait_until(lambda: children[-1] == ["node", "other"], 10, what="child watch to catch up")
    writer.set("/dropped/node", b"v2")  # and the watches are armed again
    wait_until(lambda: values[-1] == b"v2", 10, what="data watch after reconnect")


def _read_until_xid(raw: RawZk, xid: int) -> list[tuple[int, int, str]]:
    """Frames up to the reply `xid`: (xid, event type or err, path) in arrival order."""
    seen: list[tuple[int, int, str]] = []
    while True:
        reply = raw.read_reply()
        if reply.xid == Xid.NOTIFICATION:
            etype, _state = reply.body.int32(), reply.body.int32()
            seen.append((reply.xid, etype, reply.body.string()))
        else:
            seen.append((reply.xid, reply.err, ""))
        if reply.xid == xid:
            return seen


def test_notification_precedes_the_reply_that_caused_it(zk_server: EmbeddedZooKeeper) -> None:
    with RawZk("127.0.0.1", zk_server.port) as raw:
        raw.connect()
        raw.call(OpCode.CREATE, CreateRequest("/order", b"", list(OPEN_ACL_UNSAFE), 0))
        raw.call(OpCode.GET_DATA, PathWatchRequest("/order", True))
        xid = raw.send(OpCode.SET_DATA, SetDataRequest("/order", b"x", -1))
        frames = _read_until_xid(raw, xid)
        assert frames == [(Xid.NOTIFICATION, EventType.NODE_DATA_CHANGED, "/order"), (xid, 0, "")]


def test_set_watches_rearms_and_fires_for_missed_changes(zk_server: EmbeddedZooKeeper) -> None:
    port = zk_server.port
    with RawZk("127.0.0.1", port) as raw:
        raw.connect()
        for path in ("/sw", "/sw/same", "/sw/changed"):
            raw.call(OpCode.CREATE, CreateRequest(path, b"", list(OPEN_ACL_UNSAFE), 0))
        seen_zxid = raw.call(OpCode.EXISTS, PathWatchRequest("/sw", False)).zxid
        session, passwd = raw.session_id, raw.passwd
    with RawZk("127.0.0.1", port) as other:
        other.connect()
        other.call(OpCode.SET_DATA, SetDataRequest("/sw/changed", b"new", -1))
    with RawZk("127.0.0.1", port) as raw:
        rsp = raw.connect(session_id=session, passwd=passwd)
        assert rsp.session_id == session and rsp.timeout > 0
        frames = _read_until_xid_after(
            raw,
            SetWatches(seen_zxid, ["/sw/same", "/sw/changed", "/sw/gone"], ["/sw/new"], ["/sw"]),
        )
        assert frames == [
            (Xid.NOTIFICATION, EventType.NODE_DATA_CHANGED, "/sw/changed"),
            (Xid.NOTIFICATION, EventType.NODE_DELETED, "/sw/gone"),
            (Xid.SET_WATCHES, 0, ""),
        ]
        # The unchanged ones are armed: a create under /sw fires the child and exists watches.
        xid = raw.send(OpCode.CREATE, CreateRequest("/sw/new", b"", list(OPEN_ACL_UNSAFE), 0))
        frames = _read_until_xid(raw, xid)
        assert sorted(frames[:-1]) == [
            (Xid.NOTIFICATION, EventType.NODE_CREATED, "/sw/new"),
            (Xid.NOTIFICATION, EventType.NODE_CHILDREN_CHANGED, "/sw"),
        ]


def _read_until_xid_after(raw: RawZk, record: SetWatches) -> list[tuple[int, int, str]]:
    raw.send(OpCode.SET_WATCHES, record, xid=Xid.SET_WATCHES)
    return _read_until_xid(raw, Xid.SET_WATCHES)


def test_wrong_password_is_refused_like_an_expired_session(
    zk_server: EmbeddedZooKeeper,
) -> None:
    with RawZk("127.0.0.1", zk_server.port) as raw:
        raw.connect()
        session = raw.session_id
        with RawZk("127.0.0.1", zk_server.port) as thief:
            rsp = thief.connect(session_id=session, passwd=b"x" * 16)
            assert (rsp.timeout, rsp.session_id) == (0, 0)
            assert thief.closed_by_server()
        assert raw.call(OpCode.EXISTS, PathWatchRequest("/", False)).err == 0


def test_silent_session_is_expired_by_the_expirer(own_zk_server: EmbeddedZooKeeper) -> None:
    zk = own_zk_server
    zk.properties["tickTime"] = "100"  # sessions negotiated to 200..2000 ms
    zk.start()
    with RawZk("127.0.0.1", zk.port) as raw:
        rsp = raw.connect(timeout_ms=50)
        assert rsp.timeout == 200  # clamped to 2 x tickTime
        raw.call(OpCode.CREATE, CreateRequest("/silent", b"", list(OPEN_ACL_UNSAFE), 1))
        # No pings: the server expires the session and closes the connection.
        assert raw.closed_by_server(timeout=5)
    with RawZk("127.0.0.1", zk.port) as check:
        check.connect()
        assert check.call(OpCode.EXISTS, PathWatchRequest("/silent", False)).err == -101


def test_container_is_removed_once_emptied(own_zk_server: EmbeddedZooKeeper) -> None:
    zk = own_zk_server
    zk.properties["znode.container.checkIntervalMs"] = "100"
    zk.start()
    with RawZk("127.0.0.1", zk.port) as raw:
        raw.connect()
        box = CreateRequest("/box", b"", list(OPEN_ACL_UNSAFE), 4)
        reply = raw.call(OpCode.CREATE_CONTAINER, box)
        assert reply.err == 0 and reply.body.string() == "/box"
        item = CreateRequest("/box/item", b"", list(OPEN_ACL_UNSAFE), 0)
        assert raw.call(OpCode.CREATE, item).err == 0
        time.sleep(0.3)  # a container with a child stays
        assert raw.call(OpCode.EXISTS, PathWatchRequest("/box", False)).err == 0
        assert raw.call(OpCode.DELETE, DeleteRequest("/box/item", -1)).err == 0

        def gone() -> bool:
            return raw.call(OpCode.EXISTS, PathWatchRequest("/box", False)).err == -101

        wait_until(gone, 10, what="the empty container to be deleted")


def test_persistent_watches_and_set_watches2(zk_server: EmbeddedZooKeeper) -> None:
    port = zk_server.port
    acl = list(OPEN_ACL_UNSAFE)
    with RawZk("127.0.0.1", port) as raw:
        raw.connect()
        reply = raw.call(OpCode.ADD_WATCH, PathModeRequest("/pw", 1))  # recursive
        assert reply.err == 0 and reply.body.int32() == 0
        xid = raw.send(OpCode.CREATE, CreateRequest("/pw", b"", acl, 0))
        assert _read_until_xid(raw, xid)[0] == (Xid.NOTIFICATION, EventType.NODE_CREATED, "/pw")
        xid = raw.send(OpCode.CREATE, CreateRequest("/pw/a", b"", acl, 0))
        assert _read_until_xid(raw, xid)[0] == (
            Xid.NOTIFICATION,
            EventType.NODE_CREATED,
            "/pw/a",
        )
        assert raw.call(OpCode.CHECK_WATCHES, PathModeRequest("/pw", 5)).err == 0
        assert raw.call(OpCode.CHECK_WATCHES, PathModeRequest("/pw", 1)).err == Code.NOWATCHER
        seen = raw.call(OpCode.EXISTS, PathWatchRequest("/pw", False)).zxid
        session, passwd = raw.session_id, raw.passwd
    # Reconnect: SetWatches2 carries the recursive watch; it is re-armed, not fired.
    with RawZk("127.0.0.1", port) as raw:
        raw.connect(session_id=session, passwd=passwd)
        record = SetWatches(seen, [], [], [], [], ["/pw"])
        raw.send(OpCode.SET_WATCHES2, record, xid=Xid.SET_WATCHES)
        assert _read_until_xid(raw, Xid.SET_WATCHES) == [(Xid.SET_WATCHES, 0, "")]
        xid = raw.send(OpCode.SET_DATA, SetDataRequest("/pw/a", b"v", -1))
        assert _read_until_xid(raw, xid)[0] == (
            Xid.NOTIFICATION,
            EventType.NODE_DATA_CHANGED,
            "/pw/a",
        )
        assert raw.call(OpCode.REMOVE_WATCHES, PathModeRequest("/pw", 3)).err == 0
        assert raw.call(OpCode.REMOVE_WATCHES, PathModeRequest("/pw", 3)).err == Code.NOWATCHER
