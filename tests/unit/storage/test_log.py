"""Log: append/read, validation errors, follower appends, rolls, truncation, timestamps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kcli.clock import MockClock
from kcli.protocol import batch as batchmod
from kcli.protocol.records import Record, build_batch, iter_records
from kcli.storage.errors import (
    CorruptRecordError,
    InvalidRecordError,
    OffsetOutOfRangeError,
    OffsetsOutOfOrderError,
    RecordBatchTooLargeError,
    RecordTooLargeError,
    UnexpectedAppendOffsetError,
)
from kcli.storage.lookup import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, MAX_TIMESTAMP

from .helpers import T0, batch, open_log, read_all


def test_append_assigns_offsets_in_place_and_reads_back(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    buf = batch(3) + batch(2, ts=T0 + 10)
    info = log.append(buf, leader_epoch=7)
    assert (info.first_offset, info.last_offset, info.num_batches, info.num_records) == (0, 4, 2, 5)
    assert info.max_timestamp == T0 + 11 and info.offset_of_max_timestamp == 4
    assert info.valid_bytes == len(buf) and info.log_append_time == -1
    headers = batchmod.iter_headers(buf)
    assert [h.base_offset for _, h in headers] == [0, 3]  # patched in the caller's buffer
    assert all(h.partition_leader_epoch == 7 for _, h in headers)
    assert log.log_end_offset == 5
    assert [r[0] for r in read_all(log)] == [0, 1, 2, 3, 4]
    assert log.leader_epoch_cache.entries() == [(7, 0)]
    data = log.read(0, 1 << 20)
    assert data.size == len(buf) and data.position == 0
    assert data.to_bytes() == bytes(buf)
    with open(log.active_segment.log_path, "rb") as f:
        assert f.read() == bytes(buf)  # batches stored exactly as appended
    log.close()


def test_read_bytes_only_copy_from_readonly_input(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    raw = bytes(batch(2))
    log.append(raw)
    log.append(raw)
    assert [r[0] for r in read_all(log)] == [0, 1, 2, 3]
    log.close()


def test_read_limits(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    sizes = [len(b) for b in (batch(1), batch(1))]
    for _ in range(4):
        log.append(batch(1))
    one = sizes[0]
    assert log.read(0, 10).size == one  # min_one_batch: the whole first batch
    assert log.read(0, 10, min_one_batch=False).size == 10
    assert log.read(1, 2 * one).position == one
    assert log.read(0, 1 << 20, max_offset=2).size == 2 * one  # stops before the HW batch
    assert log.read(2, 1 << 20, max_offset=2).size == 0
    assert log.read(4, 100).size == 0  # at the log end: empty
    with pytest.raises(OffsetOutOfRangeError):
        log.read(5, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)
    log.close()


def test_sendfile_region(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    log.append(batch(5))
    data = log.read(0, 1 << 20)
    r, w = os.pipe()
    try:
        sent = os.sendfile(w, data.fd, data.position, data.size)
        assert os.read(r, 1 << 16) == data.to_bytes() and sent == data.size
    finally:
        os.close(r)
        os.close(w)
    log.close()


def _corrupt_crc(buf: bytearray) -> bytearray:
    buf[-1] ^= 0xFF
    return buf


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: _corrupt_crc(batch(2)), CorruptRecordError),
        (lambda: batch(2)[:-5], CorruptRecordError),  # torn
        (lambda: batch(2) + b"\0" * 20, CorruptRecordError),  # trailing junk
        (lambda: bytearray(b"\0" * 16 + b"\x01" + bytes(60)), CorruptRecordError),  # magic 1
        (lambda: batch(400, value_size=100), RecordTooLargeError),
    ],
)
def test_rejected_appends_write_nothing(tmp_path: Path, bad: object, error: type) -> None:
    log = open_log(tmp_path / "t-0", max_message_bytes=20_000)
    log.append(batch(1))
    size = log.size
    with pytest.raises(error):
        log.append(batch(1) + bad())  # type: ignore[operator]
    assert log.log_end_offset == 1 and log.size == size
    assert os.path.getsize(log.active_segment.log_path) == size


def test_errors_are_distinct() -> None:
    assert not issubclass(RecordTooLargeError, CorruptRecordError)
    assert not issubclass(CorruptRecordError, RecordTooLargeError)


def test_count_mismatch_is_invalid_for_clients_but_fine_for_followers(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    compacted = bytearray(
        build_batch([Record(b"a", b"1", T0, offset=0), Record(b"b", b"2", T0, offset=3)])
    )
    with pytest.raises(InvalidRecordError):
        log.append(bytearray(compacted))
    log.append(compacted, assign_offsets=False)
    assert log.log_end_offset == 4


def test_batch_over_segment_bytes(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=500)
    with pytest.raises(RecordBatchTooLargeError):
        log.append(batch(10, value_size=100))


def test_follower_append_keeps_offsets_and_checks_order(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    log.append(batch(2, base_offset=10), assign_offsets=False)
    assert log.log_end_offset == 12
    with pytest.raises(UnexpectedAppendOffsetError):
        log.append(batch(1, base_offset=11), assign_offsets=False)
    with pytest.raises(OffsetsOutOfOrderError):
        log.append(batch(2, base_offset=20) + batch(1, base_offset=21), assign_offsets=False)
    assert log.log_end_offset == 12
    log.append(batch(1, base_offset=15), assign_offsets=False)  # gaps are allowed
    cut = batch(1, base_offset=16) + batch(2, base_offset=17)[:-3]  # fetch data ends mid-batch
    info = log.append(cut, assign_offsets=False)
    assert (info.last_offset, info.num_batches, log.log_end_offset) == (16, 1, 17)
    log.append(batch(1, base_offset=17)[:30], assign_offsets=False)
    assert log.log_end_offset == 17
    assert [r[0] for r in read_all(log, 10)] == [10, 11, 15, 16]


def test_log_append_time(tmp_path: Path) -> None:
    clock = MockClock(T0 + 5000)
    log = open_log(tmp_path / "t-0", clock, message_timestamp_type="LogAppendTime")
    info = log.append(bytes(batch(3)))
    assert info.log_append_time == T0 + 5000 and info.max_timestamp == T0 + 5000
    records = list(iter_records(log.read(0, 1 << 20).to_bytes()))
    assert {r.timestamp for r in records} == {T0 + 5000}


def test_roll_by_bytes_and_index(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=1000, index_interval_bytes=1)
    one = len(batch(1))
    for _ in range(30):
        log.append(batch(1))
    per_segment = 1000 // one
    assert [s.base_offset for s in log.segments] == list(range(0, 30, per_segment))
    assert all(s.size <= 1000 for s in log.segments)
    names = sorted(p.name for p in (tmp_path / "t-0").iterdir())
    assert "00000000000000000000.log" in names and "00000000000000000000.timeindex" in names
    # a tiny index forces rolls: 3 entries of 8 bytes
    log2 = open_log(tmp_path / "u-0", segment_index_bytes=24, index_interval_bytes=1)
    for _ in range(10):
        log2.append(batch(1))
    assert len(log2.segments) > 1
    assert all(s.offset_index.entries <= 3 for s in log2.segments)
    assert [r[0] for r in read_all(log2)] == list(range(10))
    log.close()
    log2.close()


def test_roll_by_time_uses_injected_clock(tmp_path: Path) -> None:
    clock = MockClock(T0)
    log = open_log(tmp_path / "t-0", clock, segment_ms=1000)
    log.append(batch(1, ts=T0))
    log.append(batch(1, ts=T0 + 500))
    assert len(log.segments) == 1
    clock.advance(2000)
    log.append(batch(1, ts=T0 + 2000))  # Kafka compares batch timestamps to the first one's
    assert [s.base_offset for s in log.segments] == [0, 2]
    assert log.recovery_point == 2  # rolled segments are flushed


def test_roll_on_relative_offset_overflow(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    log.append(batch(1, base_offset=0), assign_offsets=False)
    far = 2**31 + 5
    log.append(batch(1, base_offset=far), assign_offsets=False)
    assert [s.base_offset for s in log.segments] == [0, far]
    assert [r[0] for r in read_all(log)] == [0, far]


def test_truncate_to(tmp_path: Path) -> None:
    log = open_log(
        tmp_path / "t-0", segment_bytes=600, index_interval_bytes=1, file_delete_delay_ms=0
    )
    for epoch in range(1, 21):
        log.append(batch(2), leader_epoch=epoch)
    assert log.truncate_to(40) is False
    assert log.truncate_to(14)  # a batch boundary
    assert log.log_end_offset == 14
    assert [r[0] for r in read_all(log)] == list(range(14))
    assert log.leader_epoch_cache.entries()[-1] == (7, 12)
    assert log.truncate_to(13)  # inside batch 12-13: the whole batch goes
    assert log.log_end_offset == 12
    assert [r[0] for r in read_all(log)] == list(range(12))
    assert all(s.base_offset <= 13 for s in log.segments)
    assert not list((tmp_path / "t-0").glob("*.deleted"))
    info = log.append(batch(1), leader_epoch=30)
    assert info.first_offset == 12
    log.close()
    log = open_log(tmp_path / "t-0", clean=False)
    assert log.log_end_offset == 13
    assert [r[0] for r in read_all(log)] == list(range(13))
    assert log.leader_epoch_cache.entries()[-1] == (30, 12)


def test_truncate_fully_and_delete_records(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=500, file_delete_delay_ms=0)
    for _ in range(20):
        log.append(batch(2))
    new_start = log.delete_records(17)
    assert new_start == 17 == log.log_start_offset
    assert log.segments[0].base_offset <= 17 < log.segments[0].next_offset()
    with pytest.raises(OffsetOutOfRangeError):
        log.read(16, 100)
    assert read_all(log)[0][0] == 17
    assert log.fetch_offset_by_timestamp(EARLIEST_TIMESTAMP).offset == 17  # type: ignore[union-attr]
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records(41)
    log.truncate_fully_and_start_at(100)
    assert (log.log_start_offset, log.log_end_offset, len(log.segments)) == (100, 100, 1)
    assert log.append(batch(1)).first_offset == 100
    assert sorted(p.name for p in (tmp_path / "t-0").glob("*.log")) == ["00000000000000000100.log"]


def test_offsets_for_timestamp(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=700, index_interval_bytes=1)
    for i in range(20):  # batch i holds offsets 3i..3i+2 with timestamps T0+10i..T0+10i+2
        log.append(batch(3, ts=T0 + 10 * i), leader_epoch=2)
    assert len(log.segments) > 2
    for target, expected in [(T0, 0), (T0 + 1, 1), (T0 + 2, 2), (T0 + 3, 3), (T0 + 55, 18),
                             (T0 + 192, 59), (0, 0)]:  # fmt: skip
        found = log.fetch_offset_by_timestamp(target)
        assert found is not None and found.offset == expected, target
        assert found.timestamp >= target and found.leader_epoch == 2
    assert log.fetch_offset_by_timestamp(T0 + 193) is None
    assert log.fetch_offset_by_timestamp(LATEST_TIMESTAMP).offset == 60  # type: ignore[union-attr]
    assert log.fetch_offset_by_timestamp(EARLIEST_TIMESTAMP).offset == 0  # type: ignore[union-attr]
    top = log.fetch_offset_by_timestamp(MAX_TIMESTAMP)
    assert top is not None and top.timestamp == T0 + 192 and top.offset == 59
    log.close()
    log = open_log(tmp_path / "t-0", segment_bytes=700, index_interval_bytes=1)
    assert log.fetch_offset_by_timestamp(T0 + 55).offset == 18  # type: ignore[union-attr]


def test_unsorted_timestamps(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    log.append(batch(1, ts=T0 + 100))
    log.append(batch(1, ts=T0 + 50))
    log.append(batch(1, ts=T0 + 200))
    assert log.fetch_offset_by_timestamp(T0 + 60).offset == 0  # type: ignore[union-attr]
    assert log.fetch_offset_by_timestamp(T0 + 150).offset == 2  # type: ignore[union-attr]


def test_batches_without_timestamps_still_get_offset_index_entries(tmp_path: Path) -> None:
    """Timestamp -1 (NO_TIMESTAMP) batches must not break the index when an entry falls due."""
    log = open_log(tmp_path / "t-0", index_interval_bytes=100)
    for i in range(20):
        data = bytearray(build_batch([Record(b"k%d" % i, b"v" * 50)]))
        log.append(data, leader_epoch=0)
    assert log.log_end_offset == 20
    assert [r[0] for r in read_all(log, 7)] == list(range(7, 20))
    log.close()
