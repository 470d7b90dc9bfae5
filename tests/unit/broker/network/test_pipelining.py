"""The connection's ordering rule over a socket pair with fake handlers (see connection.py)."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from kio.schema.metadata.v4.request import MetadataRequest

from kcli.broker.handlers.base import Handler, RawResponse
from kcli.broker.network.connection import KafkaConnection
from kcli.protocol.frame import frame
from kcli.protocol.messages import encode_body
from tests.unit.broker.helpers import make_context, request_frame

META = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
METADATA, LIST_GROUPS = 3, 16  # pipelined / sequential (ListGroups v0 has an empty body)


def metadata(corr: int) -> bytes:
    return frame(request_frame(METADATA, 4, corr, META, False))


def list_groups(corr: int) -> bytes:
    return frame(request_frame(LIST_GROUPS, 0, corr, b"", False))


async def read_corr(reader: asyncio.StreamReader) -> int:
    (size,) = struct.unpack(">i", await asyncio.wait_for(reader.readexactly(4), 5))
    body = await reader.readexactly(size)
    return int(struct.unpack_from(">i", body)[0])


async def serve(handlers: dict[int, Handler], max_in_flight: int = 16) -> Any:
    ctx = make_context()
    ctx.broker.handlers = {**ctx.broker.handlers, **handlers}
    server_sock, client_sock = socket.socketpair()
    conns: list[KafkaConnection] = []

    def factory() -> KafkaConnection:
        conns.append(KafkaConnection(ctx.broker, "PLAINTEXT", 1 << 20, max_in_flight=max_in_flight))
        return conns[0]

    await asyncio.get_running_loop().connect_accepted_socket(factory, server_sock)
    reader, writer = await asyncio.open_connection(sock=client_sock)
    return reader, writer, conns[0]


def answer(corr: int) -> RawResponse:
    return RawResponse((struct.pack(">i", corr),), 0)


def test_a_later_request_runs_while_an_earlier_one_waits_and_answers_stay_in_order() -> None:
    async def main() -> tuple[list[int], list[str]]:
        second_ran = asyncio.Event()
        events: list[str] = []

        async def handle(ctx: Any, header: Any, request: Any) -> Any:
            events.append(f"start {header.correlation_id}")
            if header.correlation_id == 1:
                await asyncio.wait_for(second_ran.wait(), 5)  # muting would deadlock here
            else:
                second_ran.set()
            events.append(f"end {header.correlation_id}")
            return answer(header.correlation_id)

        reader, writer, _ = await serve({METADATA: Handler(METADATA, 0, 12, handle, "m")})
        writer.write(metadata(1) + metadata(2))
        corrs = [await read_corr(reader) for _ in range(2)]
        writer.close()
        return corrs, events

    corrs, events = asyncio.run(main())
    assert corrs == [1, 2]
    assert events == ["start 1", "start 2", "end 2", "end 1"]


def test_in_flight_is_bounded_and_the_rest_waits_its_turn() -> None:
    async def main() -> tuple[int, int, list[int]]:
        release = asyncio.Event()
        started: list[int] = []

        async def handle(ctx: Any, header: Any, request: Any) -> Any:
            started.append(header.correlation_id)
            await release.wait()
            return answer(header.correlation_id)

        reader, writer, conn = await serve(
            {METADATA: Handler(METADATA, 0, 12, handle, "m")}, max_in_flight=3
        )
        writer.write(b"".join(metadata(i) for i in range(1, 8)))
        for _ in range(200):
            if len(started) >= 3:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # time for more to start, were the bound not kept
        seen, in_flight = len(started), conn.in_flight
        release.set()
        corrs = [await read_corr(reader) for _ in range(7)]
        writer.close()
        return seen, in_flight, corrs

    seen, in_flight, corrs = asyncio.run(main())
    assert (seen, in_flight) == (3, 3)
    assert corrs == list(range(1, 8))


def test_a_sequential_request_waits_for_all_before_it_and_holds_back_the_next() -> None:
    async def main() -> tuple[list[str], list[int]]:
        events: list[str] = []

        async def handle(ctx: Any, header: Any, request: Any) -> Any:
            events.append(f"start {header.correlation_id}")
            await asyncio.sleep(0.03)
            events.append(f"end {header.correlation_id}")
            return answer(header.correlation_id)

        handlers = {
            METADATA: Handler(METADATA, 0, 12, handle, "m"),
            LIST_GROUPS: Handler(LIST_GROUPS, 0, 4, handle, "g"),
        }
        reader, writer, _ = await serve(handlers)
        writer.write(metadata(1) + metadata(2) + list_groups(3) + metadata(4))
        corrs = [await read_corr(reader) for _ in range(4)]
        writer.close()
        return events, corrs

    events, corrs = asyncio.run(main())
    assert corrs == [1, 2, 3, 4]
    assert events[:2] == ["start 1", "start 2"]  # pipelined together
    assert events[2:] == ["end 1", "end 2", "start 3", "end 3", "start 4", "end 4"]


def test_a_client_going_away_cancels_waiting_requests_and_leaves_no_task() -> None:
    async def main() -> tuple[list[str], set[asyncio.Task[Any]]]:
        events: list[str] = []
        started = asyncio.Event()

        async def wait_forever(ctx: Any, header: Any, request: Any) -> Any:
            started.set()
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                events.append(f"cancelled {header.correlation_id}")
                raise
            return answer(header.correlation_id)

        _reader, writer, _conn = await serve(
            {METADATA: Handler(METADATA, 0, 12, wait_forever, "m")}
        )
        writer.write(metadata(1) + metadata(2))
        await asyncio.wait_for(started.wait(), 5)
        writer.close()
        for _ in range(300):
            leftover = asyncio.all_tasks() - {asyncio.current_task()}
            if not leftover:
                break
            await asyncio.sleep(0.01)
        return events, leftover

    events, leftover = asyncio.run(main())
    assert sorted(events) == ["cancelled 1", "cancelled 2"]
    assert not leftover


def test_a_sequential_request_finishes_even_when_its_client_left() -> None:
    async def main() -> list[str]:
        events: list[str] = []
        started = asyncio.Event()

        async def handle(ctx: Any, header: Any, request: Any) -> Any:
            started.set()
            await asyncio.sleep(0.05)
            events.append("finished")
            return answer(header.correlation_id)

        _reader, writer, _ = await serve({LIST_GROUPS: Handler(LIST_GROUPS, 0, 4, handle, "g")})
        writer.write(list_groups(1))
        await asyncio.wait_for(started.wait(), 5)
        writer.close()
        for _ in range(300):
            if len(asyncio.all_tasks()) == 1:
                break
            await asyncio.sleep(0.01)
        return events

    assert asyncio.run(main()) == ["finished"]


def test_a_bad_frame_answers_what_came_before_then_closes() -> None:
    async def main() -> tuple[int, bytes]:
        async def slow(ctx: Any, header: Any, request: Any) -> Any:
            await asyncio.sleep(0.05)
            return answer(header.correlation_id)

        reader, writer, _ = await serve({METADATA: Handler(METADATA, 0, 12, slow, "m")})
        unknown = frame(request_frame(999, 0, 2, b"", False))
        writer.write(metadata(1) + unknown + metadata(3))
        first = await read_corr(reader)
        rest = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return first, rest

    assert asyncio.run(main()) == (1, b"")


def test_close_by_the_broker_cancels_and_awaits_everything() -> None:
    async def main() -> tuple[list[str], int]:
        events: list[str] = []
        started = asyncio.Event()

        async def handle(ctx: Any, header: Any, request: Any) -> Any:
            started.set()
            try:
                await asyncio.sleep(60)
            finally:
                events.append(f"done {header.correlation_id}")
            return answer(header.correlation_id)

        _reader, writer, conn = await serve({LIST_GROUPS: Handler(LIST_GROUPS, 0, 4, handle, "g")})
        writer.write(list_groups(1))
        await asyncio.wait_for(started.wait(), 5)
        await conn.aclose()
        left = len(asyncio.all_tasks()) - 1
        writer.close()
        return events, left

    assert asyncio.run(main()) == (["done 1"], 0)


def test_a_bad_frame_after_quick_answers_still_lets_them_out() -> None:
    async def main() -> tuple[list[int], bytes]:
        async def quick(ctx: Any, header: Any, request: Any) -> Any:
            return answer(header.correlation_id)

        reader, writer, _ = await serve({METADATA: Handler(METADATA, 0, 12, quick, "m")})
        unknown = frame(request_frame(999, 0, 3, b"", False))
        writer.write(metadata(1) + metadata(2) + unknown + metadata(4))
        firsts = [await read_corr(reader) for _ in range(2)]
        rest = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return firsts, rest

    assert asyncio.run(main()) == ([1, 2], b"")
