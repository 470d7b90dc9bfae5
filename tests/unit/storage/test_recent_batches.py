"""translate_offset's tail fast path (RecentBatches) answers exactly as the index-and-scan path."""

from __future__ import annotations

from pathlib import Path

from kcli.storage.recent_batches import KEEP, RecentBatches
from kcli.storage.segment import BatchPosition, LogSegment
from tests.unit.storage.helpers import batch


def _append(seg: LogSegment, base: int, n: int, one: bool) -> int:
    data = batch(n, base_offset=base)
    last = base + n - 1
    if one:
        seg.append_one(memoryview(data), last, 0)
    else:
        seg.append(data, [(last, 0, len(data))])
    return last + 1


def _scan(seg: LogSegment, offset: int) -> BatchPosition | None:
    """The reference answer: headers scanned from the start of the file."""
    for found in seg.iter_batches(0):
        if found.header.base_offset + found.header.last_offset_delta >= offset:
            return found
    return None


def test_every_offset_agrees_with_a_full_scan(tmp_path: Path) -> None:
    seg = LogSegment.open(tmp_path, 100, index_interval_bytes=512)
    nxt = 100
    for i in range(3 * KEEP):  # past 2 * KEEP: the oldest half is dropped at least once
        nxt = _append(seg, nxt, 1 + i % 3, one=i % 2 == 0)
        if i % 50 == 0:
            nxt += 5  # a gap, as a compacted leader's batches have
    assert 0 < len(seg._recent) < 2 * KEEP
    every = list(seg.iter_batches(0))
    i = 0
    for offset in range(95, nxt + 3):  # the reference: the first batch ending at or after
        while (
            i < len(every)
            and every[i].header.base_offset + every[i].header.last_offset_delta < offset
        ):
            i += 1
        assert seg.translate_offset(offset) == (every[i] if i < len(every) else None), offset
    seg.close()


def test_truncation_and_reopen_fall_back_then_learn_again(tmp_path: Path) -> None:
    seg = LogSegment.open(tmp_path, 0, index_interval_bytes=4096)
    nxt = 0
    for _ in range(20):
        nxt = _append(seg, nxt, 2, one=True)
    seg.truncate_to(17)  # drops the batch 16-17 and later
    assert seg.translate_offset(17) is None
    assert seg.translate_offset(15) == _scan(seg, 15)
    nxt = _append(seg, 16, 3, one=True)  # 16-18, learnt from next_offset()
    assert seg.translate_offset(17) == _scan(seg, 17)
    assert seg.translate_offset(nxt) is None
    seg.close()
    again = LogSegment.open(tmp_path, 0, index_interval_bytes=4096)
    assert len(again._recent) == 0  # nothing remembered: the scan answers
    for offset in range(0, nxt + 1):
        assert again.translate_offset(offset) == _scan(again, offset)
    _append(again, nxt, 1, one=False)
    assert again.translate_offset(nxt) == _scan(again, nxt)
    again.close()


def test_lookup_answers_only_what_it_remembers() -> None:
    recent = RecentBatches()
    recent.add(5, 0)  # not started: ignored
    assert recent.lookup(5) is None
    recent.reset(9)
    recent.add(12, 0)
    recent.add(20, 100)
    assert recent.lookup(9) is None  # older than the tail
    assert recent.lookup(10) == 0
    assert recent.lookup(13) == 100
    assert recent.lookup(21) == -1  # past the end: no batch
