from __future__ import annotations

import struct

import pytest

from kcli.protocol.errors import InvalidReceive
from kcli.protocol.frame import FrameDecoder, frame


def test_frames_split_across_feeds_and_batched_in_one() -> None:
    decoder = FrameDecoder(max_size=100)
    data = frame(b"hello") + frame(b"") + frame(b"world!")
    out: list[bytes] = []
    for i in range(len(data)):  # one byte at a time
        out += decoder.feed(data[i : i + 1])
    assert out == [b"hello", b"", b"world!"]
    assert decoder.buffered == 0
    assert FrameDecoder(100).feed(data) == [b"hello", b"", b"world!"]


def test_partial_frame_is_held() -> None:
    decoder = FrameDecoder(max_size=100)
    assert decoder.feed(frame(b"abcdef")[:7]) == []
    assert decoder.buffered == 7
    assert decoder.feed(b"def") == [b"abcdef"]


def test_negative_size_is_refused() -> None:
    with pytest.raises(InvalidReceive, match=r"Invalid receive \(size = -1\)"):
        FrameDecoder(100).feed(struct.pack(">i", -1))


def test_size_above_max_is_refused_before_the_body_arrives() -> None:
    decoder = FrameDecoder(max_size=100)
    assert decoder.feed(frame(b"x" * 100)) == [b"x" * 100]
    with pytest.raises(InvalidReceive, match="larger than 100"):
        decoder.feed(struct.pack(">i", 101))


def test_default_max_is_socket_request_max_bytes() -> None:
    with pytest.raises(InvalidReceive):
        FrameDecoder().feed(struct.pack(">i", 104_857_601))
    assert FrameDecoder().feed(struct.pack(">i", 104_857_600)) == []
