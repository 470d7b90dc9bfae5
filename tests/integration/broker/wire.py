"""A minimal blocking Kafka wire client for tests: kio encodes requests and decodes responses."""

from __future__ import annotations

import socket
import struct
from typing import Any

from kio.serial import entity_reader

from kcli.protocol.messages import encode_body, is_flexible, response_class


def connect(bootstrap: str) -> socket.socket:
    host, port = bootstrap.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def request_bytes(request: Any, version: int, correlation_id: int = 1) -> bytes:
    key = int(request.__api_key__)
    head = struct.pack(">hhih", key, version, correlation_id, 4) + b"test"
    if is_flexible(key, version):
        head += b"\x00"
    payload = head + encode_body(request)
    return struct.pack(">i", len(payload)) + payload


def read_frame(sock: socket.socket) -> bytes:
    size = struct.unpack(">i", recv_exactly(sock, 4))[0]
    return recv_exactly(sock, size)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def call(bootstrap: str, request: Any, version: int, correlation_id: int = 1) -> Any:
    """One request on a fresh connection; returns kio's decoded response."""
    with connect(bootstrap) as sock:
        sock.sendall(request_bytes(request, version, correlation_id))
        frame = read_frame(sock)
    cls = response_class(int(request.__api_key__), version)
    header_size = 5 if cls.__header_schema__.__version__ >= 1 else 4
    assert struct.unpack_from(">i", frame)[0] == correlation_id
    body, _ = entity_reader(cls)(frame, header_size)
    return body


def closed_by_peer(sock: socket.socket, timeout: float = 10.0) -> bool:
    """True once the broker has closed this connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
