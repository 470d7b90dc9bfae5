"""Produce request decoding and response encoding by hand (the produce hot path).

kio lacks Produce v0-2 and its pure-Python encoder costs ~15-30 us per response; this module
reads a Produce request in one pass (every length checked against the bytes left, so a garbage
count is refused as InvalidRequest instead of reaching a native reader) and hands the records
back as memoryviews into the frame, never copied or decoded.

Produce request (ProduceRequest.json); non-flexible strings have an int16 length, arrays and
bytes an int32 count (-1 = null); flexible versions (v9+) use uvarint(n + 1) and end each
struct with a tagged-field section:

    transactional_id  nullable string      v3+
    acks              int16
    timeout_ms        int32
    topic_data        [name string, partition_data [index int32, records nullable bytes]]

Produce response (ProduceResponse.json):

    responses         [name string, partition_responses [
                          index int32, error_code int16, base_offset int64,
                          log_append_time_ms int64 (v2+), log_start_offset int64 (v5+),
                          record_errors [batch_index int32, message nullable string] (v8+),
                          error_message nullable string (v8+)]]
    throttle_time_ms  int32 (v1+)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

from kcli.protocol.errors import InvalidRequest

FLEXIBLE_FROM = 9

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_HEAD = struct.Struct(">hi")  # acks, timeout_ms
_PART_V0 = struct.Struct(">ihq")  # index, error_code, base_offset
_PART_V2 = struct.Struct(">ihqq")  # + log_append_time_ms
_PART_V5 = struct.Struct(">ihqqq")  # + log_start_offset


@dataclass(slots=True)
class ProducePartitionData:
    index: int
    records: memoryview | None


@dataclass(slots=True)
class ProduceRequestData:
    transactional_id: str | None
    acks: int
    timeout_ms: int
    topics: list[tuple[str, list[ProducePartitionData]]]


@dataclass(slots=True)
class ProducePartitionResult:
    index: int
    error_code: int = 0
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = -1
    error_message: str | None = None
    record_errors: tuple[tuple[int, str | None], ...] = ()


class _Reader:
    """Bounds-checked cursor over one request body."""

    __slots__ = ("buf", "end", "flexible", "pos")

    def __init__(self, buf: memoryview, pos: int, flexible: bool) -> None:
        self.buf = buf
        self.pos = pos
        self.end = len(buf)
        self.flexible = flexible

    def need(self, n: int) -> int:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise InvalidRequest(f"length {n} at byte {pos} runs past the end ({self.end})")
        self.pos = pos + n
        return pos

    def uvarint(self) -> int:
        buf, pos, end = self.buf, self.pos, self.end
        if pos < end and buf[pos] < 0x80:  # one byte: nearly every length and tag count
            self.pos = pos + 1
            return buf[pos]
        value = shift = 0
        while True:
            if pos >= end:
                raise InvalidRequest("truncated varint")
            byte = buf[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                self.pos = pos
                return value
            shift += 7
            if shift > 28:
                raise InvalidRequest("varint longer than 5 bytes")

    def length(self, wide: bool) -> int:
        """A string/bytes length or array count; -1 = null."""
        if self.flexible:
            return self.uvarint() - 1
        if wide:
            (value,) = _I32.unpack_from(self.buf, self.need(4))
        else:
            (value,) = _I16.unpack_from(self.buf, self.need(2))
        if value < -1:
            raise InvalidRequest(f"negative length {value}")
        return int(value)

    def string(self) -> str | None:
        n = self.length(wide=False)
        if n < 0:
            return None
        start = self.need(n)
        try:
            return bytes(self.buf[start : start + n]).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("string is not UTF-8") from None

    def count(self) -> int:
        n = self.length(wide=True)
        if n > self.end - self.pos:  # every element takes at least one byte
            raise InvalidRequest(f"array of {n} items in {self.end - self.pos} bytes")
        return max(n, 0)

    def skip_tags(self) -> None:
        if self.flexible:
            pos = self.pos
            if pos < self.end and self.buf[pos] == 0:  # no tagged fields: the usual case
                self.pos = pos + 1
                return
            for _ in range(self.uvarint()):
                self.uvarint()
                self.need(self.uvarint())


def decode_produce_request(frame: bytes | memoryview, pos: int, version: int) -> ProduceRequestData:
    """Read a Produce request body starting at `pos`. Raises InvalidRequest."""
    r = _Reader(memoryview(frame), pos, version >= FLEXIBLE_FROM)
    txn_id = r.string() if version >= 3 else None
    acks, timeout_ms = _HEAD.unpack_from(r.buf, r.need(6))
    topics: list[tuple[str, list[ProducePartitionData]]] = []
    for _ in range(r.count()):
        name = r.string()
        if name is None:
            raise InvalidRequest("null topic name")
        parts: list[ProducePartitionData] = []
        for _ in range(r.count()):
            (index,) = _I32.unpack_from(r.buf, r.need(4))
            n = r.length(wide=True)
            records = None
            if n >= 0:
                start = r.need(n)
                records = r.buf[start : start + n]
            r.skip_tags()
            parts.append(ProducePartitionData(index, records))
        r.skip_tags()
        topics.append((name, parts))
    r.skip_tags()
    return ProduceRequestData(txn_id, acks, timeout_ms, topics)


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@lru_cache(maxsize=4096)
def _name(text: str, flexible: bool) -> bytes:
    return _string(text, flexible)


def _string(text: str | None, flexible: bool) -> bytes:
    if text is None:
        return b"\x00" if flexible else b"\xff\xff"
    raw = text.encode()
    return (_uvarint(len(raw) + 1) if flexible else _I16.pack(len(raw))) + raw


def _count(n: int, flexible: bool) -> bytes:
    return _uvarint(n + 1) if flexible else _I32.pack(n)


def encode_produce_response(
    version: int, topics: list[tuple[str, list[ProducePartitionResult]]], throttle_time_ms: int = 0
) -> bytes:
    """The response body (no header) for `version`; fields the version lacks are left out."""
    flexible = version >= FLEXIBLE_FROM
    out = [_count(len(topics), flexible)]
    for name, parts in topics:
        out.append(_name(name, flexible))
        out.append(_count(len(parts), flexible))
        for p in parts:
            if version >= 5:
                out.append(
                    _PART_V5.pack(
                        p.index, p.error_code, p.base_offset, p.log_append_time_ms,
                        p.log_start_offset,
                    )
                )  # fmt: skip
            elif version >= 2:
                out.append(
                    _PART_V2.pack(p.index, p.error_code, p.base_offset, p.log_append_time_ms)
                )
            else:
                out.append(_PART_V0.pack(p.index, p.error_code, p.base_offset))
            if version >= 8:
                out.append(_count(len(p.record_errors), flexible))
                for batch_index, message in p.record_errors:
                    out.append(_I32.pack(batch_index))
                    out.append(_string(message, flexible))
                    if flexible:
                        out.append(b"\x00")
                out.append(_string(p.error_message, flexible))
            if flexible:
                out.append(b"\x00")
        if flexible:
            out.append(b"\x00")
    if version >= 1:
        out.append(_I32.pack(throttle_time_ms))
    if flexible:
        out.append(b"\x00")
    return b"".join(out)
