"""Codecs of record batch v2: round trips, snappy framings, malformed input."""

from __future__ import annotations

import cramjam
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.protocol.batch import Compression
from kcli.protocol.compression import (
    XERIAL_BLOCK_SIZE,
    XERIAL_HEADER,
    CompressionError,
    compress,
    decompress,
    snappy_decompress,
)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(list(Compression)), st.binary(max_size=5000) | st.just(b"ab" * 40000))
def test_round_trip(codec: Compression, data: bytes) -> None:
    assert decompress(codec, compress(codec, data)) == data


def test_snappy_writes_xerial_framing_in_32k_blocks() -> None:
    data = bytes(range(256)) * 300  # 76,800 bytes: three blocks
    out = compress(Compression.SNAPPY, data)
    assert out.startswith(XERIAL_HEADER)
    pos, blocks = len(XERIAL_HEADER), 0
    while pos < len(out):
        length = int.from_bytes(out[pos : pos + 4], "big")
        chunk = bytes(cramjam.snappy.decompress_raw(out[pos + 4 : pos + 4 + length]))
        assert len(chunk) <= XERIAL_BLOCK_SIZE
        pos += 4 + length
        blocks += 1
    assert blocks == 3
    assert decompress(Compression.SNAPPY, out) == data


def test_raw_snappy_is_read_too() -> None:
    data = b"raw snappy from a client that skips the xerial framing" * 10
    assert snappy_decompress(bytes(cramjam.snappy.compress_raw(data))) == data


def test_gzip_output_is_deterministic() -> None:
    assert compress(Compression.GZIP, b"x" * 100) == compress(Compression.GZIP, b"x" * 100)


@pytest.mark.parametrize("codec", [c for c in Compression if c != Compression.NONE])
def test_garbage_raises_compression_error(codec: Compression) -> None:
    with pytest.raises(CompressionError):
        decompress(codec, b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x10\x00zz")
    good = compress(codec, b"hello world" * 100)
    with pytest.raises(CompressionError):
        decompress(codec, good[: len(good) // 2])


def test_unknown_codec() -> None:
    with pytest.raises(CompressionError, match="unknown"):
        decompress(6, b"")


def test_zstd_streamed_frame_without_content_size() -> None:
    """Java's zstd-jni and librdkafka stream frames that do not declare their content size."""
    zstandard = pytest.importorskip("zstandard", reason="zstandard is not installed")
    data = b"streamed zstd frame " * 500
    chunker = zstandard.ZstdCompressor(write_content_size=False).chunker()
    frame = b"".join([*chunker.compress(data), *chunker.finish()])
    assert zstandard.get_frame_parameters(frame).content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert decompress(Compression.ZSTD, frame) == data


def test_lz4_frame_with_linked_blocks_and_checksum_is_read() -> None:
    import lz4.frame

    data = bytes(range(256)) * 1000
    frame = lz4.frame.compress(data, block_linked=True, content_checksum=True)
    assert decompress(Compression.LZ4, frame) == data
