"""Where the last batches appended to a segment start: an in-memory tail index.

Fetches almost always ask for the tail of the active segment: a follower or a caught-up
consumer fetches the offset right after its previous read, and a consumer's read stops at the
batch holding the high watermark. The offset index is sparse (an entry per
log.index.interval.bytes), so finding those batches meant scanning headers from the last index
entry; this remembers (last offset, position) of the most recent appends, so a lookup in that
range is a bisect. Nothing on disk changes; the segment forgets it on truncation and recovery.
"""

from __future__ import annotations

import bisect
from array import array

KEEP = 128  # batches remembered (between KEEP and 2 * KEEP): at most 4 KB per active segment


class RecentBatches:
    __slots__ = ("_floor", "_last_offsets", "_positions")

    def __init__(self) -> None:
        self._last_offsets = array("q")
        self._positions = array("q")
        # every batch before the first remembered one has a last offset <= _floor;
        # None: unknown, so nothing is answered until reset() after a fresh start
        self._floor: int | None = None

    def reset(self, floor: int | None) -> None:
        """Forget everything; `floor` is the last offset of the last batch in the segment (the
        base offset - 1 when empty), or None when not known."""
        del self._last_offsets[:]
        del self._positions[:]
        self._floor = floor

    def add(self, last_offset: int, position: int) -> None:
        """A batch appended at `position` (batches come in offset and position order)."""
        if self._floor is None:
            return
        lasts = self._last_offsets
        lasts.append(last_offset)
        self._positions.append(position)
        if len(lasts) >= 2 * KEEP:
            self._floor = lasts[KEEP - 1]
            del lasts[:KEEP]
            del self._positions[:KEEP]

    def lookup(self, offset: int) -> int | None:
        """Position of the first batch whose last offset >= `offset`; -1 when no batch has one;
        None when `offset` is older than what is remembered (scan the segment instead)."""
        floor = self._floor
        if floor is None or offset <= floor:
            return None
        lasts = self._last_offsets
        i = bisect.bisect_left(lasts, offset)
        return self._positions[i] if i < len(lasts) else -1

    def __len__(self) -> int:
        return len(self._last_offsets)
