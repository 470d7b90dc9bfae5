"""One client connection: frames in, responses out, strictly in request order, pipelined.

Kafka mutes a channel while one request is in flight. With acks=all a Produce waits a follower
fetch round trip (over a millisecond here), so a client sending 1,000 requests/s on one
connection would queue behind that wait. kcli keeps reading and starts later requests while
earlier ones wait, under this ordering rule:

* Requests start in arrival order, at most `max_in_flight` started and not yet answered; past
  that, frames queue, and reading pauses once MAX_QUEUED_FRAMES are queued (back-pressure
  through TCP). A pipelined request's first step runs when it starts (eager.py); a task
  carries on only if it has to wait.
* Pipelined APIs (dispatch.PIPELINED: Produce, Fetch, ApiVersions, Metadata without topic
  auto-creation) may start while earlier pipelined requests wait. Their state changes happen
  before their first await (a Produce's appends, idempotent sequence checks included), and
  that first step runs as the request starts, in arrival order, so appends to a partition
  happen in request order; what they wait for afterwards (the high watermark, new data) is
  pure waiting. (An acks=0 Produce after a failed one may be appended before the close.)
* Every other request (group, offsets, admin, transactions, inter-broker) is sequential: it
  starts only when nothing is in flight, and nothing starts until it is answered - exactly
  Kafka's muting, so a group member's requests keep their semantics.
* Responses leave strictly in request order (clients match correlation ids against the head of
  their queue); a finished later request waits for the earlier ones. acks=0 sends nothing.
* A frame that does not decode (or an acks=0 Produce that failed) stops the starting; what came
  before is still answered, then the connection closes, as it would have sequentially.
* When the peer goes away, pipelined requests still waiting are cancelled (nothing is lost:
  their appends are done); a sequential one runs to its end, its answer dropped, as Kafka lets
  a request of a closed channel finish. Broker shutdown cancels and awaits everything.

Writes honour transport flow control, and file regions go out with `loop.sendfile`
(zero-copy where the OS allows).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from kcli.broker.handlers.base import BrokerContext, FileRegion, RequestContext
from kcli.broker.network.dispatch import Outgoing, Prepared, prepare, run
from kcli.broker.network.eager import Started, start
from kcli.protocol.errors import KafkaProtocolError
from kcli.protocol.frame import FrameDecoder

log = logging.getLogger("kafka.network.Processor")

# librdkafka's max.in.flight defaults to 5 (1,000,000 without idempotence); a little more
# keeps a pipelining client's requests flowing while a few wait for replication
MAX_IN_FLIGHT = 16
# frames read ahead (decoded, not started) before reading pauses; pausing and resuming cost
# system calls, so not at every request of a client that pipelines without limit
MAX_QUEUED_FRAMES = 64

Task = asyncio.Task[Outgoing | None]


class _InFlight:
    __slots__ = ("pipelined", "started")

    def __init__(self, started: Started[Outgoing | None], pipelined: bool) -> None:
        self.started = started  # finished at once, or the task finishing it
        self.pipelined = pipelined


class KafkaConnection(asyncio.Protocol):
    def __init__(
        self,
        broker: BrokerContext,
        listener_name: str,
        max_request_size: int,
        on_close: Callable[[KafkaConnection], None] | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._on_close = on_close
        self._broker = broker
        self._listener_name = listener_name
        self._max_in_flight = max(1, max_in_flight)
        self._decoder = FrameDecoder(max_request_size)
        self._frames: collections.deque[bytes] = collections.deque()  # received, not started
        self._next: Prepared | None = None  # decoded head of _frames, waiting for its turn
        self._in_flight: collections.deque[_InFlight] = collections.deque()  # request order
        self._stop_reason: str | None = None  # close once what came before is answered
        self._wakeup = asyncio.Event()  # for the writer: the head finished, or closing
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._closed = False
        self._reading_paused = False
        self._transport: asyncio.Transport | None = None
        self._ctx: RequestContext | None = None
        self._task: asyncio.Task[None] | None = None  # the writer
        # answers written by _write_now, sent together once this loop turn's callbacks ran
        # (a chunk of pipelined requests gets one send, not one per answer)
        self._unsent: list[bytes | memoryview] = []

    @property
    def in_flight(self) -> int:
        """Requests started and not yet answered."""
        return len(self._in_flight)

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("?", 0)
        self._ctx = RequestContext(self._broker, self._listener_name, str(peer[0]), int(peer[1]))
        self._task = asyncio.get_running_loop().create_task(self._write_loop())

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except KafkaProtocolError as exc:
            self._close(f"{exc}")
            return
        if frames and self._stop_reason is None:
            self._frames.extend(frames)
            self._start_ready()
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
        self._frames.clear()
        self._next = None
        for entry in self._in_flight:
            task = entry.started.task
            if entry.pipelined and task is not None:  # pure waiting; sequential ones finish
                task.cancel()
        self._wakeup.set()
        self._can_write.set()
        if self._on_close is not None:
            self._on_close(self)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    # --- starting requests --------------------------------------------------------------------
    def _start_ready(self) -> None:
        """Start every queued request the ordering rule allows now (synchronous)."""
        ctx = self._ctx
        assert ctx is not None
        in_flight = self._in_flight
        while not self._closed and self._stop_reason is None:
            nxt = self._next
            if nxt is None:
                if not self._frames:
                    break
                try:
                    nxt = self._next = prepare(ctx, self._frames.popleft())
                except KafkaProtocolError as exc:
                    self._stop(str(exc))
                    break
                except Exception as exc:  # a decoder bug costs this connection only
                    log.exception("Unexpected error decoding a request from %s", self._peer())
                    self._stop(repr(exc))
                    break
            if in_flight and (
                len(in_flight) >= self._max_in_flight
                or not nxt.pipelined
                or not in_flight[-1].pipelined
            ):
                break
            self._next = None
            if nxt.pipelined:  # its first step, appends included, runs here and now
                started = start(run(ctx, nxt))
            else:  # in a task of its own (it may use asyncio.timeout, current_task...)
                started = Started(asyncio.get_running_loop().create_task(run(ctx, nxt)))
            if started.task is not None:
                started.task.add_done_callback(self._on_done)
            elif not in_flight:
                if started.error is None and self._write_now(started.result):
                    continue  # answered here: no turn of the writer per request
                self._wakeup.set()  # the writer may answer it now
            in_flight.append(_InFlight(started, nxt.pipelined))
        if self._reading_paused and len(self._frames) < MAX_QUEUED_FRAMES // 2 and not self._closed:
            self._reading_paused = False
            assert self._transport is not None
            self._transport.resume_reading()

    def _on_done(self, task: Task) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here; the writer re-raises it in order
        if self._closed or (self._in_flight and self._in_flight[0].started.task is task):
            self._wakeup.set()

    def _stop(self, reason: str) -> None:
        """Start nothing more; close once the requests already started are answered."""
        self._stop_reason = reason
        self._frames.clear()
        self._next = None
        self._wakeup.set()

    # --- writing responses, in request order --------------------------------------------------
    async def _write_loop(self) -> None:
        in_flight = self._in_flight
        while not self._closed:
            if not in_flight or not in_flight[0].started.done():
                if not in_flight and self._stop_reason is not None:
                    self._close(self._stop_reason)
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                outgoing = in_flight[0].started.outcome()
            except asyncio.CancelledError:
                return  # only when closing
            except KafkaProtocolError as exc:
                self._close(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - run() converts handler errors: a bug here
                log.error("Unexpected error answering %s: %r", self._peer(), exc)
                self._close(repr(exc))
                return
            if outgoing is not None:
                try:
                    await self._write(outgoing)
                except (ConnectionError, RuntimeError) as exc:  # the peer went away mid-write
                    if not self._closed:
                        self._close(repr(exc))
                    return
            in_flight.popleft()
            self._start_ready()

    def _write_now(self, outgoing: Outgoing | None) -> bool:
        """Write an answer that nothing precedes, if it is all bytes and the transport takes
        more (else the writer does it); True when done."""
        if outgoing is None:
            return True
        if not self._can_write.is_set():
            return False
        parts = outgoing.parts
        if any(isinstance(part, FileRegion) for part in parts):
            return False
        if not self._unsent:
            asyncio.get_running_loop().call_soon(self._flush)
        self._unsent.extend(parts)  # type: ignore[arg-type]  # bytes or memoryview here
        return True

    def _flush(self) -> None:
        unsent = self._unsent
        if not unsent or self._closed:
            unsent.clear()
            return
        assert self._transport is not None
        self._transport.write(unsent[0] if len(unsent) == 1 else b"".join(unsent))
        unsent.clear()

    async def _write(self, outgoing: Outgoing) -> None:
        transport = self._transport
        assert transport is not None
        self._flush()  # what _write_now took comes first
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
            self._flush()  # answers to what came before go first
            log.warning(
                "Closing socket connection to %s because of error: %s", self._peer(), reason
            )
        self._closed = True
        self._wakeup.set()
        if self._transport is not None:
            self._transport.abort()  # connection_lost follows and cancels what still waits

    def _peer(self) -> str:
        ctx = self._ctx
        return f"/{ctx.client_host}:{ctx.client_port}" if ctx else "?"

    async def aclose(self) -> None:
        """Stop serving: close the socket, cancel every request and wait for the tasks."""
        self._closed = True
        self._wakeup.set()
        if self._transport is not None:
            self._transport.close()
        tasks: list[asyncio.Task[Any]] = [
            e.started.task for e in self._in_flight if e.started.task is not None
        ]
        if self._task is not None and self._task is not asyncio.current_task():
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
