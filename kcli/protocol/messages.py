"""kio glue: request headers, request bodies and response encoding per (api_key, version).

Request header (Kafka's RequestHeader.json; big-endian):

    v0  api_key int16, api_version int16, correlation_id int32     (ControlledShutdown v0 only)
    v1  v0 + client_id nullable string (int16 length, -1 = null)
    v2  v1 + tagged fields (uvarint count, then uvarint tag, uvarint size, bytes per field)

client_id keeps its int16 length even in v2. The header is decoded by hand (it is tiny and runs
per request); bodies are decoded by kio's native readers. Response header: v0 = correlation_id
int32; v1 = v0 + tagged fields (one 0x00 byte). Flexible APIs use v1, except ApiVersions,
whose response header is always v0 (kio's classes carry that rule in `__header_schema__`).
"""

from __future__ import annotations

import io
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from kio.index import UnknownAPIKey, UnknownEntity, load_request_schema, load_response_schema
from kio.schema.index import api_key_map, schema_name_map
from kio.serial import entity_reader, entity_writer
from kio.serial.errors import SerialError

from kcli.protocol.api_keys import FLEXIBLE_FROM_WITHOUT_KIO, ApiKey
from kcli.protocol.bounds import check_request_bounds
from kcli.protocol.errors import InvalidRequest

_FIXED = struct.Struct(">hhi")
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


@dataclass(frozen=True, slots=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None
    header_version: int
    size: int  # bytes the header takes; the body starts here


def kio_versions(api_key: int) -> tuple[int, ...]:
    """Versions kio can decode and encode for an API (empty when kio lacks the API)."""
    name = api_key_map.get(api_key)
    return tuple(sorted(schema_name_map[name])) if name is not None else ()


@cache
def is_flexible(api_key: int, api_version: int) -> bool:
    """Whether this version uses KIP-482 compact encodings and tagged fields."""
    if api_key in FLEXIBLE_FROM_WITHOUT_KIO:
        return api_version >= FLEXIBLE_FROM_WITHOUT_KIO[api_key]
    versions = kio_versions(api_key)
    if not versions or api_version < versions[0]:
        return False  # versions older than kio's range all predate flexible encodings
    cls = load_request_schema(api_key, min(api_version, versions[-1]))
    return bool(cls.__flexible__)


def request_header_version(api_key: int, api_version: int) -> int:
    if api_key == ApiKey.CONTROLLED_SHUTDOWN and api_version == 0:
        return 0
    return 2 if is_flexible(api_key, api_version) else 1


def read_uvarint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Unsigned varint (protobuf style) at `pos`; returns (value, new position)."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise InvalidRequest("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 28:
            raise InvalidRequest("varint longer than 5 bytes")


def decode_request_header(frame: bytes | memoryview) -> RequestHeader:
    """Parse the header at the start of a request frame. Raises InvalidRequest."""
    if len(frame) < 8:
        raise InvalidRequest(f"request of {len(frame)} bytes is shorter than a header")
    api_key, api_version, correlation_id = _FIXED.unpack_from(frame, 0)
    header_version = request_header_version(api_key, api_version)
    pos = 8
    client_id: str | None = None
    if header_version >= 1:
        if len(frame) < 10:
            raise InvalidRequest("truncated client_id")
        (length,) = _INT16.unpack_from(frame, 8)
        pos = 10
        if length >= 0:
            if pos + length > len(frame):
                raise InvalidRequest("truncated client_id")
            try:
                client_id = bytes(frame[pos : pos + length]).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidRequest("client_id is not UTF-8") from None
            pos += length
    if header_version >= 2:
        count, pos = read_uvarint(frame, pos)
        for _ in range(count):
            _tag, pos = read_uvarint(frame, pos)
            size, pos = read_uvarint(frame, pos)
            pos += size
        if pos > len(frame):
            raise InvalidRequest("truncated header tagged fields")
    return RequestHeader(api_key, api_version, correlation_id, client_id, header_version, pos)


@cache
def request_class(api_key: int, api_version: int) -> type[Any] | None:
    """kio's request class, or None when kio has no such (key, version)."""
    try:
        return load_request_schema(api_key, api_version)
    except (UnknownAPIKey, UnknownEntity):
        return None


@cache
def response_class(api_key: int, api_version: int) -> type[Any]:
    return load_response_schema(api_key, api_version)


_READERS: dict[type[Any], Callable[[Any, int], tuple[Any, int]]] = {}
_WRITERS: dict[type[Any], Callable[[Any, Any], None]] = {}
_FIELDS: dict[type[Any], frozenset[str]] = {}


def _reader(cls: type[Any]) -> Callable[[Any, int], tuple[Any, int]]:
    reader = _READERS.get(cls)
    if reader is None:
        reader = _READERS[cls] = entity_reader(cls)
    return reader


def _writer(cls: type[Any]) -> Callable[[Any, Any], None]:
    writer = _WRITERS.get(cls)
    if writer is None:
        writer = _WRITERS[cls] = entity_writer(cls)
    return writer


def decode_request_body(header: RequestHeader, frame: bytes | memoryview) -> Any:
    """The request body as kio's dataclass. Raises InvalidRequest if it does not parse."""
    cls = request_class(header.api_key, header.api_version)
    if cls is None:
        raise InvalidRequest(f"no schema for api key {header.api_key} version {header.api_version}")
    try:
        check_request_bounds(cls, frame, header.size)  # kio's native reader trusts array counts
        body, _ = _reader(cls)(frame, header.size)
    except (
        InvalidRequest,
        SerialError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        OverflowError,
    ) as exc:
        # KeyError: kio refuses tagged fields it does not know (Kafka would skip them).
        raise InvalidRequest(
            f"Error getting request for apiKey: {header.api_key}, "
            f"apiVersion: {header.api_version}: {exc}"
        ) from None
    return body


def response_header_bytes(correlation_id: int, header_version: int) -> bytes:
    """Response header v0 (correlation_id) or v1 (plus an empty tagged-field section)."""
    head = _INT32.pack(correlation_id)
    return head + b"\x00" if header_version >= 1 else head


def response_header_version(response: Any) -> int:
    return int(type(response).__header_schema__.__version__)


def encode_body(entity: Any) -> bytes:
    """Encode a kio entity (no header, no size prefix)."""
    buf = io.BytesIO()
    _writer(type(entity))(buf, entity)
    return buf.getvalue()


def _field_names(cls: type[Any]) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = frozenset(f.name for f in fields(cls))
    return names


def build(cls: type[Any], **values: Any) -> Any:
    """Instantiate a kio class from the union of fields across versions.

    Handlers pass every field any version has; fields this version lacks are dropped, so one
    handler serves a whole version range.
    """
    names = _field_names(cls)
    return cls(**{k: v for k, v in values.items() if k in names})


def nested(response_cls: type[Any], name: str) -> type[Any]:
    """A nested class from the same generated module (e.g. `MetadataResponseBroker`)."""
    module = sys.modules[response_cls.__module__]
    found: type[Any] = getattr(module, name)
    return found
