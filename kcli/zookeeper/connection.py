"""One client connection (ZooKeeper's ServerCnxn) on asyncio's Protocol interface.

Framing: every message is `int length` + body. The first frame is a ConnectRequest; after it,
RequestHeader + record. Before the handshake, a first word that spells a four-letter command
(`ruok`, `srvr`, ...) is answered as text and the connection closed. A length below zero or
above jute.maxbuffer (+1 KiB), undecodable bytes or an end of stream inside a frame close
this connection only.

Ordering: replies and watch events leave in the order they were produced. Each carries the
zxid it depends on (a write's own zxid, a read's view of the tree); it is held until the txn
log has made that zxid durable, so no client ever sees state that a crash could undo.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from typing import TYPE_CHECKING

from kcli.zookeeper.codes import Code, KeeperState, OpCode, Xid
from kcli.zookeeper.fourletter import ServerStats
from kcli.zookeeper.jute import (
    MAX_FRAME,
    ConnectRequest,
    Id,
    JuteError,
    JuteReader,
    RequestHeader,
    frame,
    pack_reply_header,
    pack_watcher_event,
)
from kcli.zookeeper.records import read_request

if TYPE_CHECKING:
    from kcli.zookeeper.server import ZooKeeperServer

log = logging.getLogger("org.apache.zookeeper.server.NIOServerCnxn")

_INT = struct.Struct(">i")
_WORDS = "ruok stat srvr mntr conf isro envi cons crst dump wchs wchc wchp dirs gtmk stmk srst"
FOUR_LETTER_WORDS = frozenset(_INT.unpack(w.encode())[0] for w in _WORDS.split())
KNOWN_OPS = frozenset(int(op) for op in OpCode)
_OP_TAGS = {int(op): op.name.replace("_", "")[:4] for op in OpCode}  # CREA, GETD, SETW, ...
_CLOSE = b""  # held-output marker: close once everything before it is written


class ServerCnxn(asyncio.Protocol):
    def __init__(self, server: ZooKeeperServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.remote = ("?", 0)
        self.buf = bytearray()
        self.session_id = 0
        self.established = False
        self.closed = False
        self.auth_ids: list[Id] = [Id("ip", "")]
        self.held: deque[tuple[int, bytes, float]] = deque()
        self.packets_received = 0
        self.packets_sent = 0
        # for `cons`: ZooKeeper's per-connection details
        self.stats = ServerStats()
        self.last_op = "NA"
        self.last_cxid = -1
        self.last_zxid = -1
        self.established_ms = 0
        self.last_response_ms = 0
        self._paused = False
        self._write_paused = False
        self._deadline: asyncio.TimerHandle | None = None

    # --- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.remote = (peer[0], peer[1])
        self.auth_ids = [Id("ip", self.remote[0])]
        if not self.server.accept(self):
            transport.abort()
            self.closed = True
            return
        # A connection that never completes the handshake is dropped (ZooKeeper expires
        # "sessionless" connections the same way).
        limit = self.server.config.max_session_timeout / 1000
        self._deadline = asyncio.get_running_loop().call_later(limit, self._handshake_deadline)

    def _handshake_deadline(self) -> None:
        if not self.established and not self.closed:
            self.close_now("no session established in time")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._deadline is not None:
            self._deadline.cancel()
        self.server.connection_closed(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._maybe_resume_reading()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        self.buf += data
        self._drain_safely()

    def _drain_safely(self) -> None:
        try:
            self._drain_frames()
        except JuteError as exc:
            self.close_now(f"unreadable request ({exc})")
        except Exception:  # a bug must cost one connection, not the server
            log.exception("Unexpected error serving %s", self.describe())
            self.close_now("internal error")

    def eof_received(self) -> bool | None:
        if self.buf:
            log.info("Closing %s: stream ended inside a frame", self.describe())
        return None  # let the transport close

    # --- framing -------------------------------------------------------------------------

    def _drain_frames(self) -> None:
        buf = self.buf
        pos = 0
        while not self.closed and not self._paused and len(buf) - pos >= 4:
            length = _INT.unpack_from(buf, pos)[0]
            if not self.established and length in FOUR_LETTER_WORDS and pos == 0:
                del buf[:4]
                self.server.four_letter_word(self, _INT.pack(length).decode())
                return
            if length < 0 or length > MAX_FRAME:
                self.close_now(f"Len error {length}")
                return
            if len(buf) - pos - 4 < length:
                break
            body = bytes(buf[pos + 4 : pos + 4 + length])
            pos += 4 + length
            self.packets_received += 1
            self.server.stats.packets_received += 1
            if self.established:
                self._handle_request(body)
            else:
                self.server.handle_connect(self, ConnectRequest.read(JuteReader(body)))
        del buf[:pos]

    def _handle_request(self, body: bytes) -> None:
        r = JuteReader(body)
        hdr = RequestHeader.read(r)
        try:
            record = read_request(hdr.type, r)
        except KeyError:
            self.send_reply(hdr.xid, self.server.db.last_zxid, Code.UNIMPLEMENTED)
            if hdr.type in KNOWN_OPS:  # e.g. addWatch: say so, keep serving this client
                log.info("Unsupported request type %s", OpCode(hdr.type).name)
            else:
                log.warning("Received packet at server of unknown type %d", hdr.type)
                self.close_after()
            return
        if not self.server.touch(self):
            self.send_reply(hdr.xid, self.server.db.last_zxid, Code.SESSIONEXPIRED)
            self.close_after()
            return
        self.last_op = _OP_TAGS.get(hdr.type, "UNKN")
        self.last_cxid = hdr.xid
        self.server.process_request(self, hdr, record, time.monotonic())

    # --- output --------------------------------------------------------------------------

    def send(self, payload: bytes, depends_on: int, started: float = 0.0) -> None:
        """Queue one framed message; it leaves once `depends_on` is durable."""
        if self.closed:
            return
        if not self.held and depends_on <= self.server.committed_zxid:
            self._write(payload, started)
            return
        self.held.append((depends_on, payload, started))
        self.server.hold(self)
        if len(self.held) > 10_000:
            self._pause_reading()

    def send_reply(
        self, xid: int, zxid: int, err: int, body: bytes = b"", started: float = 0.0
    ) -> None:
        dep = zxid if zxid > 0 else self.server.db.last_zxid
        self.send(frame(pack_reply_header(xid, zxid, err) + body), dep, started)

    def process(self, event_type: int, path: str) -> None:
        """Watcher callback from the data tree: a notification (xid -1)."""
        body = pack_watcher_event(event_type, KeeperState.SYNC_CONNECTED, path)
        self.send(
            frame(pack_reply_header(Xid.NOTIFICATION, -1, 0) + body),
            self.server.applying_zxid,
        )

    def flush_held(self, committed: int) -> None:
        while self.held and self.held[0][0] <= committed:
            _dep, payload, started = self.held.popleft()
            if payload is _CLOSE:
                self.close_now(None)
                return
            self._write(payload, started)
        self._maybe_resume_reading()

    def close_after(self, depends_on: int = 0) -> None:
        """Close once every queued message has been written (and `depends_on` is durable)."""
        if self.closed:
            return
        if not self.held and depends_on <= self.server.committed_zxid:
            self.close_now(None)
            return
        dep = max(depends_on, self.held[-1][0] if self.held else 0)
        self.held.append((dep, _CLOSE, 0.0))
        self.server.hold(self)
        self._pause_reading()

    def close_now(self, reason: str | None) -> None:
        if self.closed:
            return
        if reason:
            log.warning("Closing %s: %s", self.describe(), reason)
        self.closed = True
        self.held.clear()
        if self.transport is not None:
            if reason:
                self.transport.abort()
            else:
                self.transport.close()

    def _write(self, payload: bytes, started: float) -> None:
        assert self.transport is not None
        self.transport.write(payload)
        self.packets_sent += 1
        now = time.monotonic()
        self.server.stats.sent(started, now)
        if started:
            self.stats.sent(started, now)
            self.last_zxid = self.server.db.last_zxid
            self.last_response_ms = self.server.clock.time_ms()

    def write_text(self, text: str) -> None:
        if self.transport is not None:
            self.transport.write(text.encode())
        self.close_now(None)

    def _pause_reading(self) -> None:
        if not self._paused and self.transport is not None and not self.closed:
            self._paused = True
            self.transport.pause_reading()

    def _maybe_resume_reading(self) -> None:
        if self._paused and not self._write_paused and len(self.held) < 1000 and not self.closed:
            if self.held and self.held[-1][1] is _CLOSE:
                return
            self._paused = False
            assert self.transport is not None
            self.transport.resume_reading()
            if self.buf:
                self._drain_safely()

    def describe(self) -> str:
        sid = f" session 0x{self.session_id & 0xFFFFFFFFFFFFFFFF:x}" if self.session_id else ""
        return f"/{self.remote[0]}:{self.remote[1]}{sid}"
