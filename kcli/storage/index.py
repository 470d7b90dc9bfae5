"""A segment's sparse indexes: `.index` (offset -> position) and `.timeindex` (time -> offset).

Both are memory-mapped files of fixed-size big-endian entries, as in Kafka:

    .index      entry = relativeOffset int32 | position int32                      (8 bytes)
    .timeindex  entry = timestamp int64      | relativeOffset int32                (12 bytes)

`relativeOffset` is the offset minus the segment's base offset. An offset index entry maps the
*last* offset of a batch to the file position where that batch starts; the log segment adds one
after every `index.interval.bytes` of appended batches, so entries are sparse and strictly
increasing in both fields. A time index entry (timestamp T, offset O) says the largest timestamp in
the segment up to and including the batch ending at O is T; entries increase in both fields.

A new or active index file is preallocated to `segment.index.bytes` (rounded down to a whole
entry) and the unused tail is zeros; `trim()` shrinks it to its entries when the segment is rolled
or closed. On open, the entries are the prefix before the zero tail (a valid entry is never all
zeros: the first batch of a segment is never indexed, so positions are > 0, and time entries start
after the first timestamp). Truncation zeroes the dropped entries so that rule keeps holding.

Not thread-safe; owned by one `LogSegment`. After a crash the loader checks `sanity_check()` and
rebuilds a failing index from the log (`LogSegment.recover`).
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path
from typing import NamedTuple

from kcli.storage.errors import CorruptIndexError, LogSegmentOffsetOverflowError

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")
_INT32_MAX = 2**31 - 1


class OffsetPosition(NamedTuple):
    offset: int
    position: int


class TimestampOffset(NamedTuple):
    timestamp: int
    offset: int


class _MappedIndex:
    """Shared mmap plumbing: the file, its mapping, entry count and resizing."""

    ENTRY_SIZE = 8

    def __init__(self, path: Path, base_offset: int, max_index_size: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self.max_index_size = max(max_index_size - max_index_size % self.ENTRY_SIZE, 0)
        existed = path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._length = os.fstat(self._fd).st_size
        self._mm: mmap.mmap | None = None
        if not existed or self._length == 0:
            self._entries = 0
            self.resize(self.max_index_size)
        else:
            self._map()
            self._entries = self._count_entries()

    # -- mapping ---------------------------------------------------------------------------

    def _map(self) -> None:
        self._mm = mmap.mmap(self._fd, self._length) if self._length > 0 else None

    def _unmap(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None

    def resize(self, new_size: int) -> None:
        """Set the file length to `new_size` rounded down to whole entries (never below them)."""
        new_size = max(new_size - new_size % self.ENTRY_SIZE, self._entries * self.ENTRY_SIZE)
        if new_size == self._length and (self._mm is not None or new_size == 0):
            return
        self._unmap()
        os.ftruncate(self._fd, new_size)
        self._length = new_size
        self._map()

    def trim(self) -> None:
        """Shrink the file to exactly its entries (segment rolled or closed)."""
        self.resize(self._entries * self.ENTRY_SIZE)

    def _is_zero(self, n: int) -> bool:
        assert self._mm is not None
        start = n * self.ENTRY_SIZE
        return self._mm[start : start + self.ENTRY_SIZE] == bytes(self.ENTRY_SIZE)

    def _count_entries(self) -> int:
        """Entries before the zero tail, by binary search (valid entries are never all zeros)."""
        lo, hi = 0, self._length // self.ENTRY_SIZE
        while lo < hi:
            mid = (lo + hi) // 2
            if self._is_zero(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    # -- common API ------------------------------------------------------------------------

    @property
    def entries(self) -> int:
        return self._entries

    @property
    def max_entries(self) -> int:
        return self._length // self.ENTRY_SIZE if self._length else 0

    @property
    def length(self) -> int:
        return self._length

    def room(self) -> int:
        """How many more entries fit before the index is full."""
        return self.max_index_size // self.ENTRY_SIZE - self._entries

    def is_full(self) -> bool:
        return self.room() <= 0

    def _relative(self, offset: int) -> int:
        rel = offset - self.base_offset
        if not 0 <= rel <= _INT32_MAX:
            raise LogSegmentOffsetOverflowError(
                f"offset {offset} does not fit segment {self.base_offset} as an int32 delta"
            )
        return rel

    def _truncate_entries(self, n: int) -> None:
        """Keep the first n entries and zero the rest (so a reopen counts the same entries)."""
        if n < self._entries:
            assert self._mm is not None
            start, end = n * self.ENTRY_SIZE, self._entries * self.ENTRY_SIZE
            self._mm[start:end] = bytes(end - start)
            self._entries = n
            self._invalidate()

    def _invalidate(self) -> None:
        """Forget cached last-entry values (entries were dropped)."""

    def reset(self) -> None:
        """Drop every entry and make room for appends again."""
        self._truncate_entries(0)
        self.resize(self.max_index_size)

    def flush(self) -> None:
        if self._mm is not None:
            self._mm.flush()

    def close(self, trim: bool = True) -> None:
        if self._fd < 0:
            return
        if trim:
            self.trim()
        self._unmap()
        os.close(self._fd)
        self._fd = -1

    def rename(self, new_path: Path) -> None:
        os.replace(self.path, new_path)
        self.path = new_path

    def _slot_for(self, target: int, key_at: int) -> int:
        """Index of the largest entry whose key <= target, or -1 (entries sorted by key)."""
        lo, hi = 0, self._entries - 1
        found = -1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self._key(mid, key_at) <= target:
                found = mid
                lo = mid + 1
            else:
                hi = mid - 1
        return found

    def _key(self, n: int, key_at: int) -> int:
        raise NotImplementedError


class OffsetIndex(_MappedIndex):
    """`<base>.index`: last offset of a batch -> file position of that batch (8-byte entries)."""

    ENTRY_SIZE = 8
    _last_rel = -1  # cached relative offset of the last entry; -1 = read it from the file

    def _invalidate(self) -> None:
        self._last_rel = -1

    def _key(self, n: int, key_at: int = 0) -> int:
        assert self._mm is not None
        rel, _ = _OFFSET_ENTRY.unpack_from(self._mm, n * 8)
        return int(rel)

    def entry(self, n: int) -> OffsetPosition:
        assert self._mm is not None
        rel, pos = _OFFSET_ENTRY.unpack_from(self._mm, n * 8)
        return OffsetPosition(self.base_offset + rel, pos)

    def last_entry(self) -> OffsetPosition:
        return (
            self.entry(self._entries - 1) if self._entries else OffsetPosition(self.base_offset, 0)
        )

    @property
    def last_offset(self) -> int:
        return self.last_entry().offset

    def append(self, offset: int, position: int) -> None:
        """Add (offset, position); both must exceed the last entry's. Caller checks is_full()."""
        rel = offset - self.base_offset
        if not 0 <= rel <= _INT32_MAX:
            self._relative(offset)  # raises
        if self._entries:
            if self._last_rel < 0:
                self._last_rel = self._key(self._entries - 1)
            if rel <= self._last_rel:
                raise CorruptIndexError(
                    f"offset {offset} is not larger than the last indexed offset {self.last_offset}"
                )
        if self._entries >= self.max_entries:
            self.resize(self.max_index_size)
            if self._entries >= self.max_entries:
                raise CorruptIndexError(f"{self.path.name} is full ({self._entries} entries)")
        assert self._mm is not None
        _OFFSET_ENTRY.pack_into(self._mm, self._entries * 8, rel, position)
        self._entries += 1
        self._last_rel = rel

    def append_next(self, rel: int, position: int) -> bool:
        """Hot-path append of a relative offset the caller knows is in range and increasing;
        False (nothing written) when the preallocated file has no free slot."""
        entries = self._entries
        if self._mm is None or (entries + 1) * 8 > self._length:
            return False
        _OFFSET_ENTRY.pack_into(self._mm, entries * 8, rel, position)
        self._entries = entries + 1
        self._last_rel = rel
        return True

    def lookup(self, target_offset: int) -> OffsetPosition:
        """The entry with the largest offset <= target, or (base offset, 0) when there is none."""
        rel = target_offset - self.base_offset
        slot = self._slot_for(rel, 0) if self._entries else -1
        return self.entry(slot) if slot >= 0 else OffsetPosition(self.base_offset, 0)

    def truncate_to(self, offset: int) -> None:
        """Remove entries for offsets >= `offset`."""
        slot = self._slot_for(offset - self.base_offset - 1, 0) if self._entries else -1
        self._truncate_entries(slot + 1)

    def sanity_check(self, log_size: int) -> None:
        """CorruptIndexError unless the file has whole entries and its ends are plausible."""
        if self._length % 8:
            raise CorruptIndexError(f"{self.path.name}: size {self._length} is not a multiple of 8")
        if self._entries:
            first, last = self.entry(0), self.last_entry()
            if first.position <= 0 or last.offset < first.offset or last.position > log_size:
                raise CorruptIndexError(
                    f"{self.path.name}: {first}..{last} do not fit a log of {log_size} bytes"
                )


class TimeIndex(_MappedIndex):
    """`<base>.timeindex`: max timestamp so far -> last offset of the batch carrying it (12 bytes).

    `is_full()` keeps one slot free for the final entry written when the segment is rolled.
    """

    ENTRY_SIZE = 12
    _last: TimestampOffset | None = None  # cached last entry; None = read it from the file

    def _invalidate(self) -> None:
        self._last = None

    def _key(self, n: int, key_at: int = 0) -> int:
        assert self._mm is not None
        ts, _ = _TIME_ENTRY.unpack_from(self._mm, n * 12)
        return int(ts)

    def entry(self, n: int) -> TimestampOffset:
        assert self._mm is not None
        ts, rel = _TIME_ENTRY.unpack_from(self._mm, n * 12)
        return TimestampOffset(ts, self.base_offset + rel)

    def last_entry(self) -> TimestampOffset:
        return (
            self.entry(self._entries - 1)
            if self._entries
            else TimestampOffset(-1, self.base_offset)
        )

    def room(self) -> int:
        return self.max_index_size // 12 - 1 - self._entries

    def maybe_append(self, timestamp: int, offset: int, skip_full_check: bool = False) -> bool:
        """Append when `timestamp` is larger than the last entry's (Kafka's maybeAppend);
        True when an entry was added."""
        if self._entries:
            if self._last is None:
                self._last = self.last_entry()
            if timestamp <= self._last[0] or offset <= self._last[1]:
                return False
        rel = self._relative(offset)
        if self._entries >= self.max_entries:
            if not skip_full_check and self.is_full():
                raise CorruptIndexError(f"{self.path.name} is full ({self._entries} entries)")
            self.resize(max(self.max_index_size, (self._entries + 1) * 12))
        assert self._mm is not None
        _TIME_ENTRY.pack_into(self._mm, self._entries * 12, timestamp, rel)
        self._entries += 1
        self._last = TimestampOffset(timestamp, offset)
        return True

    def lookup(self, target_timestamp: int) -> TimestampOffset:
        """The entry with the largest timestamp <= target, or (-1, base offset) if none."""
        slot = self._slot_for(target_timestamp, 0) if self._entries else -1
        return self.entry(slot) if slot >= 0 else TimestampOffset(-1, self.base_offset)

    def truncate_to(self, offset: int) -> None:
        """Remove entries whose offset is >= `offset`."""
        n = self._entries
        while n > 0 and self.entry(n - 1).offset >= offset:
            n -= 1
        self._truncate_entries(n)

    def sanity_check(self, next_offset: int) -> None:
        if self._length % 12:
            raise CorruptIndexError(
                f"{self.path.name}: size {self._length} is not a multiple of 12"
            )
        if self._entries:
            first, last = self.entry(0), self.last_entry()
            if last.timestamp < first.timestamp or not first.offset <= last.offset < next_offset:
                raise CorruptIndexError(
                    f"{self.path.name}: {first}..{last} do not fit offsets below {next_offset}"
                )
