"""Bad bytes on the client port close that connection only: after each case a good request
on a fresh connection works, a client connected all along is unaffected, nothing is lost."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.testing.zookeeper import EmbeddedZooKeeper
from kcli.zookeeper.codes import Code, OpCode
from kcli.zookeeper.jute import MAX_FRAME, ConnectRequest, frame
from kcli.zookeeper.records import PathWatchRequest

from .rawzk import RawZk

pytestmark = pytest.mark.integration

_INT = struct.Struct(">i")


def _connect_frame() -> bytes:
    return frame(ConnectRequest(0, 0, 10000, 0, b"\0" * 16, False).pack())


def _header(xid: int, op: int) -> bytes:
    return struct.pack(">ii", xid, op)


CASES: dict[str, bytes] = {
    "http request": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "binary garbage": random.Random(7).randbytes(200),
    "negative length": _INT.pack(-5) + b"xxxx",
    "oversized length": _INT.pack(MAX_FRAME + 1) + b"x" * 100,
    "2^31-1 length": _INT.pack(2**31 - 1) + b"x" * 100,
    "zero-length connect": _INT.pack(0),
    "short connect": frame(b"\x00\x00\x00\x00\x00\x00"),
    "truncated request body": _connect_frame() + frame(_header(1, OpCode.CREATE) + b"\x00\x00"),
    "string longer than frame": _connect_frame()
    + frame(_header(1, OpCode.GET_DATA) + _INT.pack(1000) + b"/x"),
    "vector count beyond frame": _connect_frame()
    + frame(_header(1, OpCode.SET_WATCHES) + struct.pack(">q", 0) + _INT.pack(10**9)),
    "multi with a read op": _connect_frame()
    + frame(_header(1, OpCode.MULTI) + struct.pack(">iBi", OpCode.GET_DATA, 0, -1)),
    "truncated frame then close": _connect_frame() + _INT.pack(100) + b"\x00" * 10,
}


@pytest.fixture(scope="module")
def bystander(zk_server: EmbeddedZooKeeper) -> Iterator[KazooClient]:
    client = KazooClient(hosts=zk_server.connect_string)
    client.start(timeout=15)
    client.create("/precious", b"keep me")
    try:
        yield client
    finally:
        client.stop()
        client.close()


def _good_request_works(zk: EmbeddedZooKeeper) -> None:
    with RawZk("127.0.0.1", zk.port) as raw:
        assert raw.connect().timeout > 0
        reply = raw.call(OpCode.GET_DATA, PathWatchRequest("/precious", False))
        assert reply.err == 0 and reply.body.buffer() == b"keep me"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_closes_only_that_connection(
    case: str, zk_server: EmbeddedZooKeeper, bystander: KazooClient
) -> None:
    with RawZk("127.0.0.1", zk_server.port) as raw:
        raw.send_raw(CASES[case])
        if case == "truncated frame then close":
            raw.sock.shutdown(1)  # half-close: the server sees EOF inside a frame
        assert raw.closed_by_server(), f"server kept the connection open after {case}"
    _good_request_works(zk_server)
    assert bystander.get("/precious")[0] == b"keep me"
    assert zk_server.alive()


def test_unknown_op_gets_unimplemented_then_close(
    zk_server: EmbeddedZooKeeper, bystander: KazooClient
) -> None:
    with RawZk("127.0.0.1", zk_server.port) as raw:
        raw.connect()
        raw.send_raw(frame(_header(7, 999)))
        reply = raw.read_reply()
        assert (reply.xid, reply.err) == (7, Code.UNIMPLEMENTED)
        assert raw.closed_by_server()
    _good_request_works(zk_server)


def test_many_bad_connections_leave_server_healthy(
    zk_server: EmbeddedZooKeeper, bystander: KazooClient
) -> None:
    for i in range(50):
        with RawZk("127.0.0.1", zk_server.port) as raw:
            raw.send_raw(CASES[sorted(CASES)[i % len(CASES)]])
    _good_request_works(zk_server)
    stat = zk_server.four_letter_word("srvr")
    assert "Mode: standalone" in stat
    # connections of the bad clients are all gone (only the bystander and maybe us remain)
    connections = int(stat.split("Connections: ")[1].split("\n")[0])
    assert connections <= 3


def test_max_client_cnxns_per_ip(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Callable[..., KazooClient]
) -> None:
    zk = own_zk_server
    zk.properties["maxClientCnxns"] = "2"
    zk.start()
    first, second = (RawZk("127.0.0.1", zk.port) for _ in range(2))
    try:
        first.connect()
        second.connect()
        with RawZk("127.0.0.1", zk.port) as third:
            third.send_raw(_connect_frame())
            assert third.closed_by_server()
    finally:
        first.close()
        second.close()
    kazoo_factory(zk.connect_string).get("/")  # slots free again once they closed


def test_random_requests_after_a_handshake(
    zk_server: EmbeddedZooKeeper, bystander: KazooClient
) -> None:
    rng = random.Random(2181)
    ops = [int(op) for op in OpCode if op not in (OpCode.CLOSE_SESSION,)]
    for _ in range(150):
        with RawZk("127.0.0.1", zk_server.port, timeout=2) as raw:
            raw.connect()
            body = rng.randbytes(rng.randrange(0, 40))
            raw.send_raw(frame(_header(rng.randrange(1, 100), rng.choice(ops)) + body))
    _good_request_works(zk_server)
    assert bystander.get("/precious")[0] == b"keep me"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_huge_length_prefixes_allocate_nothing(
    zk_server: EmbeddedZooKeeper, bystander: KazooClient
) -> None:
    _good_request_works(zk_server)
    before = _rss_kib(zk_server.pid)
    for _ in range(100):
        with RawZk("127.0.0.1", zk_server.port) as raw:
            raw.send_raw(_connect_frame() + _INT.pack(2**31 - 1) + b"\0" * 1000)
            assert raw.closed_by_server()
    grown = _rss_kib(zk_server.pid) - before
    assert grown < 4096, f"RSS grew {grown} KiB"


def test_known_but_unsupported_op_keeps_the_connection(zk_server: EmbeddedZooKeeper) -> None:
    with RawZk("127.0.0.1", zk_server.port) as raw:
        raw.connect()
        # reconfig (dynamic ensembles) makes no sense on one node and is not implemented
        raw.send_raw(frame(_header(3, OpCode.RECONFIG) + b"\xff\xff\xff\xff" * 3))
        reply = raw.read_reply()
        assert (reply.xid, reply.err) == (3, Code.UNIMPLEMENTED)
        assert raw.call(OpCode.EXISTS, PathWatchRequest("/", False)).err == 0


def test_connection_without_handshake_is_dropped(own_zk_server: EmbeddedZooKeeper) -> None:
    zk = own_zk_server
    zk.properties["tickTime"] = "50"  # the deadline is maxSessionTimeout = 20 x tickTime
    zk.start()
    with RawZk("127.0.0.1", zk.port) as idle:
        assert idle.closed_by_server(timeout=10)
