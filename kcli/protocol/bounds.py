"""Length checks on a request body before kio's native reader sees it.

kio's Rust reader sizes an array's buffer from the array's length prefix before reading any
element, so a garbage prefix (a compact array claiming 2^32 items) makes it allocate tens of GB
and abort the whole process. Kafka's own parser refuses such input with an exception. This walk
follows the same schema (kio's dataclasses) and only reads lengths: every array, string and
bytes length must fit in the bytes left, or the request is refused as invalid and only that
connection is closed.

Wire rules (KIP-482): non-flexible strings have an int16 length, bytes/records and arrays an
int32 count (-1 = null); flexible versions use uvarint(length + 1) (0 = null) and end every
struct with a tagged-field section (uvarint count, then uvarint tag, uvarint size, bytes).
Nullable nested structs carry an int8 marker (KIP-893).
"""

from __future__ import annotations

import struct
from dataclasses import fields
from typing import Any

from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveTupleField,
    classify_field,
    get_field_tag,
    get_schema_field_type,
    is_optional,
)

from kcli.protocol.errors import InvalidRequest

FIXED_SIZES = {
    "bool": 1, "int8": 1, "int16": 2, "uint16": 2, "error_code": 2, "int32": 4,
    "timedelta_i32": 4, "int64": 8, "float64": 8, "datetime_i64": 8, "timedelta_i64": 8,
    "uuid": 16,
}  # fmt: skip
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")

# A plan step: (kind, detail). kinds: fixed, string, bytes, entity, nullable_entity,
# array_fixed, array_string, array_bytes, array_entity.
Step = tuple[str, Any]
_PLANS: dict[type[Any], tuple[bool, tuple[Step, ...]]] = {}


def _plan(cls: type[Any]) -> tuple[bool, tuple[Step, ...]]:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    steps: list[Step] = []
    for f in fields(cls):
        if get_field_tag(f) is not None:
            continue  # tagged fields live in the tagged section, skipped by size
        kind = classify_field(f)
        if isinstance(kind, EntityTupleField):
            steps.append(("array_entity", kind.type_))
        elif isinstance(kind, EntityField):
            steps.append(("nullable_entity" if is_optional(f) else "entity", kind.type_))
        elif isinstance(kind, PrimitiveTupleField):
            steps.append(_primitive("array_", get_schema_field_type(f)))
        else:
            steps.append(_primitive("", get_schema_field_type(f)))
    plan = _PLANS[cls] = (bool(cls.__flexible__), tuple(steps))
    return plan


def _primitive(prefix: str, kafka_type: str) -> Step:
    if kafka_type in FIXED_SIZES:
        return (prefix + "fixed", FIXED_SIZES[kafka_type])
    if kafka_type == "string":
        return (prefix + "string", None)
    if kafka_type in ("bytes", "records"):
        return (prefix + "bytes", None)
    raise InvalidRequest(f"no length rule for kafka type {kafka_type}")


def check_request_bounds(cls: type[Any], buf: bytes | memoryview, offset: int) -> None:
    """Raise InvalidRequest unless every length in the body fits inside `buf`."""
    _walk(cls, buf, offset, len(buf))


def _need(pos: int, size: int, end: int) -> int:
    if size < 0 or pos + size > end:
        raise InvalidRequest(f"length {size} at byte {pos} runs past the end ({end})")
    return pos + size


def _uvarint(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= end:
            raise InvalidRequest("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 28:
            raise InvalidRequest("varint longer than 5 bytes")


def _length(
    buf: bytes | memoryview, pos: int, end: int, flexible: bool, wide: bool
) -> tuple[int, int]:
    """A length or count prefix; -1 means null."""
    if flexible:
        raw, pos = _uvarint(buf, pos, end)
        return raw - 1, pos
    size = 4 if wide else 2
    _need(pos, size, end)
    value = (_I32 if wide else _I16).unpack_from(buf, pos)[0]
    if value < -1:
        raise InvalidRequest(f"negative length {value} at byte {pos}")
    return value, pos + size


def _walk(cls: type[Any], buf: bytes | memoryview, pos: int, end: int) -> int:
    flexible, steps = _plan(cls)
    for kind, detail in steps:
        if kind == "fixed":
            pos = _need(pos, detail, end)
        elif kind in ("string", "bytes"):
            size, pos = _length(buf, pos, end, flexible, wide=kind == "bytes")
            pos = _need(pos, max(size, 0), end)
        elif kind == "entity":
            pos = _walk(detail, buf, pos, end)
        elif kind == "nullable_entity":
            _need(pos, 1, end)
            marker = buf[pos]
            pos += 1
            if marker != 0xFF:  # -1 = null
                pos = _walk(detail, buf, pos, end)
        else:  # arrays
            count, pos = _length(buf, pos, end, flexible, wide=True)
            if count > end - pos:  # every element takes at least one byte
                raise InvalidRequest(f"array of {count} items in {end - pos} bytes")
            pos = _array((kind, detail), count, buf, pos, end, flexible=flexible)
    if flexible:
        count, pos = _uvarint(buf, pos, end)
        for _ in range(count):
            _tag, pos = _uvarint(buf, pos, end)
            size, pos = _uvarint(buf, pos, end)
            pos = _need(pos, size, end)
    return pos


def _array(
    step: Step, count: int, buf: bytes | memoryview, pos: int, end: int, *, flexible: bool
) -> int:
    kind, detail = step
    if kind == "array_fixed":
        return _need(pos, detail * max(count, 0), end)
    for _ in range(count):
        if kind == "array_entity":
            pos = _walk(detail, buf, pos, end)
        else:
            size, pos = _length(buf, pos, end, flexible, wide=kind == "array_bytes")
            pos = _need(pos, max(size, 0), end)
    return pos
