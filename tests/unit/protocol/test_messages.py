from __future__ import annotations

import struct
from datetime import timedelta

import pytest
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic

from kcli.protocol.errors import ErrorCode, InvalidRequest
from kcli.protocol.messages import (
    build,
    decode_request_body,
    decode_request_header,
    encode_body,
    is_flexible,
    request_header_version,
    response_class,
    response_header_bytes,
    response_header_version,
)


def _header_v1(key: int, version: int, corr: int, client: bytes | None) -> bytes:
    head = struct.pack(">hhi", key, version, corr)
    if client is None:
        return head + struct.pack(">h", -1)
    return head + struct.pack(">h", len(client)) + client


def test_header_v1_for_non_flexible_versions() -> None:
    frame = _header_v1(3, 4, 77, b"kcat") + b"body"
    header = decode_request_header(frame)
    assert (header.api_key, header.api_version, header.correlation_id) == (3, 4, 77)
    assert header.client_id == "kcat"
    assert header.header_version == 1
    assert frame[header.size :] == b"body"


def test_header_v2_skips_tagged_fields_and_keeps_int16_client_id() -> None:
    # one tagged field: tag 5, 3 bytes
    frame = _header_v1(3, 12, 9, b"rdkafka") + b"\x01\x05\x03abc" + b"BODY"
    header = decode_request_header(frame)
    assert header.header_version == 2
    assert header.client_id == "rdkafka"
    assert frame[header.size :] == b"BODY"


def test_header_v2_with_null_client_id() -> None:
    header = decode_request_header(_header_v1(18, 3, 1, None) + b"\x00")
    assert header.client_id is None
    assert header.header_version == 2


def test_header_v0_only_for_controlled_shutdown_v0() -> None:
    frame = struct.pack(">hhi", 7, 0, 5) + struct.pack(">i", 1)
    header = decode_request_header(frame)
    assert (header.header_version, header.size, header.client_id) == (0, 8, None)


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x00\x03", _header_v1(3, 4, 1, b"abc")[:-1], _header_v1(3, 12, 1, b"a") + b"\x01\x05"],
)
def test_truncated_headers_raise(frame: bytes) -> None:
    with pytest.raises(InvalidRequest):
        decode_request_header(frame)


def test_flexible_versions_from_kio_and_the_inter_broker_table() -> None:
    assert not is_flexible(3, 8) and is_flexible(3, 9)
    assert not is_flexible(0, 0)  # below kio's Produce range
    assert is_flexible(18, 3) and is_flexible(18, 99)  # future ApiVersions
    assert request_header_version(4, 3) == 1 and request_header_version(4, 4) == 2
    assert request_header_version(1, 12) == 2


def test_body_round_trip_through_kio() -> None:
    request = MetadataRequest(
        topics=(MetadataRequestTopic(topic_id=None, name="orders"),),
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=False,
    )
    frame = _header_v1(3, 12, 4, b"c") + b"\x00" + encode_body(request)
    header = decode_request_header(frame)
    assert decode_request_body(header, frame) == request


def test_undecodable_body_raises_invalid_request() -> None:
    frame = _header_v1(3, 12, 4, b"c") + b"\x00" + b"\xff\xff\xff\xff\xff\xff"
    with pytest.raises(InvalidRequest, match="Error getting request for apiKey: 3"):
        decode_request_body(decode_request_header(frame), frame)


def test_response_headers() -> None:
    assert response_header_bytes(7, 0) == b"\x00\x00\x00\x07"
    assert response_header_bytes(7, 1) == b"\x00\x00\x00\x07\x00"
    api_versions = build(
        response_class(18, 3), error_code=ErrorCode.none, api_keys=(), throttle_time=timedelta(0)
    )
    assert response_header_version(api_versions) == 0  # ApiVersions: always v0
    metadata = build(response_class(3, 12), throttle_time=timedelta(0), brokers=(), topics=())
    assert response_header_version(metadata) == 1


def test_build_drops_fields_a_version_lacks() -> None:
    v0 = build(
        response_class(18, 0), error_code=ErrorCode.none, api_keys=(), throttle_time=timedelta(0)
    )
    assert encode_body(v0) == b"\x00\x00" + b"\x00\x00\x00\x00"
