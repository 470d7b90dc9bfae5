"""KafkaConnection over a local socket pair (no TCP port): ordering, file regions, bad frames."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path
from typing import Any

from kio.schema.metadata.v4.request import MetadataRequest

from kcli.broker.handlers.base import FileRegion, Handler, RawResponse
from kcli.broker.network.connection import KafkaConnection
from kcli.protocol.frame import frame
from kcli.protocol.messages import encode_body
from tests.unit.broker.helpers import make_context, request_frame


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


async def _serve_pair(handlers: dict[int, Handler] | None = None) -> Any:
    ctx = make_context()
    if handlers:
        ctx.broker.handlers = {**ctx.broker.handlers, **handlers}
    server_sock, client_sock = socket.socketpair()
    loop = asyncio.get_running_loop()
    await loop.connect_accepted_socket(
        lambda: KafkaConnection(ctx.broker, "PLAINTEXT", max_request_size=1000), server_sock
    )
    reader, writer = await asyncio.open_connection(sock=client_sock)
    return reader, writer


def test_pipelined_requests_are_answered_in_order() -> None:
    async def main() -> list[int]:
        async def slow(ctx: Any, header: Any, request: Any) -> Any:
            await asyncio.sleep(0.05)  # the later, faster request must still wait its turn
            return RawResponse((b"slow",), 0)

        reader, writer = await _serve_pair({3: Handler(3, 0, 12, slow, "slow")})
        meta = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
        writer.write(
            frame(request_frame(3, 4, 1, meta, False)) + frame(request_frame(18, 9, 2, b"", True))
        )
        corrs = [struct.unpack_from(">i", await _read_frame(reader))[0] for _ in range(2)]
        writer.close()
        return corrs

    assert asyncio.run(main()) == [1, 2]


def test_raw_response_with_a_file_region(tmp_path: Path) -> None:
    segment = tmp_path / "00000000000000000000.log"
    segment.write_bytes(b"0123456789" * 100)

    async def main(f: Any) -> bytes:
        async def fetch(ctx: Any, header: Any, request: Any) -> Any:
            return RawResponse((b"head", FileRegion(f, 10, 500), b"tail"), 1)

        reader, writer = await _serve_pair({3: Handler(3, 0, 12, fetch, "fetch")})
        meta = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
        writer.write(frame(request_frame(3, 4, 9, meta, False)))
        data = await _read_frame(reader)
        writer.close()
        return data

    with open(segment, "rb") as f:
        data = asyncio.run(main(f))
    assert data[:5] == b"\x00\x00\x00\x09\x00"  # correlation id + empty tagged fields
    assert data[5:] == b"head" + (b"0123456789" * 100)[10:510] + b"tail"


def test_oversized_frame_closes_only_that_connection() -> None:
    async def main() -> bytes:
        reader, writer = await _serve_pair()
        writer.write(struct.pack(">i", 1001))
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return data

    assert asyncio.run(main()) == b""  # closed without an answer


def test_a_handler_may_send_no_response() -> None:
    """acks=0 Produce answers nothing; the next response is still the next one written."""

    async def main() -> int:
        async def silent(ctx: Any, header: Any, request: Any) -> None:
            return None

        reader, writer = await _serve_pair({3: Handler(3, 0, 12, silent, "silent")})
        meta = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
        writer.write(
            frame(request_frame(3, 4, 1, meta, False)) + frame(request_frame(18, 9, 2, b"", True))
        )
        (corr,) = struct.unpack_from(">i", await _read_frame(reader))
        writer.close()
        return int(corr)

    assert asyncio.run(main()) == 2
