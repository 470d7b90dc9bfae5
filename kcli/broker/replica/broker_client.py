"""One connection from this broker to another, for the follower fetcher's requests (Kafka's
BlockingSend / NetworkClient of a ReplicaFetcherThread).

The controller's channel (controller/broker_channel.py) queues control requests with retries;
a fetcher instead wants exactly one request in flight, a long-poll timeout of its own, and to
see every failure at once (it backs off and reconnects itself), so this is a plain
request/response over one stream.

Frames: int32 size, request header (v1: api_key, api_version, correlation_id, client_id
int16 string; v2 adds an empty tagged-field section for flexible versions), body; the answer
is int32 size, correlation_id, (flexible: empty tagged fields), body, decoded by kio.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
from typing import Any

from kio.serial import entity_reader
from kio.serial.errors import SerialError

from kcli.protocol.messages import encode_body, is_flexible

_SIZE = struct.Struct(">i")
_READERS: dict[type[Any], Any] = {}


class BrokerConnection:
    def __init__(self, host: str, port: int, client_id: str, timeout_ms: int) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id.encode()
        self.timeout_s = timeout_ms / 1000
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._correlation = itertools.count(1)

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def request(
        self,
        request: Any,
        response_cls: type[Any],
        timeout_s: float,
        body: bytes | None = None,
    ) -> Any:
        """Send `request` (a kio entity, or with `body` just a class carrying __api_key__ and
        __version__ of an already encoded body) and decode the answer as `response_cls`. Any
        failure (OSError, timeout, a bad frame) closes the connection and propagates."""
        try:
            if self._conn is None:
                self._conn = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), self.timeout_s
                )
            async with asyncio.timeout(timeout_s):  # no extra task per request, unlike wait_for
                return await self._roundtrip(request, response_cls, body)
        except BaseException:
            self.close()
            raise

    async def _roundtrip(self, request: Any, response_cls: type[Any], body: bytes | None) -> Any:
        assert self._conn is not None
        reader, writer = self._conn
        api_key, version = int(request.__api_key__), int(request.__version__)
        flexible = is_flexible(api_key, version)
        correlation_id = next(self._correlation) & 0x7FFFFFFF
        head = struct.pack(">hhih", api_key, version, correlation_id, len(self.client_id))
        head += self.client_id + (b"\x00" if flexible else b"")
        payload = head + (body if body is not None else encode_body(request))
        writer.write(_SIZE.pack(len(payload)) + payload)
        await writer.drain()
        (size,) = _SIZE.unpack(await reader.readexactly(4))
        frame = await reader.readexactly(size)
        (got,) = _SIZE.unpack_from(frame)
        if got != correlation_id:
            raise ConnectionError(f"correlation id {got}, expected {correlation_id}")
        read = _READERS.get(response_cls)
        if read is None:
            read = _READERS[response_cls] = entity_reader(response_cls)
        try:
            body, _ = read(frame, 5 if flexible else 4)
        except (SerialError, ValueError, TypeError, IndexError, KeyError, struct.error) as exc:
            raise ConnectionError(f"malformed {response_cls.__name__}: {exc}") from None
        return body

    def close(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None
