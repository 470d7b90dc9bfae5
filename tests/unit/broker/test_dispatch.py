"""Request frame -> response bytes, and the cases where Kafka closes the connection."""

from __future__ import annotations

import asyncio
import struct

import pytest
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.metadata.v4.request import MetadataRequest

from kcli.broker.network.dispatch import Outgoing, process
from kcli.protocol.errors import InvalidRequest, KafkaProtocolError
from kcli.protocol.messages import encode_body
from tests.unit.broker.helpers import make_context, request_frame


def _process(frame: bytes) -> Outgoing | None:
    return asyncio.run(process(make_context(), frame))


def _bytes(out: Outgoing | None) -> bytes:
    assert out is not None
    return b"".join(bytes(p) for p in out.parts)  # type: ignore[arg-type]


def test_api_versions_v3_has_a_v0_response_header() -> None:
    body = encode_body(ApiVersionsRequest(client_software_name="a", client_software_version="1"))
    data = _bytes(_process(request_frame(18, 3, 42, body, flexible=True)))
    size, corr, error = struct.unpack_from(">iih", data)
    assert (size, corr, error) == (len(data) - 4, 42, 0)  # no tagged-field byte after corr


def test_metadata_v4_round_trip_is_framed() -> None:
    body = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
    data = _bytes(_process(request_frame(3, 4, 7, body, flexible=False)))
    assert struct.unpack_from(">ii", data) == (len(data) - 4, 7)


def test_too_new_api_versions_gets_v0_unsupported_version() -> None:
    data = _bytes(_process(request_frame(18, 9, 5, b"whatever", flexible=True)))
    size, corr, error, count = struct.unpack_from(">iihi", data)
    handlers = len(make_context().broker.handlers)  # the full list, whatever is registered
    assert (corr, error, count) == (5, 35, handlers)
    assert size == len(data) - 4 == 4 + 2 + 4 + handlers * 6


def test_unknown_api_key_closes() -> None:
    with pytest.raises(InvalidRequest, match="Unknown API key 999"):
        _process(request_frame(999, 0, 1, b"", flexible=False))


def test_unsupported_version_of_another_api_closes() -> None:
    with pytest.raises(InvalidRequest, match="Metadata with version 13 which is not enabled"):
        _process(request_frame(3, 13, 1, b"", flexible=True))


def test_undecodable_body_closes() -> None:
    with pytest.raises(InvalidRequest, match="Error getting request"):
        _process(request_frame(3, 12, 1, b"\xff\xff\xff\xff\xff\xff", flexible=True))


def test_handler_bug_closes_the_connection_only() -> None:
    ctx = make_context()

    async def broken(*_: object) -> None:
        raise RuntimeError("boom")

    handlers = dict(ctx.broker.handlers)
    handlers[3] = handlers[3].__class__(3, 0, 12, broken, "metadata")
    ctx.broker.handlers = handlers
    body = encode_body(MetadataRequest(topics=None, allow_auto_topic_creation=False))
    with pytest.raises(KafkaProtocolError, match="boom"):
        asyncio.run(process(ctx, request_frame(3, 4, 1, body, flexible=False)))
