"""A minimal blocking ZooKeeper client on kcli's jute codec, for tests that need exact control
of the bytes and of the order frames arrive in (kazoo hides both)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.jute import (
    ConnectRequest,
    ConnectResponse,
    JuteReader,
    frame,
    read_reply_header,
)
from kcli.zookeeper.records import Request, encode_request

_INT = struct.Struct(">i")


@dataclass
class Reply:
    xid: int
    zxid: int
    err: int
    body: JuteReader


class RawZk:
    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.xid = 0
        self.session_id = 0
        self.passwd = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawZk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_frame(self) -> bytes:
        head = self._read_exact(4)
        (length,) = _INT.unpack(head)
        return self._read_exact(length)

    def _read_exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("server closed the connection")
            out += chunk
        return bytes(out)

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        """True when the server ends the connection within `timeout` (ignoring any replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def connect(
        self, timeout_ms: int = 10000, session_id: int = 0, passwd: bytes = b"\0" * 16
    ) -> ConnectResponse:
        req = ConnectRequest(0, 0, timeout_ms, session_id, passwd, False)
        self.send_raw(frame(req.pack()))
        rsp = ConnectResponse.read(JuteReader(self.read_frame()))
        self.session_id, self.passwd = rsp.session_id, rsp.passwd
        return rsp

    def send(self, op: int, record: Request, xid: int | None = None) -> int:
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.send_raw(frame(encode_request(xid, op, record)))
        return xid

    def read_reply(self) -> Reply:
        r = JuteReader(self.read_frame())
        xid, zxid, err = read_reply_header(r)
        return Reply(xid, zxid, err, r)

    def call(self, op: int, record: Request) -> Reply:
        """Send and read frames until the reply with this xid (events before it are lost)."""
        xid = self.send(op, record)
        while True:
            reply = self.read_reply()
            if reply.xid == xid:
                return reply


__all__ = ["OpCode", "RawZk", "Reply"]
