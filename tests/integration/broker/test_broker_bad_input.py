"""Bad input (reliability.md §3): each case closes or answers only the offending connection,
and a well-formed request on another connection still succeeds afterwards. One broker takes
every case in turn, so it also shows the broker survives them all."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kio.schema.api_versions.v0.request import ApiVersionsRequest
from kio.schema.metadata.v4.request import MetadataRequest

from kcli.broker.handlers import load_registry
from kcli.testing.broker import KcliBroker
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Bad input is about the broker alone: one ZooKeeper is enough."""
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def broker(zookeeper: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    workdir = tmp_path_factory.mktemp("bad-input")
    with KcliBroker(
        workdir,
        f"{zookeeper.connect_string}/bad-input",
        overrides={"socket.request.max.bytes": "65536"},
    ) as started:
        yield started


def _still_serves(broker: KcliBroker) -> None:
    assert broker.alive()
    response = wire.call(broker.bootstrap, ApiVersionsRequest(), 0)
    assert response.error_code == 0 and len(response.api_keys) >= 3


def _header(key: int, version: int, corr: int = 1, flexible: bool = False) -> bytes:
    return struct.pack(">hhih", key, version, corr, 1) + b"x" + (b"\x00" if flexible else b"")


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


CASES: dict[str, Callable[[socket.socket], None]] = {
    "negative size": lambda s: s.sendall(struct.pack(">i", -5)),
    "oversized frame": lambda s: s.sendall(struct.pack(">i", 65537) + os.urandom(1024)),
    "garbage bytes": lambda s: s.sendall(_frame(os.urandom(64))),
    "zero-size frame": lambda s: s.sendall(_frame(b"")),
    "unknown api key": lambda s: s.sendall(_frame(_header(999, 0))),
    "unsupported metadata version": lambda s: s.sendall(_frame(_header(3, 13, flexible=True))),
    "undecodable body": lambda s: s.sendall(_frame(_header(3, 12, flexible=True) + b"\xff" * 9)),
    # A compact array claiming 2^32 - 2 topics: kio alone would try to allocate ~34 GB.
    "huge array count": lambda s: s.sendall(
        _frame(_header(3, 12, flexible=True) + b"\xff\xff\xff\xff\x0f" + b"\x00" * 8)
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_closes_that_connection_only(broker: KcliBroker, case: str) -> None:
    with wire.connect(broker.bootstrap) as bad, wire.connect(broker.bootstrap) as good:
        CASES[case](bad)
        assert wire.closed_by_peer(bad)
        # The other connection, already open, still gets answers.
        good.sendall(
            wire.request_bytes(MetadataRequest(topics=None, allow_auto_topic_creation=False), 4, 77)
        )
        assert struct.unpack_from(">i", wire.read_frame(good))[0] == 77
    _still_serves(broker)


def test_truncated_frame_then_close(broker: KcliBroker) -> None:
    with wire.connect(broker.bootstrap) as bad:
        bad.sendall(struct.pack(">i", 100) + b"\x00\x12\x00")
    _still_serves(broker)


def test_too_new_api_versions_gets_the_v0_error_answer(broker: KcliBroker) -> None:
    with wire.connect(broker.bootstrap) as sock:
        sock.sendall(_frame(_header(18, 7, corr=31, flexible=True) + b"\x02a\x021\x00"))
        answer = wire.read_frame(sock)
        corr, error, count = struct.unpack_from(">ihi", answer)
        registry = load_registry()  # the full list of what the broker serves
        assert (corr, error, count) == (31, 35, len(registry))
        keys = [struct.unpack_from(">hhh", answer, 10 + 6 * i) for i in range(count)]
        assert keys == [(k, h.min_version, h.max_version) for k, h in registry.items()]
        assert {(3, 0, 12), (18, 0, 4), (60, 0, 1)} <= set(keys)
        assert len(answer) == 10 + 6 * count  # the v0 body: nothing after the list
        # The connection stays usable: the client retries with a version both know.
        sock.sendall(wire.request_bytes(ApiVersionsRequest(), 0, 32))
        assert struct.unpack_from(">ih", wire.read_frame(sock)) == (32, 0)
    _still_serves(broker)
