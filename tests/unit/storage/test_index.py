"""OffsetIndex and TimeIndex: layout, lookups, truncation, reopen with a preallocated tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcli.storage.errors import CorruptIndexError, LogSegmentOffsetOverflowError
from kcli.storage.index import OffsetIndex, OffsetPosition, TimeIndex, TimestampOffset


def test_offset_index_layout_lookup_truncate_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000100.index"
    idx = OffsetIndex(path, 100, 84)  # rounded down to 10 entries of 8 bytes
    assert path.stat().st_size == 80 and idx.entries == 0 and idx.max_entries == 10
    assert idx.lookup(150) == OffsetPosition(100, 0)
    for i in range(1, 6):
        idx.append(100 + 10 * i, 1000 * i)
    assert path.read_bytes()[:16] == bytes.fromhex(
        "0000000a000003e8 00000014000007d0".replace(" ", "")
    )
    assert idx.lookup(99) == OffsetPosition(100, 0)
    assert idx.lookup(110) == OffsetPosition(110, 1000)
    assert idx.lookup(129) == OffsetPosition(120, 2000)
    assert idx.lookup(10_000) == OffsetPosition(150, 5000)
    with pytest.raises(CorruptIndexError):
        idx.append(150, 6000)  # not increasing
    with pytest.raises(LogSegmentOffsetOverflowError):
        idx.append(100 + 2**31, 7000)
    idx.truncate_to(130)  # drops the entries for 130 and later
    assert idx.entries == 2 and idx.last_entry() == OffsetPosition(120, 2000)
    idx.close(trim=False)  # a crash: the preallocated, zero-filled tail stays
    assert path.stat().st_size == 80
    idx = OffsetIndex(path, 100, 80)
    assert idx.entries == 2  # found by the zero tail, truncated entries were zeroed
    idx.sanity_check(log_size=2000)
    with pytest.raises(CorruptIndexError):
        idx.sanity_check(log_size=1999)  # points past the end of the log
    idx.close()  # clean close trims
    assert path.stat().st_size == 16
    idx = OffsetIndex(path, 100, 80)
    assert idx.entries == 2 and idx.length == 16
    idx.resize(80)
    idx.append(200, 9000)
    assert idx.entries == 3 and idx.lookup(250) == OffsetPosition(200, 9000)
    idx.close()


def test_full_index(tmp_path: Path) -> None:
    idx = OffsetIndex(tmp_path / "0.index", 0, 16)
    idx.append(1, 10)
    idx.append(2, 20)
    assert idx.is_full() and idx.room() == 0
    assert not idx.append_next(3, 30)
    with pytest.raises(CorruptIndexError):
        idx.append(3, 30)
    idx.close()


def test_bad_sizes_are_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "0.index"
    path.write_bytes(b"\x00\x00\x00\x01\x00\x00\x00\x10\x01\x02")
    idx = OffsetIndex(path, 0, 80)
    with pytest.raises(CorruptIndexError):
        idx.sanity_check(log_size=100)
    idx.close(trim=False)
    tpath = tmp_path / "0.timeindex"
    tpath.write_bytes(b"\x01\x02")
    tidx = TimeIndex(tpath, 0, 120)
    with pytest.raises(CorruptIndexError):
        tidx.sanity_check(next_offset=10)
    tidx.close(trim=False)


def test_time_index(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000050.timeindex"
    idx = TimeIndex(path, 50, 60)  # 5 slots, one kept for the roll's final entry
    assert idx.room() == 4
    assert idx.lookup(5) == TimestampOffset(-1, 50)
    idx.maybe_append(1000, 52)
    idx.maybe_append(1000, 55)  # same timestamp: skipped
    idx.maybe_append(900, 56)  # older: skipped
    idx.maybe_append(2000, 58)
    assert idx.entries == 2
    assert path.read_bytes()[:12] == (1000).to_bytes(8, "big") + (2).to_bytes(4, "big")
    assert idx.lookup(999) == TimestampOffset(-1, 50)
    assert idx.lookup(1500) == TimestampOffset(1000, 52)
    assert idx.lookup(2000) == TimestampOffset(2000, 58)
    idx.sanity_check(next_offset=59)
    with pytest.raises(CorruptIndexError):
        idx.sanity_check(next_offset=58)
    idx.truncate_to(58)
    assert idx.entries == 1 and idx.last_entry() == TimestampOffset(1000, 52)
    idx.maybe_append(1500, 57)
    idx.close(trim=False)
    idx = TimeIndex(path, 50, 60)
    assert idx.entries == 2 and idx.last_entry() == TimestampOffset(1500, 57)
    idx.close()
    assert path.stat().st_size == 24
