"""One client connection: frames in, responses out, strictly in request order.

Reading runs ahead in `data_received` (frames queue up, reading pauses past a limit); one task
per connection answers them one at a time, so responses leave in the order requests came,
whatever a handler awaits (Kafka mutes a channel while a request is in flight; clients check
correlation ids against the head of their queue). Writes honour transport flow control, and
file regions go out with `loop.sendfile` (zero-copy where the OS allows).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import cast

from kcli.broker.handlers.base import BrokerContext, FileRegion, RequestContext
from kcli.broker.network.dispatch import Outgoing, process
from kcli.protocol.errors import KafkaProtocolError
from kcli.protocol.frame import FrameDecoder

log = logging.getLogger("kafka.network.Processor")

MAX_QUEUED_FRAMES = 64  # read-ahead per connection before reading pauses


class KafkaConnection(asyncio.Protocol):
    def __init__(
        self,
        broker: BrokerContext,
        listener_name: str,
        max_request_size: int,
        on_close: Callable[[KafkaConnection], None] | None = None,
    ) -> None:
        self._on_close = on_close
        self._broker = broker
        self._listener_name = listener_name
        self._decoder = FrameDecoder(max_request_size)
        self._frames: collections.deque[bytes] = collections.deque()
        self._wakeup = asyncio.Event()
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._closed = False
        self._reading_paused = False
        self._transport: asyncio.Transport | None = None
        self._ctx: RequestContext | None = None
        self._task: asyncio.Task[None] | None = None

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("?", 0)
        self._ctx = RequestContext(self._broker, self._listener_name, str(peer[0]), int(peer[1]))
        self._task = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except KafkaProtocolError as exc:
            self._close(f"{exc}")
            return
        if frames:
            self._frames.extend(frames)
            self._wakeup.set()
            if len(self._frames) >= MAX_QUEUED_FRAMES and not self._reading_paused:
                self._reading_paused = True
                assert self._transport is not None
                self._transport.pause_reading()

    def eof_received(self) -> bool:
        if self._decoder.buffered:
            log.debug("Connection from %s closed mid-request", self._peer())
        return False  # close our side too; queued requests are dropped, as Kafka does

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._wakeup.set()
        self._can_write.set()
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # --- request loop -----------------------------------------------------------------------
    async def _serve(self) -> None:
        assert self._ctx is not None
        while not self._closed:
            if not self._frames:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            frame = self._frames.popleft()
            if self._reading_paused and len(self._frames) < MAX_QUEUED_FRAMES // 2:
                self._reading_paused = False
                assert self._transport is not None
                self._transport.resume_reading()
            try:
                outgoing = await process(self._ctx, frame)
            except KafkaProtocolError as exc:
                self._close(str(exc))
                return
            except Exception as exc:  # a bug costs this connection, never the broker
                log.exception("Unexpected error processing a request from %s", self._peer())
                self._close(repr(exc))
                return
            if outgoing is not None and not self._closed:
                await self._write(outgoing)

    async def _write(self, outgoing: Outgoing) -> None:
        transport = self._transport
        assert transport is not None
        for part in outgoing.parts:
            if self._closed:
                return
            if isinstance(part, FileRegion):
                loop = asyncio.get_running_loop()
                await loop.sendfile(transport, part.file, part.offset, part.count)
            else:
                transport.write(part)
        if not self._can_write.is_set():
            await self._can_write.wait()

    def _close(self, reason: str) -> None:
        if not self._closed:
            log.warning(
                "Closing socket connection to %s because of error: %s", self._peer(), reason
            )
        self._closed = True
        self._wakeup.set()
        if self._transport is not None:
            self._transport.abort()

    def _peer(self) -> str:
        ctx = self._ctx
        return f"/{ctx.client_host}:{ctx.client_port}" if ctx else "?"

    async def aclose(self) -> None:
        """Stop serving: close the socket and wait for the request task to finish."""
        self._closed = True
        self._wakeup.set()
        if self._transport is not None:
            self._transport.close()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
