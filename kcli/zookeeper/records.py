"""Request records of ZooKeeper's client protocol and the encoders of their responses.

A request frame is: RequestHeader (xid int, type int), then the record for `type`:

    CreateRequest        path ustring, data buffer, acl vector<ACL>, flags int
                         (CreateTTLRequest adds ttl long)            create(1) create2(15)
    DeleteRequest        path ustring, version int                   delete(2)
    ExistsRequest        path ustring, watch bool                    exists(3)
    GetDataRequest       path ustring, watch bool                    getData(4)
    SetDataRequest       path ustring, data buffer, version int      setData(5)
    GetACLRequest        path ustring                                getACL(6)
    SetACLRequest        path ustring, acl vector<ACL>, version int  setACL(7)
    GetChildrenRequest   path ustring, watch bool                    getChildren(8), (12)
    SyncRequest          path ustring                                sync(9)
    CheckVersionRequest  path ustring, version int                   check(13)
    MultiRequest         { MultiHeader(type, done=false, err=-1), op record }*
                         MultiHeader(-1, done=true, -1)              multi(14)
    AddWatchRequest      path ustring, mode int (0 persistent, 1 recursive)  addWatch(106)
    RemoveWatchesRequest path ustring, type int           removeWatches(18), checkWatches(17)
    SetWatches           relativeZxid long, dataWatches, existWatches, childWatches
                         vector<ustring> (SetWatches2 adds persistentWatches,
                         persistentRecursiveWatches)                 setWatches(101), (105)
    AuthPacket           type int, scheme ustring, auth buffer       auth(100)
    ping(11), closeSession(-11) and whoAmI(107) have no body.

Responses follow a ReplyHeader (xid int, zxid long, err int); a body is present only when
err is 0:

    CreateResponse path ustring | Create2Response path ustring, Stat
    ExistsResponse, SetDataResponse, SetACLResponse: Stat
    GetDataResponse data buffer, Stat | GetACLResponse acl vector<ACL>, Stat
    GetChildrenResponse children vector<ustring> | GetChildren2Response children, Stat
    SyncResponse path ustring | addWatch: ErrorResponse err int (0)
    MultiResponse { MultiHeader(type, false, err), result }* MultiHeader(-1, true, -1),
        where result is the op's response, nothing for delete/check, and for a failed
        op type=-1 with ErrorResponse err int.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.jute import (
    ACL,
    JuteError,
    JuteReader,
    JuteWriter,
    pack_multi_header,
    read_acls,
    read_multi_header,
    write_acls,
)


@dataclass(slots=True)
class CreateRequest:
    path: str
    data: bytes | None
    acl: list[ACL]
    flags: int
    ttl: int = -1

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data)
        write_acls(w, self.acl)
        w.int32(self.flags)


@dataclass(slots=True)
class DeleteRequest:
    path: str
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).int32(self.version)


@dataclass(slots=True)
class SetDataRequest:
    path: str
    data: bytes | None
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).buffer(self.data).int32(self.version)


@dataclass(slots=True)
class SetACLRequest:
    path: str
    acl: list[ACL]
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path)
        write_acls(w, self.acl)
        w.int32(self.version)


@dataclass(slots=True)
class CheckVersionRequest:
    path: str
    version: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).int32(self.version)


@dataclass(slots=True)
class PathWatchRequest:
    """exists / getData / getChildren / getChildren2."""

    path: str
    watch: bool

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).boolean(self.watch)


@dataclass(slots=True)
class PathRequest:
    """getACL / sync / getAllChildrenNumber / getEphemerals."""

    path: str

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path)


@dataclass(slots=True)
class PathModeRequest:
    """addWatch (mode int), removeWatches / checkWatches (type int): path ustring, int."""

    path: str
    mode: int

    def write(self, w: JuteWriter) -> None:
        w.ustring(self.path).int32(self.mode)


@dataclass(slots=True)
class EmptyRequest:
    """ping / closeSession / whoAmI."""

    def write(self, w: JuteWriter) -> None:
        pass


WriteOp = CreateRequest | DeleteRequest | SetDataRequest | SetACLRequest | CheckVersionRequest


@dataclass(slots=True)
class MultiRequest:
    ops: list[tuple[int, WriteOp]] = field(default_factory=list)

    def write(self, w: JuteWriter) -> None:
        for op, record in self.ops:
            w.raw(pack_multi_header(op, False, -1))
            record.write(w)
        w.raw(pack_multi_header(-1, True, -1))


@dataclass(slots=True)
class SetWatches:
    relative_zxid: int
    data: list[str]
    exist: list[str]
    child: list[str]
    persistent: list[str] | None = None
    persistent_recursive: list[str] | None = None

    def write(self, w: JuteWriter) -> None:
        w.int64(self.relative_zxid).strings(self.data).strings(self.exist).strings(self.child)
        if self.persistent is not None:
            w.strings(self.persistent).strings(self.persistent_recursive or [])


@dataclass(slots=True)
class AuthPacket:
    type: int
    scheme: str
    auth: bytes

    def write(self, w: JuteWriter) -> None:
        w.int32(self.type).ustring(self.scheme).buffer(self.auth)


Request = (
    WriteOp
    | PathWatchRequest
    | PathRequest
    | PathModeRequest
    | EmptyRequest
    | MultiRequest
    | SetWatches
    | AuthPacket
)


def _read_create(r: JuteReader, ttl: bool) -> CreateRequest:
    path = r.string()
    data = r.buffer()
    acl = read_acls(r)
    flags = r.int32()
    return CreateRequest(path, data, acl, flags, r.int64() if ttl else -1)


def _read_write_op(op: int, r: JuteReader) -> WriteOp:
    if op in (OpCode.CREATE, OpCode.CREATE2, OpCode.CREATE_CONTAINER):
        return _read_create(r, ttl=False)
    if op == OpCode.CREATE_TTL:
        return _read_create(r, ttl=True)
    if op in (OpCode.DELETE, OpCode.DELETE_CONTAINER):
        return DeleteRequest(r.string(), r.int32())
    if op == OpCode.SET_DATA:
        return SetDataRequest(r.string(), r.buffer(), r.int32())
    if op == OpCode.SET_ACL:
        return SetACLRequest(r.string(), read_acls(r), r.int32())
    if op == OpCode.CHECK:
        return CheckVersionRequest(r.string(), r.int32())
    raise JuteError(f"op {op} is not allowed in a multi")


def _read_multi(r: JuteReader) -> MultiRequest:
    req = MultiRequest()
    while True:
        op, done, _err = read_multi_header(r)
        if done:
            return req
        req.ops.append((op, _read_write_op(op, r)))


_PATH_WATCH = {OpCode.EXISTS, OpCode.GET_DATA, OpCode.GET_CHILDREN, OpCode.GET_CHILDREN2}
_PATH_ONLY = {
    OpCode.GET_ACL,
    OpCode.SYNC,
    OpCode.GET_ALL_CHILDREN_NUMBER,
    OpCode.GET_EPHEMERALS,
}
_EMPTY = {OpCode.PING, OpCode.CLOSE_SESSION, OpCode.WHO_AM_I}


def read_request(op: int, r: JuteReader) -> Request:
    """Decode the record after a RequestHeader; JuteError for garbage, KeyError for an
    op code this server does not implement."""
    if op in _PATH_WATCH:
        return PathWatchRequest(r.string(), r.boolean())
    if op in _PATH_ONLY:
        return PathRequest(r.string())
    if op in _EMPTY:
        return EmptyRequest()
    if op in (OpCode.ADD_WATCH, OpCode.REMOVE_WATCHES, OpCode.CHECK_WATCHES):
        return PathModeRequest(r.string(), r.int32())
    if op == OpCode.MULTI:
        return _read_multi(r)
    if op in (OpCode.SET_WATCHES, OpCode.SET_WATCHES2):
        rel = r.int64()
        data, exist, child = r.strings(), r.strings(), r.strings()
        if op == OpCode.SET_WATCHES2:
            return SetWatches(rel, data, exist, child, r.strings(), r.strings())
        return SetWatches(rel, data, exist, child)
    if op == OpCode.AUTH:
        return AuthPacket(r.int32(), r.string(), r.buffer() or b"")
    if op in (
        OpCode.CREATE,
        OpCode.CREATE2,
        OpCode.CREATE_TTL,
        OpCode.CREATE_CONTAINER,
        OpCode.DELETE,
        OpCode.SET_DATA,
        OpCode.SET_ACL,
        OpCode.CHECK,
    ):
        return _read_write_op(op, r)
    raise KeyError(op)


def encode_request(xid: int, op: int, record: Request) -> bytes:
    """RequestHeader + record, without the frame length (used by tests and tools)."""
    w = JuteWriter().int32(xid).int32(op)
    record.write(w)
    return w.to_bytes()


# --- response bodies ----------------------------------------------------------------------


def pack_children(children: list[str]) -> bytes:
    return JuteWriter().strings(children).to_bytes()


def pack_data(data: bytes | None, stat: bytes) -> bytes:
    return JuteWriter().buffer(data).raw(stat).to_bytes()


def pack_acls(acls: list[ACL] | tuple[ACL, ...], stat: bytes) -> bytes:
    w = JuteWriter()
    write_acls(w, acls)
    return w.raw(stat).to_bytes()


def pack_path(path: str) -> bytes:
    return JuteWriter().ustring(path).to_bytes()
