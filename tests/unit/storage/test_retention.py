"""Retention: pure decisions, and Log.delete_old_segments with an injected clock."""

from __future__ import annotations

from pathlib import Path

from kcli.clock import MockClock
from kcli.storage.config import LogConfig
from kcli.storage.retention import SegmentInfo, segments_to_delete

from .helpers import T0, batch, open_log, read_all

HOUR = 3_600_000


def _segs(*sizes_and_ts: tuple[int, int]) -> list[SegmentInfo]:
    return [SegmentInfo(10 * i, size, ts) for i, (size, ts) in enumerate(sizes_and_ts)]


def test_decision_by_time_never_takes_the_active_segment() -> None:
    segs = _segs((100, 1000), (100, 2000), (100, 3000))
    cfg = LogConfig(retention_ms=500)

    def decide(now: int) -> int:
        return segments_to_delete(segs, cfg, now, log_start_offset=0, log_end_offset=30).count

    assert decide(1500) == 0
    assert decide(1501) == 1
    assert decide(2501) == 2
    assert decide(10**9) == 2  # the active (last) segment stays
    assert (
        segments_to_delete(
            segs, LogConfig(retention_ms=-1), 10**9, log_start_offset=0, log_end_offset=30
        ).count
        == 0
    )


def test_decision_stops_at_first_kept_segment() -> None:
    segs = _segs((100, 5000), (100, 1000), (100, 9000))  # the old middle one waits its turn
    d = segments_to_delete(
        segs, LogConfig(retention_ms=500), 5400, log_start_offset=0, log_end_offset=30
    )
    assert d.count == 0


def test_decision_by_size() -> None:
    segs = _segs((100, 0), (100, 0), (100, 0), (50, 0))
    cfg = LogConfig(retention_bytes=200, retention_ms=-1)
    d = segments_to_delete(segs, cfg, 0, log_start_offset=0, log_end_offset=40)
    assert d.count == 1  # 350 - 200 = 150 excess: one 100-byte segment fits in it
    cfg = LogConfig(retention_bytes=50, retention_ms=-1)
    assert segments_to_delete(segs, cfg, 0, log_start_offset=0, log_end_offset=40).count == 3
    cfg = LogConfig(retention_bytes=0, retention_ms=-1)
    assert segments_to_delete(segs, cfg, 0, log_start_offset=0, log_end_offset=40).count == 3


def test_decision_respects_high_watermark_log_start_and_policy() -> None:
    segs = _segs((100, 0), (100, 0), (100, 0))
    cfg = LogConfig(retention_ms=1)
    kw = {"log_start_offset": 0, "log_end_offset": 30}
    assert segments_to_delete(segs, cfg, 10**9, high_watermark=9, **kw).count == 0
    assert segments_to_delete(segs, cfg, 10**9, high_watermark=15, **kw).count == 1
    assert segments_to_delete(segs, cfg, 10**9, high_watermark=20, **kw).count == 2
    compact = LogConfig(retention_ms=1, cleanup_policy=("compact",))
    assert segments_to_delete(segs, compact, 10**9, **kw).count == 0
    d = segments_to_delete(segs, compact, 10**9, log_start_offset=25, log_end_offset=30)
    assert d.count == 2 and "log start offset" in d.describe()


def test_log_retention_by_time_with_mock_clock(tmp_path: Path) -> None:
    clock = MockClock(T0)
    log = open_log(
        tmp_path / "t-0", clock, segment_bytes=400, retention_ms=HOUR, file_delete_delay_ms=1000
    )
    for _ in range(16):  # one batch a minute, stamped with the clock's time
        log.append(batch(1, ts=clock.time_ms()))
        clock.advance(60_000)
    bases = [s.base_offset for s in log.segments]
    assert len(bases) >= 4
    largest = [s.largest_timestamp() for s in log.segments]
    early = log.read(0, 1000)
    assert log.delete_old_segments() == 0
    # move to just past the point where the second segment's newest batch expires
    clock._time_ms = largest[1] + HOUR + 1
    assert log.delete_old_segments() == 2
    assert [s.base_offset for s in log.segments] == bases[2:]
    assert early.to_bytes()  # a region handed out before the deletion still reads
    assert log.log_start_offset == bases[2]
    assert read_all(log)[0][0] == bases[2]
    deleted = sorted(p.name for p in (tmp_path / "t-0").glob("*.deleted"))
    assert deleted[:2] == ["00000000000000000000.index.deleted", "00000000000000000000.log.deleted"]
    assert log.remove_deleted_segments() == 0  # file.delete.delay.ms not over yet
    clock.advance(1000)
    assert log.remove_deleted_segments() == 2
    assert not list((tmp_path / "t-0").glob("*.deleted"))
    clock.advance(100 * HOUR)
    assert log.delete_old_segments() == len(bases) - 3
    assert len(log.segments) == 1  # never the active one
    log.close()


def test_log_retention_by_size(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=400, retention_bytes=900, file_delete_delay_ms=0)
    for _ in range(20):
        log.append(batch(1))
    sizes = [s.size for s in log.segments]
    total = sum(sizes)
    expected = 0
    excess = total - 900
    for size in sizes[:-1]:
        if excess - size < 0:
            break
        excess -= size
        expected += 1
    assert expected >= 1
    assert log.delete_old_segments() == expected
    assert log.size == sum(sizes[expected:]) and log.size >= 900 - sizes[0]
    assert log.log_start_offset == log.segments[0].base_offset
