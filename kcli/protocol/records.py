"""Records inside a v2 record batch: decode, encode, build whole batches, control records.

Record layout (Kafka's DefaultRecord). Lengths and deltas are zigzag varints (varlong for the
timestamp delta): 1-5 bytes (1-10 for varlong), 7 bits per byte, low group first, high bit set
on every byte but the last; zigzag maps 0,-1,1,-2,... to 0,1,2,3,...

    field              type      note
    length             varint    bytes of the record after this field
    attributes         int8      unused, 0
    timestampDelta     varlong   timestamp - batch baseTimestamp
    offsetDelta        varint    offset - batch baseOffset
    keyLength          varint    -1 = null key
    key                bytes
    valueLength        varint    -1 = null value (a tombstone on compacted topics)
    value              bytes
    headerCount        varint
      headerKeyLength  varint    header key is a non-null UTF-8 string
      headerKey        bytes
      headerValueLen   varint    -1 = null
      headerValue      bytes

In a LogAppendTime batch every record's timestamp reads as the batch's maxTimestamp. When bit 6
of the batch attributes is set, baseTimestamp holds deleteHorizonMs and the deltas are taken from
it (they may be negative).

Control records (isControl batches; transaction markers written by the coordinator):

    key    version int16 (0), type int16 (0 = ABORT, 1 = COMMIT, 2.. KRaft types)
    value  for ABORT/COMMIT: EndTransactionMarker version int16 (0), coordinatorEpoch int32
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    BatchHeader,
    Compression,
    CorruptBatchError,
    TimestampType,
)
from kcli.protocol.compression import CompressionError, compress, decompress

Header = tuple[str, bytes | None]
NO_TIMESTAMP = -1
NO_SEQUENCE = -1

_HEADER = struct.Struct(">qiibIhiqqqhii")
_INT16_PAIR = struct.Struct(">hh")
_END_TXN_VALUE = struct.Struct(">hi")


class CorruptRecordError(CorruptBatchError):
    """The records inside a batch are malformed (bad varint, lengths, count or compression)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record. `offset` -1 lets the builder assign base_offset + index."""

    key: bytes | None
    value: bytes | None
    timestamp: int = NO_TIMESTAMP
    headers: tuple[Header, ...] = ()
    offset: int = -1
    sequence: int = NO_SEQUENCE
    size: int = 0  # encoded bytes including the length varint (0 for records not yet encoded)

    @property
    def key_size(self) -> int:
        return -1 if self.key is None else len(self.key)

    @property
    def value_size(self) -> int:
        return -1 if self.value is None else len(self.value)

    @property
    def is_tombstone(self) -> bool:
        return self.value is None


# -- varints --------------------------------------------------------------------------------


def zigzag(value: int) -> int:
    return (value << 1) if value >= 0 else ((-value) << 1) - 1


def unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def write_varint(out: bytearray, value: int) -> None:
    """Append `value` as a zigzag varint (or varlong: Python ints do both)."""
    v = (value << 1) if value >= 0 else ((-value) << 1) - 1
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def read_varint(
    buf: bytes | bytearray | memoryview, pos: int, max_bytes: int = 10
) -> tuple[int, int]:
    """Decode a zigzag varint at `pos`; returns (value, next position)."""
    result = 0
    shift = 0
    end = len(buf)
    for _ in range(max_bytes):
        if pos >= end:
            raise CorruptRecordError("varint runs past the end of the records")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
    raise CorruptRecordError(f"varint longer than {max_bytes} bytes")


def varint_size(value: int) -> int:
    v = (value << 1) if value >= 0 else ((-value) << 1) - 1
    size = 1
    while v >= 0x80:
        v >>= 7
        size += 1
    return size


# -- record encode/decode -------------------------------------------------------------------


def encode_record(
    out: bytearray,
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    *,
    headers: Sequence[Header] = (),
) -> None:
    """Append one record (length prefix included) to `out`."""
    body = bytearray(b"\x00")  # attributes
    write_varint(body, timestamp_delta)
    write_varint(body, offset_delta)
    for field in (key, value):
        if field is None:
            body.append(0x01)  # zigzag(-1)
        else:
            write_varint(body, len(field))
            body += field
    write_varint(body, len(headers))
    for hkey, hvalue in headers:
        raw_key = hkey.encode()
        write_varint(body, len(raw_key))
        body += raw_key
        if hvalue is None:
            body.append(0x01)
        else:
            write_varint(body, len(hvalue))
            body += hvalue
    write_varint(out, len(body))
    out += body


def _read_bytes(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    length, pos = read_varint(buf, pos, 5)
    if length < 0:
        if length != -1:
            raise CorruptRecordError(f"invalid length {length}")
        return None, pos
    end = pos + length
    if end > len(buf):
        raise CorruptRecordError("field runs past the end of the records")
    return buf[pos:end], end


def decode_records(data: bytes, header: BatchHeader) -> list[Record]:
    """Decode the (already decompressed) records section of a batch."""
    out: list[Record] = []
    pos = 0
    log_append = header.timestamp_type == TimestampType.LOG_APPEND_TIME
    for _ in range(header.records_count):
        start = pos
        length, pos = read_varint(data, pos, 5)
        body_start = pos
        if length < 0 or pos + length > len(data):
            raise CorruptRecordError(f"record length {length} runs past the end of the records")
        pos += 1  # attributes
        ts_delta, pos = read_varint(data, pos, 10)
        offset_delta, pos = read_varint(data, pos, 5)
        key, pos = _read_bytes(data, pos)
        value, pos = _read_bytes(data, pos)
        count, pos = read_varint(data, pos, 5)
        if count < 0:
            raise CorruptRecordError(f"invalid header count {count}")
        headers: list[Header] = []
        for _h in range(count):
            hkey, pos = _read_bytes(data, pos)
            if hkey is None:
                raise CorruptRecordError("null header key")
            hvalue, pos = _read_bytes(data, pos)
            try:
                headers.append((hkey.decode(), hvalue))
            except UnicodeDecodeError as exc:
                raise CorruptRecordError(f"header key is not UTF-8: {exc}") from None
        if pos - body_start != length:
            raise CorruptRecordError(
                f"record claims {length} bytes but its fields take {pos - body_start}"
            )
        seq = NO_SEQUENCE
        if header.base_sequence >= 0:
            seq = (header.base_sequence + offset_delta) & 0x7FFFFFFF
        out.append(
            Record(
                key=key,
                value=value,
                timestamp=header.max_timestamp if log_append else header.base_timestamp + ts_delta,
                headers=tuple(headers),
                offset=header.base_offset + offset_delta,
                sequence=seq,
                size=pos - start,
            )
        )
    if pos != len(data):
        raise CorruptRecordError(
            f"{len(data) - pos} bytes left after {header.records_count} records"
        )
    return out


def records_section(
    buf: bytes | bytearray | memoryview, header: BatchHeader, pos: int = 0
) -> bytes:
    """The decompressed records bytes of the batch at `pos`."""
    raw = memoryview(buf)[pos + HEADER_SIZE : pos + header.size]
    if header.records_count == 0 and not raw:
        return b""  # an empty batch (kept for producer state) has no records to decompress
    try:
        return decompress(header.compression, raw)
    except CompressionError as exc:
        raise CorruptRecordError(str(exc)) from None


def read_batch(
    buf: bytes | bytearray | memoryview, pos: int = 0, verify: bool = True
) -> tuple[BatchHeader, list[Record]]:
    """Parse the header and decode every record of the batch at `pos`."""
    header = batchmod.parse_header(buf, pos)
    if len(buf) - pos < header.size:
        raise CorruptBatchError(f"batch needs {header.size} bytes, {len(buf) - pos} left")
    if verify and not batchmod.verify_crc(buf, header, pos):
        raise CorruptBatchError(f"CRC mismatch in batch at offset {header.base_offset}")
    return header, decode_records(records_section(buf, header, pos), header)


def iter_records(buf: bytes | bytearray | memoryview, verify: bool = True) -> Iterator[Record]:
    """Every record of every batch in a buffer of concatenated batches, decompressing as needed."""
    for pos, header in batchmod.iter_headers(buf, validate=verify):
        yield from decode_records(records_section(buf, header, pos), header)


# -- building batches -----------------------------------------------------------------------


def build_batch(
    records: Iterable[Record],
    base_offset: int = 0,
    *,
    compression: Compression = Compression.NONE,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = NO_SEQUENCE,
    is_transactional: bool = False,
    is_control: bool = False,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    partition_leader_epoch: int = -1,
    delete_horizon_ms: int | None = None,
    last_offset_delta: int | None = None,
    max_timestamp: int | None = None,
) -> bytes:
    """Encode a complete v2 batch with a correct CRC-32C.

    A record's own offset (>= 0) is kept (deltas from `base_offset`); offset -1 means
    base_offset + its index. `last_offset_delta` keeps a filtered batch's original last offset
    (so the producer's last sequence stays right); `max_timestamp` overrides the computed one
    (LogAppendTime batches, empty batches). `delete_horizon_ms` sets attribute bit 6 and stores
    the horizon as baseTimestamp.
    """
    items = list(records)
    body = bytearray()
    first_ts: int | None = None
    max_ts = NO_TIMESTAMP
    last_delta = -1
    for rec in items:
        if first_ts is None:
            first_ts = rec.timestamp
        max_ts = max(max_ts, rec.timestamp)
    base_ts = delete_horizon_ms if delete_horizon_ms is not None else first_ts
    if base_ts is None:
        base_ts = max_timestamp if max_timestamp is not None else NO_TIMESTAMP
    for index, rec in enumerate(items):
        delta = (rec.offset - base_offset) if rec.offset >= 0 else index
        if delta < 0 or delta <= last_delta:
            raise ValueError(f"record offsets must increase from the base offset {base_offset}")
        last_delta = delta
        encode_record(body, delta, rec.timestamp - base_ts, rec.key, rec.value, headers=rec.headers)
    if last_offset_delta is not None:
        if last_offset_delta < last_delta:
            raise ValueError("last_offset_delta is before the last record")
        last_delta = last_offset_delta
    if last_delta < 0:
        raise ValueError("an empty batch needs last_offset_delta")
    if max_timestamp is not None:
        max_ts = max_timestamp
    if not items:
        compression = Compression.NONE  # Kafka writes empty batches uncompressed
    payload = compress(compression, bytes(body)) if items else b""
    attributes = int(compression) & batchmod.COMPRESSION_MASK
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        attributes |= batchmod.TIMESTAMP_TYPE_BIT
    if is_transactional:
        attributes |= batchmod.TRANSACTIONAL_BIT
    if is_control:
        attributes |= batchmod.CONTROL_BIT
    if delete_horizon_ms is not None:
        attributes |= batchmod.DELETE_HORIZON_BIT
    out = bytearray(HEADER_SIZE + len(payload))
    _HEADER.pack_into(
        out,
        0,
        base_offset,
        len(out) - LOG_OVERHEAD,
        partition_leader_epoch,
        MAGIC_V2,
        0,  # crc, filled below
        attributes,
        last_delta,
        base_ts,
        max_ts,
        producer_id,
        producer_epoch,
        base_sequence,
        len(items),
    )
    out[HEADER_SIZE:] = payload
    batchmod.rewrite_crc(out, 0)
    return bytes(out)


class BatchBuilder:
    """Accumulate records, then `build()` one batch (same options as `build_batch`)."""

    def __init__(self, base_offset: int = 0, **options: object) -> None:
        self.base_offset = base_offset
        self.options = options
        self.records: list[Record] = []

    def append(
        self,
        key: bytes | None,
        value: bytes | None,
        timestamp: int = NO_TIMESTAMP,
        headers: Sequence[Header] = (),
        offset: int = -1,
    ) -> None:
        self.records.append(Record(key, value, timestamp, tuple(headers), offset))

    def __len__(self) -> int:
        return len(self.records)

    def build(self) -> bytes:
        return build_batch(self.records, self.base_offset, **self.options)  # type: ignore[arg-type]


# -- control records ------------------------------------------------------------------------


class ControlRecordType(IntEnum):
    ABORT = 0
    COMMIT = 1
    LEADER_CHANGE = 2
    SNAPSHOT_HEADER = 3
    SNAPSHOT_FOOTER = 4
    KRAFT_VERSION = 5
    KRAFT_VOTERS = 6


@dataclass(frozen=True, slots=True)
class EndTransactionMarker:
    control_type: ControlRecordType  # ABORT or COMMIT
    coordinator_epoch: int
    version: int = 0


def encode_control_key(control_type: int, version: int = 0) -> bytes:
    return _INT16_PAIR.pack(version, control_type)


def parse_control_type(key: bytes | None) -> int:
    """The type id of a control record key (unknown ids are returned as they are)."""
    if key is None or len(key) < 4:
        raise CorruptRecordError("control record key is shorter than 4 bytes")
    version, type_id = _INT16_PAIR.unpack_from(key, 0)
    if version < 0:
        raise CorruptRecordError(f"invalid control record key version {version}")
    return int(type_id)


def encode_end_txn_marker(coordinator_epoch: int, version: int = 0) -> bytes:
    return _END_TXN_VALUE.pack(version, coordinator_epoch)


def parse_end_txn_marker(record: Record) -> EndTransactionMarker:
    type_id = parse_control_type(record.key)
    if type_id not in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
        raise CorruptRecordError(f"control record type {type_id} is not a transaction marker")
    if record.value is None or len(record.value) < 6:
        raise CorruptRecordError("transaction marker value is shorter than 6 bytes")
    version, epoch = _END_TXN_VALUE.unpack_from(record.value, 0)
    return EndTransactionMarker(ControlRecordType(type_id), epoch, version)


def build_end_txn_batch(
    control_type: ControlRecordType,
    producer_id: int,
    producer_epoch: int,
    *,
    coordinator_epoch: int,
    base_offset: int = 0,
    timestamp: int = NO_TIMESTAMP,
    partition_leader_epoch: int = -1,
) -> bytes:
    """A transactional control batch with one COMMIT or ABORT marker."""
    marker = Record(
        encode_control_key(control_type), encode_end_txn_marker(coordinator_epoch), timestamp
    )
    return build_batch(
        [marker],
        base_offset,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        is_transactional=True,
        is_control=True,
        partition_leader_epoch=partition_leader_epoch,
    )
