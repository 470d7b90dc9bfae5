"""From one request frame to the bytes of its response (Kafka's SocketServer + RequestChannel).

Decisions that close the connection instead of answering, as Kafka does (reliability.md §3):
an unknown API key, a version outside the handler's range (except ApiVersions, which gets the
v0 UNSUPPORTED_VERSION answer), and a header or body that does not parse. A handler that raises
is a broker bug: it is logged with its traceback and that connection is closed; the broker
carries on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kcli.broker.handlers.api_versions import unsupported_version_response
from kcli.broker.handlers.base import FileRegion, Handler, RawResponse, RequestContext
from kcli.protocol.api_keys import ApiKey, api_name
from kcli.protocol.errors import InvalidRequest, KafkaProtocolError
from kcli.protocol.frame import SIZE
from kcli.protocol.messages import (
    RequestHeader,
    decode_request_body,
    decode_request_header,
    encode_body,
    response_header_bytes,
    response_header_version,
)

log = logging.getLogger("kafka.network.Processor")
request_log = logging.getLogger("kafka.request.logger")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A framed response: bytes parts and file regions to write in order."""

    parts: tuple[bytes | memoryview | FileRegion, ...]


def frame_response(correlation_id: int, response: Any) -> Outgoing:
    if isinstance(response, RawResponse):
        head = response_header_bytes(correlation_id, response.header_version)
        size = len(head) + response.size
        parts = response.parts
        if parts and isinstance(parts[0], bytes):  # one write (one send) for head and body
            return Outgoing((SIZE.pack(size) + head + parts[0], *parts[1:]))
        return Outgoing((SIZE.pack(size) + head, *parts))
    head = response_header_bytes(correlation_id, response_header_version(response))
    body = encode_body(response)
    return Outgoing((SIZE.pack(len(head) + len(body)) + head + body,))


# APIs that may start while earlier requests of the same connection still wait (see the
# ordering rule in connection.py): their only state change, a Produce append, happens before
# their first await, and what they wait for afterwards (replication, new data) is pure waiting,
# so they may also be cancelled when the client goes away.
PIPELINED = frozenset({ApiKey.PRODUCE, ApiKey.FETCH, ApiKey.METADATA, ApiKey.API_VERSIONS})


class Prepared:
    """A decoded request ready to run, or (`ready`) its answer already known."""

    __slots__ = ("handler", "header", "pipelined", "ready", "request")

    def __init__(
        self,
        header: RequestHeader,
        handler: Handler | None,
        request: Any,
        ready: Outgoing | None = None,
    ) -> None:
        self.header = header
        self.handler = handler
        self.request = request
        self.ready = ready
        self.pipelined = _pipelined(header.api_key, request)


def _pipelined(api_key: int, request: Any) -> bool:
    # Metadata may create topics (auto-create): only the side-effect-free forms pipeline
    if api_key == ApiKey.METADATA:
        return not getattr(request, "topics", None) or not getattr(
            request, "allow_auto_topic_creation", True
        )
    return api_key in PIPELINED


def prepare(ctx: RequestContext, frame: bytes) -> Prepared:
    """Decode one request frame (synchronous). Raises KafkaProtocolError to close."""
    header = decode_request_header(frame)
    handlers = ctx.broker.handlers
    handler = handlers.get(header.api_key)
    if handler is None:
        raise InvalidRequest(f"Unknown API key {header.api_key}")
    if not handler.min_version <= header.api_version <= handler.max_version:
        if header.api_key == ApiKey.API_VERSIONS:
            ready = frame_response(header.correlation_id, unsupported_version_response(ctx))
            return Prepared(header, None, None, ready)
        raise InvalidRequest(
            f"Received request api key {api_name(header.api_key)} with version "
            f"{header.api_version} which is not enabled"
        )
    if handler.decode is not None:  # the handler reads its own body (Produce)
        request = handler.decode(header, frame)
    else:
        request = decode_request_body(header, frame)
    if request_log.isEnabledFor(logging.DEBUG):
        request_log.debug("Request %s from %s: %s", _describe(header), ctx.client_host, request)
    return Prepared(header, handler, request)


async def run(ctx: RequestContext, prepared: Prepared) -> Outgoing | None:
    """Answer a prepared request; None means send nothing. Raises KafkaProtocolError to close.
    Everything up to the handler's first await runs in the caller's step (no await before)."""
    header, handler = prepared.header, prepared.handler
    if handler is None:
        return prepared.ready
    try:
        response = await handler.handle(ctx, header, prepared.request)
    except KafkaProtocolError:
        raise
    except Exception as exc:
        log.exception("Error handling %s from %s", _describe(header), ctx.client_host)
        raise KafkaProtocolError(f"handler failed: {exc!r}") from exc
    if response is None:
        return None
    return frame_response(header.correlation_id, response)


async def process(ctx: RequestContext, frame: bytes) -> Outgoing | None:
    """Answer one request; None means send nothing. Raises KafkaProtocolError to close."""
    return await run(ctx, prepare(ctx, frame))


def _describe(header: RequestHeader) -> str:
    return (
        f"{api_name(header.api_key)} v{header.api_version} "
        f"(correlation id {header.correlation_id}, client id {header.client_id})"
    )
