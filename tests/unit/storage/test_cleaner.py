"""The log cleaner on real segment files: the seed's compaction example, tombstones,
min.compaction.lag.ms, the active segment, producer state and the cleaner checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcli.clock import MockClock
from kcli.protocol.batch import Compression, iter_headers
from kcli.protocol.records import Record, build_batch, iter_records
from kcli.storage.cleaner import CLEANER_OFFSET_CHECKPOINT, LogCleaner
from kcli.storage.log import Log
from tests.unit.storage.helpers import T0, open_log, read_all

DAY = 86_400_000

# The seed's "Kafka Log Compaction Process" figure: offsets, keys, values before compaction.
SEED_BEFORE = [
    (13, "K1", "V5"), (17, "K5", "V2"), (19, "K2", "V7"), (20, "K7", "V1"),
    (21, "K8", "V4"), (22, "K4", "V6"), (23, "K1", "V1"), (24, "K1", "V2"),
    (25, "K1", "V9"), (26, "K9", "V6"), (27, "K8", "V22"), (28, "K2", "V25"),
]  # fmt: skip
SEED_AFTER = [
    (17, "K5", "V2"), (20, "K7", "V1"), (22, "K4", "V6"), (25, "K1", "V9"),
    (26, "K9", "V6"), (27, "K8", "V22"), (28, "K2", "V25"),
]  # fmt: skip


def _append_kept(lg: Log, rows: list[tuple[int, str, str | None]], ts: int, **opts: object) -> None:
    """Append one batch holding `rows` with their own offsets (a follower-style append)."""
    recs = [
        Record(k.encode(), None if v is None else v.encode(), ts + i, offset=o)
        for i, (o, k, v) in enumerate(rows)
    ]
    lg.append(bytearray(build_batch(recs, rows[0][0], **opts)), assign_offsets=False)  # type: ignore[arg-type]


def _rows(lg: Log) -> list[tuple[int, str, str | None]]:
    return [
        (o, (k or b"").decode(), None if v is None else v.decode()) for o, k, v, _ in read_all(lg)
    ]


def _seed_log(tmp_path: Path, clock: MockClock, codec: Compression, per_batch: int) -> Log:
    lg = open_log(tmp_path / "lab-0", clock, cleanup_policy=("compact",))
    lg.truncate_fully_and_start_at(13)
    # Three segments of four records each, then an empty active segment.
    for seg_start in range(0, 12, 4):
        rows = SEED_BEFORE[seg_start : seg_start + 4]
        for i in range(0, 4, per_batch):
            _append_kept(lg, rows[i : i + per_batch], T0, compression=codec)
        lg.roll()
    return lg


@pytest.mark.parametrize(
    ("codec", "per_batch"),
    [(Compression.NONE, 1), (Compression.NONE, 4), (Compression.GZIP, 2), (Compression.ZSTD, 4)],
)
def test_seed_compaction_example(tmp_path: Path, codec: Compression, per_batch: int) -> None:
    clock = MockClock(T0 + 1000)
    lg = _seed_log(tmp_path, clock, codec, per_batch)
    assert _rows(lg) == SEED_BEFORE
    cleaner = LogCleaner(clock)
    stats = cleaner.clean_log(lg)
    assert stats.cleaned, stats.describe()
    assert _rows(lg) == SEED_AFTER  # offsets preserved, latest value per key
    assert stats.segments_before == [13, 21, 25]
    assert [s.base_offset for s in lg.segments] == [13, 29]  # three small ones merged
    assert lg.log_end_offset == 29
    checkpoint = (tmp_path / CLEANER_OFFSET_CHECKPOINT).read_text().split("\n")
    assert checkpoint[:3] == ["0", "1", "lab 0 29"]
    lg.close()
    reopened = open_log(tmp_path / "lab-0", clock, cleanup_policy=("compact",))
    assert _rows(reopened) == SEED_AFTER
    assert not list((tmp_path / "lab-0").glob("*.cleaned")) + list(
        (tmp_path / "lab-0").glob("*.swap")
    )
    reopened.close()


def test_dirty_ratio_from_checkpoint(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = _seed_log(tmp_path, clock, Compression.NONE, 1)
    cleaner = LogCleaner(clock)
    assert cleaner.clean_log(lg).cleaned
    again = cleaner.clean_log(lg)
    assert not again.cleaned and again.skipped == "nothing to clean"
    # A little new dirty data (one small segment against a bigger clean one): below 0.5.
    _append_kept(lg, [(29, "K1", "V10")], T0)
    lg.roll()
    low = cleaner.clean_log(lg)
    assert not low.cleaned and "min.cleanable.dirty.ratio" in low.skipped
    # A fresh cleaner reads the checkpoint file and comes to the same ratio.
    assert LogCleaner(clock).log_to_clean(lg, clock.time_ms()).first_dirty_offset == 29
    for i in range(8):
        _append_kept(lg, [(30 + i, f"K{i % 3}", f"W{i}")], T0)
    lg.roll()
    assert cleaner.clean_log(lg).cleaned
    rows = _rows(lg)
    assert (29, "K1", "V10") not in rows and (36, "K0", "W6") in rows
    lg.close()


def test_active_segment_is_never_cleaned(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",))
    for i in range(6):
        _append_kept(lg, [(i, "k", f"v{i}")], T0)
    lg.roll()
    for i in range(6, 12):
        _append_kept(lg, [(i, "k", f"v{i}")], T0)
    active = lg.active_segment.log_path.read_bytes()
    LogCleaner(clock).clean_log(lg)
    assert lg.active_segment.log_path.read_bytes() == active
    # The inactive segment keeps only its last record: its key is superseded only within itself
    # (the active segment's records are outside the dirty range).
    assert [r[0] for r in _rows(lg)] == [5, 6, 7, 8, 9, 10, 11]
    lg.close()


def test_min_compaction_lag_ms(tmp_path: Path) -> None:
    clock = MockClock(T0 + 10 * 60_000)
    lg = open_log(
        tmp_path / "t-0", clock, cleanup_policy=("compact",), min_compaction_lag_ms=5 * 60_000
    )
    old, recent = T0, T0 + 8 * 60_000  # 10 min and 2 min before now
    for i in range(4):
        _append_kept(lg, [(i, "k", f"old{i}")], old)
    lg.roll()
    for i in range(4, 8):
        _append_kept(lg, [(i, "k", f"new{i}")], recent)
    lg.roll()
    cleaner = LogCleaner(clock)
    stats = cleaner.clean_log(lg)
    assert stats.cleaned and stats.end_offset == 4
    # Only the old segment was compacted; the recent one (within the lag) is untouched.
    assert [r[0] for r in _rows(lg)] == [3, 4, 5, 6, 7]
    clock.advance(10 * 60_000)
    assert cleaner.clean_log(lg).cleaned
    assert [r[0] for r in _rows(lg)] == [7]
    lg.close()


def test_tombstones_kept_until_delete_retention_ms(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",), delete_retention_ms=DAY)
    _append_kept(lg, [(0, "a", "1"), (1, "b", "1")], T0)
    _append_kept(lg, [(2, "a", None), (3, "c", "1")], T0)
    lg.roll()
    cleaner = LogCleaner(clock)
    assert cleaner.clean_log(lg).cleaned
    assert _rows(lg) == [(1, "b", "1"), (2, "a", None), (3, "c", "1")]
    headers = [h for _, h in iter_headers(lg.segments[0].log_path.read_bytes())]
    horizon = [h.base_timestamp for h in headers if h.has_delete_horizon]
    assert horizon == [T0 + 1000 + DAY]  # set on the batch holding the tombstone, only there
    # Before the horizon a forced cleaning keeps the tombstone.
    clock.advance(DAY - 1)
    ltc = cleaner.log_to_clean(lg, clock.time_ms())
    cleaner.clean(lg, ltc, clock.time_ms())
    assert (2, "a", None) in _rows(lg)
    clock.advance(1)
    cleaner.clean(lg, cleaner.log_to_clean(lg, clock.time_ms()), clock.time_ms())
    assert _rows(lg) == [(1, "b", "1"), (3, "c", "1")]
    lg.close()


def test_tombstone_superseded_and_keyless_records_dropped(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact", "delete"))
    lg.append(bytearray(build_batch([Record(None, b"no key", T0)])))
    _append_kept(lg, [(1, "a", None)], T0)
    _append_kept(lg, [(2, "a", "back")], T0)
    lg.roll()
    LogCleaner(clock).clean_log(lg)
    assert _rows(lg) == [(2, "a", "back")]
    lg.close()


def test_producer_state_is_kept(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",))
    opts = {"producer_id": 77, "producer_epoch": 2}
    _append_kept(lg, [(0, "a", "1"), (1, "b", "1"), (2, "c", "1")], T0, base_sequence=0, **opts)
    _append_kept(lg, [(3, "a", "2"), (4, "b", "2")], T0, base_sequence=3, **opts)
    _append_kept(lg, [(5, "a", "3"), (6, "b", "3")], T0, base_sequence=5, **opts)
    _append_kept(lg, [(7, "a", "4"), (8, "b", "4")], T0)
    lg.roll()
    LogCleaner(clock).clean_log(lg)
    data = lg.segments[0].log_path.read_bytes()
    headers = [h for _, h in iter_headers(data)]
    # Batch 1 keeps c with its producer fields and original last offset/sequence; batch 2 is
    # dropped; batch 3 is emptied but kept (the producer's last batch); batch 4 is intact.
    summary = [
        (
            h.base_offset,
            h.last_offset,
            h.records_count,
            h.producer_id,
            h.base_sequence,
            h.last_sequence,
        )
        for h in headers
    ]
    assert summary == [(0, 2, 1, 77, 0, 2), (5, 6, 0, 77, 5, 6), (7, 8, 2, -1, -1, -1)]
    assert [(r.offset, r.key) for r in iter_records(data)] == [(2, b"c"), (7, b"a"), (8, b"b")]
    lg.close()


def test_groups_respect_segment_bytes(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",), segment_bytes=500)
    for i in range(12):
        _append_kept(lg, [(i, f"k{i}", "x" * 40)], T0)  # 12 distinct keys: nothing to drop
        lg.roll()  # one ~110-byte batch per segment
    assert len(lg.segments) == 13
    LogCleaner(clock).clean_log(lg)
    after = lg.segments
    assert [r[0] for r in _rows(lg)] == list(range(12))
    assert all(s.size <= 500 for s in after)
    assert [s.base_offset for s in after] == [0, 4, 8, 12]  # four ~110-byte segments per group
    lg.close()


def test_log_manager_cleaner_pass(tmp_path: Path) -> None:
    from kcli.storage.files import TopicPartition
    from kcli.storage.manager import LogManager

    clock = MockClock(T0 + 1000)
    manager = LogManager([tmp_path / "logs"], {"log.cleanup.policy": "compact"}, clock=clock)
    manager.startup()
    try:
        lg = manager.get_or_create_log(TopicPartition("lab", 0))
        plain = manager.get_or_create_log(TopicPartition("other", 0))
        manager.set_topic_config("other", {"cleanup.policy": "delete"})
        for lgx in (lg, plain):
            for i in range(6):
                lgx.append(bytearray(build_batch([Record(b"k", b"%d" % i, T0 + i)])))
            lgx.roll()
        results = manager.run_cleaner_pass(LogCleaner(clock))
        assert set(results) == {TopicPartition("lab", 0)}
        assert [r[0] for r in _rows(lg)] == [5]
        assert len(_rows(plain)) == 6
        text = (tmp_path / "logs" / CLEANER_OFFSET_CHECKPOINT).read_text()
        assert text.split("\n")[:3] == ["0", "1", "lab 0 6"]
    finally:
        manager.shutdown()


def test_aborted_transactions_removed_and_open_ones_not_cleaned(tmp_path: Path) -> None:
    from kcli.protocol.records import ControlRecordType, build_end_txn_batch

    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",))
    _append_kept(lg, [(0, "a", "committed")], T0)
    txn = {"producer_id": 5, "producer_epoch": 0, "is_transactional": True}
    _append_kept(lg, [(1, "a", "aborted")], T0, base_sequence=0, **txn)
    marker = build_end_txn_batch(ControlRecordType.ABORT, 5, 0, coordinator_epoch=1, base_offset=2)
    lg.append(bytearray(marker), assign_offsets=False)
    _append_kept(lg, [(3, "b", "1"), (4, "b", "2")], T0)
    lg.roll()
    open_txn = {"producer_id": 6, "producer_epoch": 0, "is_transactional": True}
    _append_kept(lg, [(5, "b", "pending")], T0, base_sequence=0, **open_txn)
    _append_kept(lg, [(6, "c", "1")], T0)
    lg.roll()
    cleaner = LogCleaner(clock)
    stats = cleaner.clean_log(lg)
    assert stats.cleaned and stats.end_offset == 5  # the open transaction bounds the range
    # The aborted write neither shadows nor survives; the committed value stays.
    rows = _rows(lg)
    assert [o for o, _, _ in rows] == [0, 2, 4, 5, 6]  # 2 is the ABORT marker's record
    assert rows[0] == (0, "a", "committed")
    assert (rows[2], rows[3], rows[4]) == ((4, "b", "2"), (5, "b", "pending"), (6, "c", "1"))
    headers = [h for _, h in iter_headers(lg.segments[0].log_path.read_bytes())]
    kept = [(h.base_offset, h.records_count, h.is_control) for h in headers]
    # The aborted batch stays as an empty batch (producer 5's last), its marker is kept.
    assert kept == [(0, 1, False), (1, 0, False), (2, 1, True), (3, 1, False)]
    lg.close()


def test_corrupt_batch_stops_cleaning_without_damage(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    lg = open_log(tmp_path / "t-0", clock, cleanup_policy=("compact",))
    for i in range(4):
        _append_kept(lg, [(i, "k", f"v{i}")], T0)
    lg.roll()
    path = lg.segments[0].log_path
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the last batch's value: only the CRC notices
    path.write_bytes(bytes(data))
    stats = LogCleaner(clock).clean_log(lg)
    assert not stats.cleaned and "corrupt batch" in stats.skipped
    assert path.read_bytes() == bytes(data)
    assert not list((tmp_path / "t-0").glob("*.cleaned"))
    assert not (tmp_path / CLEANER_OFFSET_CHECKPOINT).exists()
    lg.close()
