"""The cleaner's pure decisions: dirty range and ratio, log choice, grouping, record survival."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import Compression
from kcli.protocol.records import Record, build_batch, read_batch
from kcli.storage.cleaner_plan import (
    LogToClean,
    SegmentStat,
    filter_batch,
    first_dirty_offset,
    grab_filthiest,
    group_segments_by_size,
    log_to_clean,
    should_clean,
)

NOW = 1_700_000_000_000


def segs(*spec: tuple[int, int, int, int]) -> list[SegmentStat]:
    """(base, next, size, largest timestamp) tuples."""
    return [SegmentStat(b, n, s, ts) for b, n, s, ts in spec]


LOG = segs((0, 10, 1000, NOW - 10_000), (10, 20, 1000, NOW - 5_000), (20, 30, 2000, NOW - 100))
ACTIVE = SegmentStat(30, 35, 500, NOW)


def test_first_dirty_offset_resets_out_of_range_checkpoints() -> None:
    assert first_dirty_offset(None, 5, 100) == 5
    assert first_dirty_offset(3, 5, 100) == 5
    assert first_dirty_offset(101, 5, 100) == 5
    assert first_dirty_offset(40, 5, 100) == 40


def test_ratio_from_checkpoint_and_active_segment_excluded() -> None:
    ltc = log_to_clean([*LOG, ACTIVE], checkpoint=10, log_start_offset=0, now_ms=NOW)
    assert (ltc.first_dirty_offset, ltc.first_uncleanable_offset) == (10, 30)
    assert (ltc.clean_bytes, ltc.cleanable_bytes) == (1000, 3000)
    assert ltc.cleanable_ratio == 0.75
    fresh = log_to_clean([*LOG, ACTIVE], checkpoint=None, log_start_offset=0, now_ms=NOW)
    assert fresh.cleanable_ratio == 1.0


def test_min_compaction_lag_stops_at_first_recent_segment() -> None:
    ltc = log_to_clean(
        [*LOG, ACTIVE], checkpoint=None, log_start_offset=0, now_ms=NOW, min_compaction_lag_ms=7_000
    )
    assert ltc.first_uncleanable_offset == 10  # segment 10's newest record is 5 s old
    assert ltc.cleanable_bytes == 1000


def test_upper_bound_rounds_down_to_a_segment() -> None:
    ltc = log_to_clean(
        [*LOG, ACTIVE], checkpoint=None, log_start_offset=0, now_ms=NOW, upper_bound=25
    )
    assert ltc.first_uncleanable_offset == 20


def test_max_compaction_lag_makes_it_urgent() -> None:
    old = [SegmentStat(0, 10, 100, NOW - 9_000, NOW - 9_000), ACTIVE]
    assert not log_to_clean(
        old, checkpoint=None, log_start_offset=0, now_ms=NOW
    ).needs_compaction_now
    ltc = log_to_clean(
        old, checkpoint=None, log_start_offset=0, now_ms=NOW, max_compaction_lag_ms=5_000
    )
    assert ltc.needs_compaction_now
    assert should_clean(LogToClean(0, 10, 900, 100, True), 0.5)
    assert not should_clean(LogToClean(0, 10, 900, 100, False), 0.5)


def test_should_clean_and_filthiest() -> None:
    assert not should_clean(LogToClean(0, 10, 500, 500), 0.5)  # Kafka: strictly above
    assert should_clean(LogToClean(0, 10, 400, 600), 0.5)
    assert not should_clean(LogToClean(0, 0, 0, 0), 0.0)
    states = {
        "a": (LogToClean(0, 10, 400, 600), 0.5),
        "b": (LogToClean(0, 10, 100, 900), 0.5),
        "c": (LogToClean(0, 10, 50, 950), 0.99),
    }
    assert grab_filthiest(states) == "b"
    assert grab_filthiest({"a": states["a"]}) == "a"
    assert grab_filthiest({"c": states["c"]}) is None


def test_group_segments_by_size() -> None:
    stats = segs((0, 5, 100, 0), (5, 9, 300, 0), (9, 12, 50, 0), (12, 20, 500, 0), (20, 21, 10, 0))
    groups = group_segments_by_size(stats, 400)
    assert [[s.base_offset for s in g] for g in groups] == [[0, 5], [9], [12], [20]]
    assert [[s.base_offset for s in g] for g in group_segments_by_size(stats, 10**6, 11)] == [
        [0, 5, 9],
        [12, 20],
    ]


keys = st.sampled_from([b"a", b"b", b"c", None])
rows = st.lists(st.tuples(keys, st.none() | st.binary(max_size=5)), min_size=1, max_size=10)


@settings(max_examples=80, deadline=None)
@given(
    rows,
    st.dictionaries(st.sampled_from([b"a", b"b", b"c"]), st.integers(0, 15)),
    st.sampled_from(list(Compression)),
    st.booleans(),
)
def test_filter_batch_keeps_exactly_the_survivors(
    data: list[tuple[bytes | None, bytes | None]],
    offset_map: dict[bytes, int],
    codec: Compression,
    keep_empty: bool,
) -> None:
    base = 3
    records = [Record(k, v, NOW + i, offset=base + i * 2) for i, (k, v) in enumerate(data)]
    raw = build_batch(records, base, compression=codec, producer_id=9, base_sequence=4)
    result = filter_batch(raw, offset_map, NOW, 1000, keep_empty=keep_empty)
    expected = [r for r in records if r.key is not None and r.offset >= offset_map.get(r.key, -1)]
    if not result.rewritten:
        assert result.data == raw
        assert len(expected) == len(records) and all(r.value is not None for r in records)
        return
    if not expected and not keep_empty:
        assert result.data == b""
        return
    header, out = read_batch(result.data)
    original = batchmod.parse_header(raw)
    assert [(r.offset, r.key, r.value, r.timestamp) for r in out] == [
        (r.offset, r.key, r.value, r.timestamp) for r in expected
    ]
    assert (header.base_offset, header.last_offset) == (original.base_offset, original.last_offset)
    assert (header.producer_id, header.base_sequence) == (9, 4)
    assert header.last_sequence == original.last_sequence
    assert header.compression == (codec if expected else Compression.NONE)
    # A kept tombstone gets the delete horizon now + delete.retention.ms.
    if any(r.value is None for r in expected):
        assert header.has_delete_horizon and header.base_timestamp == NOW + 1000


def test_tombstone_dropped_only_after_horizon() -> None:
    raw = build_batch([Record(b"a", None, NOW)], 0, delete_horizon_ms=NOW + 50)
    assert filter_batch(raw, {}, NOW + 49, 1000).data == raw
    gone = filter_batch(raw, {}, NOW + 50, 1000)
    assert gone.data == b"" and gone.tombstones_dropped == 1


def test_control_batches_are_kept() -> None:
    from kcli.protocol.records import ControlRecordType, build_end_txn_batch

    raw = build_end_txn_batch(ControlRecordType.ABORT, 1, 0, coordinator_epoch=0)
    assert filter_batch(raw, {b"x": 99}, NOW, 0).data == raw


def test_transaction_fates() -> None:
    from kcli.storage.cleaner_plan import BatchSummary, transaction_fates

    abort, commit = 0, 1
    fates = transaction_fates(
        [
            BatchSummary(0, -1, False, False),
            BatchSummary(1, 5, True, False),  # producer 5: aborted
            BatchSummary(2, 6, True, False),  # producer 6: committed
            BatchSummary(3, 5, True, False),
            BatchSummary(4, 5, True, True, abort),
            BatchSummary(5, 6, True, True, commit),
            BatchSummary(6, 7, True, False),  # producer 7: still open
            BatchSummary(7, 8, False, False),  # idempotent, not transactional
        ]
    )
    assert fates.aborted == {1, 3}
    assert fates.producer_last == {3, 2, 6, 7}
    assert fates.first_unstable_offset == 6
