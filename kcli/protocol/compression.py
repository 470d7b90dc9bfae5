"""Compression codecs of record batch v2: the records section after the 61-byte header is
compressed as one unit, with the codec named by attribute bits 0-2.

    codec   id  wire format                                         library
    none    0   records as they are
    gzip    1   RFC 1952 gzip member(s)                             zlib (stdlib)
    snappy  2   xerial framing (below) or one raw snappy block      cramjam
    lz4     3   LZ4 frame format (independent blocks)               lz4.frame
    zstd    4   zstd frame(s)                                       cramjam

Snappy in Kafka: the Java client (xerial's SnappyOutputStream) and librdkafka write the xerial
framing; some clients write a bare raw-snappy block. Readers must accept both.

    xerial framing (big-endian)
    0   8   magic       0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
    8   4   version     int32 = 1
    12  4   compatible  int32 = 1
    16  ... blocks      repeated: length int32, raw snappy block of <= 32 KiB input
"""

from __future__ import annotations

import gzip
import struct

import cramjam
import lz4.frame

from kcli.protocol.batch import Compression

XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)
XERIAL_BLOCK_SIZE = 32 * 1024
_INT32 = struct.Struct(">i")

GZIP_LEVEL = 6  # java.util.zip's default, which Kafka's producer uses unless told otherwise
ZSTD_LEVEL = 3  # zstd's default level, as Kafka's


class CompressionError(ValueError):
    """The compressed records section cannot be decompressed."""


def compress(codec: Compression, data: bytes) -> bytes:
    """Compress a records section with `codec` the way Kafka's Java producer does."""
    if codec == Compression.NONE:
        return data
    if codec == Compression.GZIP:
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if codec == Compression.SNAPPY:
        return snappy_xerial_compress(data)
    if codec == Compression.LZ4:
        # Kafka's reader (KafkaLZ4BlockInputStream) does not support linked blocks.
        out: bytes = lz4.frame.compress(
            data, block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False
        )
        return out
    if codec == Compression.ZSTD:
        return bytes(cramjam.zstd.compress(data, level=ZSTD_LEVEL))
    raise CompressionError(f"unknown compression codec {int(codec)}")


def decompress(codec: Compression | int, data: bytes | memoryview) -> bytes:
    """Decompress a records section; raises CompressionError on malformed input."""
    try:
        codec = Compression(codec)
    except ValueError:
        raise CompressionError(f"unknown compression codec {int(codec)}") from None
    raw = bytes(data)
    try:
        if codec == Compression.NONE:
            return raw
        if codec == Compression.GZIP:
            return gzip.decompress(raw)
        if codec == Compression.SNAPPY:
            return snappy_decompress(raw)
        if codec == Compression.LZ4:
            out: bytes = lz4.frame.decompress(raw)
            return out
        return bytes(cramjam.zstd.decompress(raw))
    except CompressionError:
        raise
    except Exception as exc:
        # Every codec library raises its own types (OSError, EOFError, RuntimeError, cramjam's
        # DecompressionError, which has no stable import path); all mean "corrupt input".
        raise CompressionError(f"{codec.name.lower()}: {exc}") from exc


def snappy_xerial_compress(data: bytes) -> bytes:
    parts = [XERIAL_HEADER]
    view = memoryview(data)
    for start in range(0, len(data), XERIAL_BLOCK_SIZE):
        block = bytes(cramjam.snappy.compress_raw(bytes(view[start : start + XERIAL_BLOCK_SIZE])))
        parts.append(_INT32.pack(len(block)))
        parts.append(block)
    return b"".join(parts)


def snappy_decompress(data: bytes) -> bytes:
    """Read xerial-framed snappy (Java client, librdkafka) or a raw snappy block."""
    if not data.startswith(XERIAL_MAGIC):
        return bytes(cramjam.snappy.decompress_raw(data))
    if len(data) < len(XERIAL_HEADER):
        raise CompressionError("snappy: truncated xerial header")
    parts = []
    pos = len(XERIAL_HEADER)
    end = len(data)
    while pos < end:
        if end - pos < 4:
            raise CompressionError("snappy: truncated xerial block length")
        (length,) = _INT32.unpack_from(data, pos)
        pos += 4
        if length < 0 or pos + length > end:
            raise CompressionError(f"snappy: xerial block of {length} bytes overruns the input")
        parts.append(bytes(cramjam.snappy.decompress_raw(data[pos : pos + length])))
        pos += length
    return b"".join(parts)
