"""Transaction records: what the txn log stores, byte for byte as ZooKeeper writes them.

A logged txn is TxnHeader followed by the record for its type:

    TxnHeader         clientId long, cxid int, zxid long, time long, type int   (32 bytes)
    CreateTxn         path ustring, data buffer, acl vector<ACL>, ephemeral bool,
                      parentCVersion int                          create(1), create2(15)
    CreateContainerTxn path, data, acl, parentCVersion int        createContainer(19)
    CreateTTLTxn      path, data, acl, parentCVersion int, ttl long  createTTL(21)
    DeleteTxn         path ustring                  delete(2), deleteContainer(20)
    SetDataTxn        path ustring, data buffer, version int      setData(5)
    SetACLTxn         path ustring, acl vector<ACL>, version int  setACL(7)
    CheckVersionTxn   path ustring, version int                   check(13)
    MultiTxn          txns vector<Txn>; Txn = type int, data buffer (the sub-record)
                                                                  multi(14)
    CreateSessionTxn  timeOut int                                 createSession(-10)
    CloseSessionTxn   paths2Delete vector<ustring> (3.6+; older logs have no body)
                                                                  closeSession(-11)
    ErrorTxn          err int                                     error(-1)

Versions in SetDataTxn/SetACLTxn are the new versions; parentCVersion is the parent's
create-count after this create. ZooKeeper 3.6+ may append a TxnDigest; readers ignore
trailing bytes, and this server writes none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.jute import ACL, JuteError, JuteReader, JuteWriter, read_acls, write_acls

_TXN_HEADER = struct.Struct(">qiqqi")


@dataclass(frozen=True, slots=True)
class TxnHeader:
    client_id: int
    cxid: int
    zxid: int
    time: int
    type: int

    def pack(self) -> bytes:
        return _TXN_HEADER.pack(self.client_id, self.cxid, self.zxid, self.time, self.type)

    @classmethod
    def read(cls, r: JuteReader) -> TxnHeader:
        if r.remaining() < _TXN_HEADER.size:
            raise JuteError("truncated TxnHeader")
        values = _TXN_HEADER.unpack_from(r.buf, r.pos)
        r.pos += _TXN_HEADER.size
        return cls(*values)


@dataclass(frozen=True, slots=True)
class CreateTxn:
    path: str
    data: bytes | None
    acl: tuple[ACL, ...]
    ephemeral: bool
    parent_cversion: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data)
        write_acls(w, self.acl)
        w.boolean(self.ephemeral).int32(self.parent_cversion)


@dataclass(frozen=True, slots=True)
class CreateContainerTxn:
    path: str
    data: bytes | None
    acl: tuple[ACL, ...]
    parent_cversion: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data)
        write_acls(w, self.acl)
        w.int32(self.parent_cversion)


@dataclass(frozen=True, slots=True)
class CreateTTLTxn:
    """Only read (from Apache ZooKeeper logs with extended types on); kcli creates none."""

    path: str
    data: bytes | None
    acl: tuple[ACL, ...]
    parent_cversion: int
    ttl: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data)
        write_acls(w, self.acl)
        w.int32(self.parent_cversion).int64(self.ttl)


@dataclass(frozen=True, slots=True)
class DeleteTxn:
    path: str

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path)


@dataclass(frozen=True, slots=True)
class SetDataTxn:
    path: str
    data: bytes | None
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data).int32(self.version)


@dataclass(frozen=True, slots=True)
class SetACLTxn:
    path: str
    acl: tuple[ACL, ...]
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path)
        write_acls(w, self.acl)
        w.int32(self.version)


@dataclass(frozen=True, slots=True)
class CheckVersionTxn:
    path: str
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).int32(self.version)


@dataclass(frozen=True, slots=True)
class CreateSessionTxn:
    timeout: int

    def write(self, w: JuteWriter) -> None:
        w.int32(self.timeout)


@dataclass(frozen=True, slots=True)
class CloseSessionTxn:
    paths_to_delete: tuple[str, ...]

    def write(self, w: JuteWriter) -> None:
        w.strings(list(self.paths_to_delete))


@dataclass(frozen=True, slots=True)
class ErrorTxn:
    err: int

    def write(self, w: JuteWriter) -> None:
        w.int32(self.err)


SubTxn = (
    CreateTxn
    | CreateContainerTxn
    | CreateTTLTxn
    | DeleteTxn
    | SetDataTxn
    | SetACLTxn
    | CheckVersionTxn
    | ErrorTxn
)


@dataclass(frozen=True, slots=True)
class MultiTxn:
    txns: tuple[tuple[int, SubTxn], ...] = field(default_factory=tuple)

    def write(self, w: JuteWriter) -> None:
        w.int32(len(self.txns))
        for op, sub in self.txns:
            inner = JuteWriter()
            sub.write(inner)
            w.int32(op).buffer(inner.to_bytes())


TxnRecord = SubTxn | CreateSessionTxn | CloseSessionTxn | MultiTxn


def encode_txn(header: TxnHeader, record: TxnRecord | None) -> bytes:
    """TxnHeader + record: the bytes the txn log stores for one transaction."""
    w = JuteWriter().raw(header.pack())
    if record is not None:
        record.write(w)
    return w.to_bytes()


def _read_sub(op: int, r: JuteReader) -> SubTxn:
    if op in (OpCode.CREATE, OpCode.CREATE2):
        path = r.string()
        data = r.buffer()
        acl = tuple(read_acls(r))
        return CreateTxn(path, data, acl, r.boolean(), r.int32())
    if op in (OpCode.CREATE_CONTAINER, OpCode.CREATE_TTL):
        path = r.string()
        data = r.buffer()
        acl = tuple(read_acls(r))
        parent_cversion = r.int32()
        if op == OpCode.CREATE_TTL:
            return CreateTTLTxn(path, data, acl, parent_cversion, r.int64())
        return CreateContainerTxn(path, data, acl, parent_cversion)
    if op in (OpCode.DELETE, OpCode.DELETE_CONTAINER):
        return DeleteTxn(r.string())
    if op == OpCode.SET_DATA:
        return SetDataTxn(r.string(), r.buffer(), r.int32())
    if op == OpCode.SET_ACL:
        return SetACLTxn(r.string(), tuple(read_acls(r)), r.int32())
    if op == OpCode.CHECK:
        return CheckVersionTxn(r.string(), r.int32())
    if op == OpCode.ERROR:
        return ErrorTxn(r.int32())
    raise JuteError(f"unknown txn type {op}")


def read_record(op: int, r: JuteReader) -> TxnRecord | None:
    if op == OpCode.CREATE_SESSION:
        return CreateSessionTxn(r.int32())
    if op == OpCode.CLOSE_SESSION:
        return CloseSessionTxn(tuple(r.strings()) if r.remaining() >= 4 else ())
    if op == OpCode.MULTI:
        n = r.vector_len()
        subs: list[tuple[int, SubTxn]] = []
        for _ in range(max(n, 0)):
            sub_op = r.int32()
            body = r.buffer() or b""
            subs.append((sub_op, _read_sub(sub_op, JuteReader(body))))
        return MultiTxn(tuple(subs))
    return _read_sub(op, r)


def decode_txn(data: bytes) -> tuple[TxnHeader, TxnRecord | None]:
    r = JuteReader(data)
    header = TxnHeader.read(r)
    return header, read_record(header.type, r)
