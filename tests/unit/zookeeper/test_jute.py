"""Jute codec: round-trips and byte layouts checked against what kazoo (an independent
implementation of the client side) writes and reads."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kazoo.protocol import serialization as kz
from kazoo.security import ACL as KzACL
from kazoo.security import Id as KzId

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.jute import (
    ACL,
    ConnectRequest,
    ConnectResponse,
    Id,
    JuteError,
    JuteReader,
    JuteWriter,
    Stat,
    pack_multi_header,
    pack_reply_header,
    pack_watcher_event,
)
from kcli.zookeeper.records import (
    CheckVersionRequest,
    CreateRequest,
    DeleteRequest,
    MultiRequest,
    PathWatchRequest,
    SetACLRequest,
    SetDataRequest,
    SetWatches,
    encode_request,
    read_request,
)
from kcli.zookeeper.txn import (
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateSessionTxn,
    CreateTTLTxn,
    CreateTxn,
    DeleteTxn,
    ErrorTxn,
    MultiTxn,
    SetACLTxn,
    SetDataTxn,
    TxnHeader,
    decode_txn,
    encode_txn,
)

OPEN = [ACL(31, Id("world", "anyone"))]
KZ_OPEN = [KzACL(31, KzId("world", "anyone"))]


def _decode(op: int, body: bytes) -> object:
    r = JuteReader(body)
    return read_request(op, r)


def test_connect_request_as_kazoo_sends_it() -> None:
    kazoo_bytes = bytes(kz.Connect(0, 5, 10000, 0x1234, b"p" * 16, False).serialize())
    req = ConnectRequest.read(JuteReader(kazoo_bytes))
    assert req == ConnectRequest(0, 5, 10000, 0x1234, b"p" * 16, False)
    assert req.pack() == kazoo_bytes
    # A pre-3.4 client sends no readOnly byte; the reply must then omit it too.
    old = ConnectRequest.read(JuteReader(kazoo_bytes[:-1]))
    assert old.read_only is None
    assert len(ConnectResponse(0, 4000, 7, b"x" * 16, None).pack()) == 4 + 4 + 8 + 4 + 16


def test_connect_response_as_kazoo_reads_it() -> None:
    data = ConnectResponse(0, 4000, 0x77, b"s" * 16, False).pack()
    parsed, _ = kz.Connect.deserialize(data, 0)
    assert (parsed.time_out, parsed.session_id, parsed.passwd, parsed.read_only) == (
        4000,
        0x77,
        b"s" * 16,
        False,
    )


@pytest.mark.parametrize(
    ("kazoo_request", "expected"),
    [
        (kz.Create("/a", b"d", KZ_OPEN, 3), CreateRequest("/a", b"d", OPEN, 3)),
        (kz.Create2("/a", None, KZ_OPEN, 0), CreateRequest("/a", None, OPEN, 0)),
        (kz.Delete("/a", 4), DeleteRequest("/a", 4)),
        (kz.Exists("/a", True), PathWatchRequest("/a", True)),
        (kz.GetData("/a", False), PathWatchRequest("/a", False)),
        (kz.SetData("/a", b"v", -1), SetDataRequest("/a", b"v", -1)),
        (kz.SetACL("/a", KZ_OPEN, 2), SetACLRequest("/a", OPEN, 2)),
        (kz.GetChildren2("/a", True), PathWatchRequest("/a", True)),
        (kz.CheckVersion("/a", 9), CheckVersionRequest("/a", 9)),
    ],
)
def test_requests_decode_what_kazoo_encodes(kazoo_request: object, expected: object) -> None:
    body = bytes(kazoo_request.serialize())  # type: ignore[attr-defined]
    op = kazoo_request.type  # type: ignore[attr-defined]
    assert _decode(op, body) == expected
    assert encode_request(1, op, expected)[8:] == body  # type: ignore[arg-type]


def test_multi_request_from_kazoo_transaction() -> None:
    ops = [kz.Create("/m", b"", KZ_OPEN, 0), kz.CheckVersion("/m", 0), kz.Delete("/m", -1)]
    body = bytes(kz.Transaction(ops).serialize())
    req = _decode(OpCode.MULTI, body)
    assert req == MultiRequest(
        [
            (OpCode.CREATE, CreateRequest("/m", b"", OPEN, 0)),
            (OpCode.CHECK, CheckVersionRequest("/m", 0)),
            (OpCode.DELETE, DeleteRequest("/m", -1)),
        ]
    )
    assert encode_request(0, OpCode.MULTI, req)[8:] == body  # type: ignore[arg-type]


def test_multi_response_as_kazoo_reads_it() -> None:
    stat = Stat(1, 2, 3, 4, 5, 6, 7, 0, 1, 0, 9)
    body = (
        pack_multi_header(OpCode.CREATE, False, 0)
        + JuteWriter().ustring("/m").to_bytes()
        + pack_multi_header(OpCode.SET_DATA, False, 0)
        + stat.pack()
        + pack_multi_header(-1, False, -103)
        + JuteWriter().int32(-103).to_bytes()
        + pack_multi_header(-1, True, -1)
    )
    results = kz.Transaction.deserialize(body, 0)
    assert results[0] == "/m" and results[1].version == 5
    assert type(results[2]).__name__ == "BadVersionError"


def test_headers_and_events() -> None:
    assert pack_reply_header(-1, 5, -101) == struct.pack(">iqi", -1, 5, -101)
    event = pack_watcher_event(3, 3, "/p")
    watch, _ = kz.Watch.deserialize(event, 0)
    assert (watch.type, watch.state, watch.path) == (3, 3, "/p")
    stat = Stat(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    assert len(stat.pack()) == 68
    assert Stat.read(JuteReader(stat.pack())) == stat


def test_set_watches_round_trip() -> None:
    for record, op in (
        (SetWatches(7, ["/d"], ["/e"], ["/c"]), OpCode.SET_WATCHES),
        (SetWatches(7, ["/d"], [], ["/c"], ["/p"], ["/r"]), OpCode.SET_WATCHES2),
    ):
        assert _decode(op, encode_request(-8, op, record)[8:]) == record


ACLS = (ACL(31, Id("world", "anyone")), ACL(1, Id("digest", "u:h")))
TXNS = [
    (OpCode.CREATE, CreateTxn("/a", b"x", ACLS, True, 3)),
    (OpCode.CREATE2, CreateTxn("/b", None, ACLS[:1], False, 1)),
    (OpCode.DELETE, DeleteTxn("/a")),
    (OpCode.CREATE_CONTAINER, CreateContainerTxn("/c", b"", ACLS[:1], 2)),
    (OpCode.CREATE_TTL, CreateTTLTxn("/t", b"x", ACLS[:1], 3, 60000)),
    (OpCode.DELETE_CONTAINER, DeleteTxn("/c")),
    (OpCode.SET_DATA, SetDataTxn("/a", b"y", 2)),
    (OpCode.SET_ACL, SetACLTxn("/a", ACLS, 1)),
    (OpCode.CHECK, CheckVersionTxn("/a", 0)),
    (OpCode.CREATE_SESSION, CreateSessionTxn(30000)),
    (OpCode.CLOSE_SESSION, CloseSessionTxn(("/e1", "/e2"))),
    (OpCode.ERROR, ErrorTxn(-110)),
    (
        OpCode.MULTI,
        MultiTxn(
            (
                (OpCode.CREATE, CreateTxn("/m", b"", ACLS[:1], False, 1)),
                (OpCode.ERROR, ErrorTxn(-103)),
            )
        ),
    ),
]


@pytest.mark.parametrize(("op", "record"), TXNS)
def test_txn_round_trip(op: int, record: object) -> None:
    hdr = TxnHeader(0x100, 7, 0x42, 1_700_000_000_000, op)
    data = encode_txn(hdr, record)  # type: ignore[arg-type]
    # TxnHeader: clientId int64 | cxid int32 | zxid int64 | time int64 | type int32
    assert struct.unpack_from(">qiqqi", data) == (0x100, 7, 0x42, 1_700_000_000_000, op)
    assert decode_txn(data) == (hdr, record)


def test_close_session_txn_from_pre_36_log_has_no_body() -> None:
    hdr = TxnHeader(1, 0, 2, 0, OpCode.CLOSE_SESSION)
    assert decode_txn(hdr.pack()) == (hdr, CloseSessionTxn(()))


def test_create_txn_layout() -> None:
    data = encode_txn(TxnHeader(0, 0, 1, 0, OpCode.CREATE), CreateTxn("/a", b"v", (), True, 5))
    # path "/a", data "v", empty acl vector, ephemeral true, parentCVersion 5
    assert data[32:] == (
        b"\x00\x00\x00\x02/a"
        + b"\x00\x00\x00\x01v"
        + b"\x00\x00\x00\x00"
        + b"\x01"
        + b"\x00\x00\x00\x05"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x00",
        b"\x00\x00\x00\x05/a",  # string longer than the record
        b"\x7f\xff\xff\xff",  # huge string length
        b"\x00\x00\x00\x02\xff\xfe\x01",  # not UTF-8
    ],
)
def test_truncated_or_garbage_records_raise_jute_error(body: bytes) -> None:
    with pytest.raises(JuteError):
        _decode(OpCode.GET_DATA, body)


def test_unknown_op_is_key_error() -> None:
    with pytest.raises(KeyError):
        _decode(999, b"")


@given(st.binary(max_size=64), st.sampled_from(sorted(int(o) for o in OpCode)))
def test_decoder_never_raises_anything_else(body: bytes, op: int) -> None:
    with contextlib.suppress(JuteError, KeyError):
        _decode(op, body)


@given(
    path=st.text(min_size=1, max_size=20),
    data=st.one_of(st.none(), st.binary(max_size=40)),
    version=st.integers(-(2**31), 2**31 - 1),
)
def test_set_data_round_trip(path: str, data: bytes | None, version: int) -> None:
    req = SetDataRequest(path, data, version)
    assert _decode(OpCode.SET_DATA, encode_request(1, OpCode.SET_DATA, req)[8:]) == req
