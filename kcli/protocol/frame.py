"""Size-prefixed frames: `int32 size` then `size` bytes (every Kafka request and response).

The guard matches Kafka's `NetworkReceive`: a negative size, or one above
`socket.request.max.bytes`, is refused before anything is allocated, and the caller closes the
connection. Size 0 passes (Kafka allows it for SASL); the header parse then fails.
"""

from __future__ import annotations

import struct

from kcli.protocol.errors import InvalidReceive

SIZE = struct.Struct(">i")
DEFAULT_MAX_SIZE = 104_857_600  # socket.request.max.bytes


class FrameDecoder:
    """Feed bytes as they arrive; get back whole frames (without their size prefix)."""

    __slots__ = ("_buffer", "_max_size", "_need")

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self._buffer = bytearray()
        self._max_size = max_size
        self._need = -1  # size of the frame being read; -1 while its prefix is incomplete

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Frames completed by `data`, in order. Raises InvalidReceive on a bad size prefix."""
        buf = self._buffer
        buf += data
        frames: list[bytes] = []
        pos = 0
        while True:
            if self._need < 0:
                if len(buf) - pos < 4:
                    break
                (size,) = SIZE.unpack_from(buf, pos)
                if size < 0:
                    raise InvalidReceive(f"Invalid receive (size = {size})")
                if size > self._max_size:
                    raise InvalidReceive(
                        f"Invalid receive (size = {size} larger than {self._max_size})"
                    )
                self._need = size
                pos += 4
            if len(buf) - pos < self._need:
                break
            # One copy out of the buffer (a bytearray slice would copy twice).
            with memoryview(buf) as view:
                frames.append(bytes(view[pos : pos + self._need]))
            pos += self._need
            self._need = -1
        if pos:
            del buf[:pos]
        return frames

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame (a peer that closes now truncated it)."""
        return len(self._buffer) + (4 if self._need >= 0 else 0)


def frame(payload: bytes) -> bytes:
    """`payload` with its size prefix."""
    return SIZE.pack(len(payload)) + payload
