"""Jute, ZooKeeper's binary serialisation: primitives and the records shared by requests,
replies, txns and snapshots. Sans-I/O: functions on bytes only.

Primitive layouts (all big-endian, as Java's DataOutput):

    int      4 bytes signed            long    8 bytes signed
    bool     1 byte (0/1)              byte    1 byte
    buffer   int length, bytes         (length -1 = null)
    ustring  int length, UTF-8 bytes   (length -1 = null)
    vector   int count, items          (count -1 = null)

Every client message travels in a frame: int length, then that many bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_INT_INT = struct.Struct(">ii")
_IQI = struct.Struct(">iqi")
_IBI = struct.Struct(">iBi")
# Stat: czxid mzxid ctime mtime (long) version cversion aversion (int) ephemeralOwner (long)
#       dataLength numChildren (int) pzxid (long)  = 68 bytes
_STAT = struct.Struct(">qqqqiiiqiiq")
# StatPersisted: czxid mzxid ctime mtime (long) version cversion aversion (int)
#                ephemeralOwner pzxid (long)  = 60 bytes
_STAT_PERSISTED = struct.Struct(">qqqqiiiqq")

# jute.maxbuffer default (0xfffff) plus jute.maxbuffer.extrasize (1024) the server allows on top.
MAX_BUFFER = 0xFFFFF
MAX_FRAME = MAX_BUFFER + 1024


class JuteError(ValueError):
    """Bytes that are not the record they should be (ZooKeeper's MARSHALLINGERROR)."""


class JuteReader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0) -> None:
        self.buf = bytes(buf) if not isinstance(buf, bytes) else buf
        self.pos = pos

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def _take(self, st: struct.Struct) -> tuple[int, ...]:
        if self.pos + st.size > len(self.buf):
            raise JuteError(f"truncated record at byte {self.pos}")
        values = st.unpack_from(self.buf, self.pos)
        self.pos += st.size
        return values

    def int32(self) -> int:
        return self._take(_INT)[0]

    def int64(self) -> int:
        return self._take(_LONG)[0]

    def boolean(self) -> bool:
        if self.pos >= len(self.buf):
            raise JuteError(f"truncated record at byte {self.pos}")
        value = self.buf[self.pos]
        self.pos += 1
        return value != 0

    def buffer(self) -> bytes | None:
        n = self.int32()
        if n < 0:
            return None
        if n > MAX_BUFFER or self.pos + n > len(self.buf):
            raise JuteError(f"buffer of {n} bytes does not fit the record")
        data = self.buf[self.pos : self.pos + n]
        self.pos += n
        return data

    def ustring(self) -> str | None:
        raw = self.buffer()
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JuteError("string is not UTF-8") from None

    def string(self) -> str:
        """A ustring that must not be null (paths)."""
        s = self.ustring()
        if s is None:
            raise JuteError("null string where a value is required")
        return s

    def vector_len(self) -> int:
        n = self.int32()
        # Each element is at least one byte; a larger count is garbage.
        if n > self.remaining():
            raise JuteError(f"vector of {n} items does not fit the record")
        return n

    def strings(self) -> list[str]:
        n = self.vector_len()
        return [self.string() for _ in range(max(n, 0))]


class JuteWriter:
    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = bytearray()

    def int32(self, v: int) -> JuteWriter:
        self.out += _INT.pack(v)
        return self

    def int64(self, v: int) -> JuteWriter:
        self.out += _LONG.pack(v)
        return self

    def boolean(self, v: bool) -> JuteWriter:
        self.out.append(1 if v else 0)
        return self

    def buffer(self, v: bytes | None) -> JuteWriter:
        if v is None:
            self.out += _INT.pack(-1)
        else:
            self.out += _INT.pack(len(v))
            self.out += v
        return self

    def ustring(self, v: str | None) -> JuteWriter:
        return self.buffer(None if v is None else v.encode("utf-8"))

    def strings(self, items: list[str]) -> JuteWriter:
        self.int32(len(items))
        for s in items:
            self.ustring(s)
        return self

    def raw(self, data: bytes) -> JuteWriter:
        self.out += data
        return self

    def to_bytes(self) -> bytes:
        return bytes(self.out)


def frame(payload: bytes | bytearray) -> bytes:
    """Prefix a payload with its int length."""
    return _INT.pack(len(payload)) + payload


# --- shared records -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Id:
    """Id: scheme ustring, id ustring."""

    scheme: str
    id: str


@dataclass(frozen=True, slots=True)
class ACL:
    """ACL: perms int, Id."""

    perms: int
    id: Id

    def write(self, w: JuteWriter) -> None:
        w.int32(self.perms).ustring(self.id.scheme).ustring(self.id.id)

    @classmethod
    def read(cls, r: JuteReader) -> ACL:
        perms = r.int32()
        return cls(perms, Id(r.ustring() or "", r.ustring() or ""))


def write_acls(w: JuteWriter, acls: list[ACL] | tuple[ACL, ...]) -> None:
    """vector<ACL>"""
    w.int32(len(acls))
    for acl in acls:
        acl.write(w)


def read_acls(r: JuteReader) -> list[ACL]:
    n = r.vector_len()
    return [ACL.read(r) for _ in range(max(n, 0))]


OPEN_ACL_UNSAFE = (ACL(31, Id("world", "anyone")),)
READ_ACL_UNSAFE = (ACL(1, Id("world", "anyone")),)


@dataclass(slots=True)
class Stat:
    """Stat as clients see it (68 bytes, layout in _STAT above)."""

    czxid: int = 0
    mzxid: int = 0
    ctime: int = 0
    mtime: int = 0
    version: int = 0
    cversion: int = 0
    aversion: int = 0
    ephemeral_owner: int = 0
    data_length: int = 0
    num_children: int = 0
    pzxid: int = 0

    def pack(self) -> bytes:
        return _STAT.pack(
            self.czxid,
            self.mzxid,
            self.ctime,
            self.mtime,
            self.version,
            self.cversion,
            self.aversion,
            self.ephemeral_owner,
            self.data_length,
            self.num_children,
            self.pzxid,
        )

    @classmethod
    def read(cls, r: JuteReader) -> Stat:
        return cls(*r._take(_STAT))


STAT_PERSISTED = _STAT_PERSISTED
STAT_STRUCT = _STAT


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """RequestHeader: xid int, type int (8 bytes)."""

    xid: int
    type: int

    @classmethod
    def read(cls, r: JuteReader) -> RequestHeader:
        xid, op = r._take(_INT_INT)
        return cls(xid, op)

    def pack(self) -> bytes:
        return _INT_INT.pack(self.xid, self.type)


def pack_reply_header(xid: int, zxid: int, err: int) -> bytes:
    """ReplyHeader: xid int, zxid long, err int (16 bytes)."""
    return _IQI.pack(xid, zxid, err)


def read_reply_header(r: JuteReader) -> tuple[int, int, int]:
    xid, zxid, err = r._take(_IQI)
    return xid, zxid, err


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """ConnectRequest: protocolVersion int, lastZxidSeen long, timeOut int, sessionId long,
    passwd buffer; then, from 3.4 clients on, a readOnly bool outside the record (old clients
    omit it, and then the reply omits it too)."""

    protocol_version: int
    last_zxid_seen: int
    timeout: int
    session_id: int
    passwd: bytes
    read_only: bool | None

    @classmethod
    def read(cls, r: JuteReader) -> ConnectRequest:
        proto = r.int32()
        last_zxid = r.int64()
        timeout = r.int32()
        session_id = r.int64()
        passwd = r.buffer() or b""
        read_only = r.boolean() if r.remaining() >= 1 else None
        return cls(proto, last_zxid, timeout, session_id, passwd, read_only)

    def pack(self) -> bytes:
        w = JuteWriter().int32(self.protocol_version).int64(self.last_zxid_seen)
        w.int32(self.timeout).int64(self.session_id).buffer(self.passwd)
        if self.read_only is not None:
            w.boolean(self.read_only)
        return w.to_bytes()


@dataclass(frozen=True, slots=True)
class ConnectResponse:
    """ConnectResponse: protocolVersion int, timeOut int, sessionId long, passwd buffer; then
    readOnly bool when the request carried one. timeOut 0 tells the client its session expired."""

    protocol_version: int
    timeout: int
    session_id: int
    passwd: bytes
    read_only: bool | None

    def pack(self) -> bytes:
        w = JuteWriter().int32(self.protocol_version).int32(self.timeout)
        w.int64(self.session_id).buffer(self.passwd)
        if self.read_only is not None:
            w.boolean(self.read_only)
        return w.to_bytes()

    @classmethod
    def read(cls, r: JuteReader) -> ConnectResponse:
        proto, timeout, sid = r.int32(), r.int32(), r.int64()
        passwd = r.buffer() or b""
        read_only = r.boolean() if r.remaining() >= 1 else None
        return cls(proto, timeout, sid, passwd, read_only)


def pack_watcher_event(event_type: int, state: int, path: str) -> bytes:
    """WatcherEvent: type int, state int, path ustring."""
    return JuteWriter().int32(event_type).int32(state).ustring(path).to_bytes()


def pack_multi_header(op_type: int, done: bool, err: int) -> bytes:
    """MultiHeader: type int, done bool, err int (9 bytes)."""
    return _IBI.pack(op_type, 1 if done else 0, err)


def read_multi_header(r: JuteReader) -> tuple[int, bool, int]:
    op, done, err = r._take(_IBI)
    return op, done != 0, err
