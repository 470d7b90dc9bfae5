"""Record batch v2 (magic 2) header: parse, verify and patch without decoding the records.

Layout (Kafka's DefaultRecordBatch; big-endian; 61-byte header):

    offset  size  field
    0       8     baseOffset            int64
    8       4     batchLength           int32   bytes after this field (total size - 12)
    12      4     partitionLeaderEpoch  int32
    16      1     magic                 int8    = 2
    17      4     crc                   uint32  CRC-32C of bytes [21, end)
    21      2     attributes            int16   bits 0-2 codec, 3 timestampType (1 = LogAppendTime),
                                                4 isTransactional, 5 isControl, 6 hasDeleteHorizonMs
    23      4     lastOffsetDelta       int32
    27      8     baseTimestamp         int64   (firstTimestamp; deleteHorizonMs when bit 6 is set)
    35      8     maxTimestamp          int64
    43      8     producerId            int64
    51      2     producerEpoch         int16
    53      4     baseSequence          int32
    57      4     recordsCount          int32
    61      ...   records (compressed as a whole when codec != 0)

baseOffset and partitionLeaderEpoch sit outside the CRC, so the broker patches them in place;
setting LogAppendTime rewrites maxTimestamp and attributes and therefore the CRC.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import crc32c

HEADER_SIZE = 61
LOG_OVERHEAD = 12  # baseOffset + batchLength: the bytes not counted in batchLength
MAGIC_V2 = 2
CRC_START = 21

_HEADER = struct.Struct(">qiibIhiqqqhii")
_OFFSET_AND_LENGTH = struct.Struct(">qi")
_INT64 = struct.Struct(">q")
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT16 = struct.Struct(">h")

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_BIT = 0x08
TRANSACTIONAL_BIT = 0x10
CONTROL_BIT = 0x20
DELETE_HORIZON_BIT = 0x40

NO_PRODUCER_ID = -1
NO_PARTITION_LEADER_EPOCH = -1


class Compression(IntEnum):
    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4


class TimestampType(IntEnum):
    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


class CorruptBatchError(ValueError):
    """The bytes are not a valid v2 record batch (short, bad magic, bad length or bad CRC)."""


@dataclass(frozen=True, slots=True)
class BatchHeader:
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int

    @property
    def size(self) -> int:
        """Total bytes of the batch on the wire and on disk."""
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    @property
    def compression(self) -> Compression:
        return Compression(self.attributes & COMPRESSION_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        return TimestampType((self.attributes & TIMESTAMP_TYPE_BIT) >> 3)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_BIT)

    @property
    def has_delete_horizon(self) -> bool:
        return bool(self.attributes & DELETE_HORIZON_BIT)

    @property
    def last_sequence(self) -> int:
        if self.base_sequence < 0:
            return -1
        return (self.base_sequence + self.last_offset_delta) & 0x7FFFFFFF


def parse_header(buf: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    """Parse the 61-byte header at `pos` (no CRC check; see `verify_crc`)."""
    if len(buf) - pos < HEADER_SIZE:
        raise CorruptBatchError(f"need {HEADER_SIZE} header bytes, have {len(buf) - pos}")
    fields = _HEADER.unpack_from(buf, pos)
    header = BatchHeader(*fields)
    if header.magic != MAGIC_V2:
        raise CorruptBatchError(f"unsupported magic {header.magic}")
    if header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
        raise CorruptBatchError(f"batch length {header.batch_length} is shorter than a header")
    return header


def peek_size(buf: bytes | bytearray | memoryview, pos: int = 0) -> int | None:
    """Total size of the batch starting at `pos`, or None if fewer than 12 bytes remain."""
    if len(buf) - pos < LOG_OVERHEAD:
        return None
    _, length = _OFFSET_AND_LENGTH.unpack_from(buf, pos)
    return int(length) + LOG_OVERHEAD


def compute_crc(buf: bytes | bytearray | memoryview, pos: int, size: int) -> int:
    return int(crc32c.crc32c(memoryview(buf)[pos + CRC_START : pos + size]))


def verify_crc(buf: bytes | bytearray | memoryview, header: BatchHeader, pos: int = 0) -> bool:
    if len(buf) - pos < header.size:
        return False
    return compute_crc(buf, pos, header.size) == header.crc


def iter_headers(
    buf: bytes | bytearray | memoryview, validate: bool = True
) -> list[tuple[int, BatchHeader]]:
    """(position, header) of each batch in a buffer of concatenated batches.

    Raises CorruptBatchError on the first short, malformed or (with `validate`) CRC-failing batch.
    """
    out: list[tuple[int, BatchHeader]] = []
    pos = 0
    end = len(buf)
    while pos < end:
        header = parse_header(buf, pos)
        if pos + header.size > end:
            raise CorruptBatchError(f"batch at {pos} needs {header.size} bytes, {end - pos} left")
        if validate and compute_crc(buf, pos, header.size) != header.crc:
            raise CorruptBatchError(f"CRC mismatch in batch at position {pos}")
        out.append((pos, header))
        pos += header.size
    return out


def set_base_offset(buf: bytearray | memoryview, pos: int, base_offset: int) -> None:
    _INT64.pack_into(buf, pos, base_offset)


def set_partition_leader_epoch(buf: bytearray | memoryview, pos: int, epoch: int) -> None:
    _INT32.pack_into(buf, pos + 12, epoch)


def set_log_append_time(buf: bytearray | memoryview, pos: int, timestamp_ms: int) -> None:
    """Mark the batch LogAppendTime with `timestamp_ms` as its max timestamp; rewrites the CRC."""
    (attributes,) = _INT16.unpack_from(buf, pos + 21)
    _INT16.pack_into(buf, pos + 21, attributes | TIMESTAMP_TYPE_BIT)
    _INT64.pack_into(buf, pos + 35, timestamp_ms)
    (length,) = _INT32.unpack_from(buf, pos + 8)
    _UINT32.pack_into(buf, pos + 17, compute_crc(buf, pos, length + LOG_OVERHEAD))


def rewrite_crc(buf: bytearray | memoryview, pos: int) -> None:
    (length,) = _INT32.unpack_from(buf, pos + 8)
    _UINT32.pack_into(buf, pos + 17, compute_crc(buf, pos, length + LOG_OVERHEAD))
