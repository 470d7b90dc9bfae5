"""Record v2 encoding/decoding, batch building and control records."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import Compression, CorruptBatchError, TimestampType
from kcli.protocol.records import (
    BatchBuilder,
    ControlRecordType,
    CorruptRecordError,
    Record,
    build_batch,
    build_end_txn_batch,
    decode_records,
    iter_records,
    parse_control_type,
    parse_end_txn_marker,
    read_batch,
    read_varint,
    unzigzag,
    varint_size,
    write_varint,
    zigzag,
)

optional_bytes = st.none() | st.binary(max_size=300)
headers = st.lists(st.tuples(st.text(max_size=12), optional_bytes).map(tuple), max_size=3).map(
    tuple
)
records = st.lists(
    st.builds(
        Record,
        key=optional_bytes,
        value=optional_bytes,
        timestamp=st.integers(0, 2**45),
        headers=headers,
    ),
    min_size=1,
    max_size=12,
)


@settings(deadline=None)
@given(st.integers(-(2**63), 2**63 - 1))
def test_varint_round_trip(value: int) -> None:
    out = bytearray()
    write_varint(out, value)
    assert len(out) == varint_size(value)
    assert read_varint(bytes(out), 0) == (value, len(out))
    assert unzigzag(zigzag(value)) == value


def test_zigzag_known_values() -> None:
    # Kafka's ByteUtils: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3; 300 -> ac 02 unsigned, 150 zigzagged.
    assert [zigzag(v) for v in (0, -1, 1, -2, 2)] == [0, 1, 2, 3, 4]
    out = bytearray()
    write_varint(out, 150)
    assert bytes(out) == b"\xac\x02"


def test_overlong_varint_is_corrupt() -> None:
    with pytest.raises(CorruptRecordError):
        read_varint(b"\xff" * 6, 0, 5)
    with pytest.raises(CorruptRecordError):
        read_varint(b"\x80", 0)


@settings(max_examples=60, deadline=None)
@given(
    records,
    st.sampled_from(list(Compression)),
    st.integers(0, 2**40),
    st.integers(-1, 2**31 - 20),
)
def test_build_iter_round_trip(
    recs: list[Record], codec: Compression, base_offset: int, base_sequence: int
) -> None:
    raw = build_batch(
        recs,
        base_offset,
        compression=codec,
        producer_id=7 if base_sequence >= 0 else -1,
        base_sequence=base_sequence,
    )
    header = batchmod.parse_header(raw)
    assert batchmod.verify_crc(raw, header)
    assert header.size == len(raw)
    assert header.compression == codec
    assert header.records_count == len(recs)
    assert header.last_offset == base_offset + len(recs) - 1
    assert header.max_timestamp == max(r.timestamp for r in recs)
    out = list(iter_records(raw))
    assert [(r.key, r.value, r.timestamp, r.headers) for r in out] == [
        (r.key, r.value, r.timestamp, r.headers) for r in recs
    ]
    assert [r.offset for r in out] == list(range(base_offset, base_offset + len(recs)))
    if base_sequence >= 0:
        assert [r.sequence for r in out] == [base_sequence + i for i in range(len(recs))]
    else:
        assert all(r.sequence == -1 for r in out)


def test_explicit_offsets_keep_gaps_and_last_offset_delta() -> None:
    recs = [Record(b"k1", b"v", 5, offset=103), Record(b"k2", b"v", 6, offset=107)]
    raw = build_batch(
        recs, 100, last_offset_delta=9, producer_id=3, producer_epoch=2, base_sequence=40
    )
    header, out = read_batch(raw)
    assert [r.offset for r in out] == [103, 107]
    assert header.last_offset == 109
    assert header.last_sequence == 49
    assert [r.sequence for r in out] == [43, 47]
    with pytest.raises(ValueError, match="increase"):
        build_batch([Record(b"a", b"b", offset=5), Record(b"a", b"b", offset=5)], 0)
    with pytest.raises(ValueError, match="increase"):
        build_batch([Record(b"a", b"b", offset=3)], 4)


def test_empty_batch_keeps_producer_state() -> None:
    raw = build_batch(
        [],
        50,
        producer_id=9,
        producer_epoch=1,
        base_sequence=10,
        last_offset_delta=4,
        max_timestamp=77,
    )
    header, out = read_batch(raw)
    assert out == []
    assert (header.base_offset, header.last_offset, header.records_count) == (50, 54, 0)
    assert (header.producer_id, header.last_sequence, header.max_timestamp) == (9, 14, 77)
    with pytest.raises(ValueError):
        build_batch([], 0)


def test_log_append_time_reads_max_timestamp() -> None:
    raw = build_batch(
        [Record(b"a", b"1", 10), Record(b"b", b"2", 20)],
        timestamp_type=TimestampType.LOG_APPEND_TIME,
        max_timestamp=999,
    )
    header, out = read_batch(raw)
    assert header.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert [r.timestamp for r in out] == [999, 999]


def test_delete_horizon_is_base_timestamp_and_deltas_follow_it() -> None:
    recs = [Record(b"a", None, 1000), Record(b"b", b"x", 1500)]
    raw = build_batch(recs, delete_horizon_ms=5000, compression=Compression.LZ4)
    header, out = read_batch(raw)
    assert header.has_delete_horizon
    assert header.base_timestamp == 5000
    assert header.max_timestamp == 1500
    assert [r.timestamp for r in out] == [1000, 1500]


def test_batch_builder() -> None:
    builder = BatchBuilder(base_offset=3, compression=Compression.GZIP)
    builder.append(b"k", b"v", 1, [("h", b"1")])
    builder.append(None, b"w", 2)
    assert len(builder) == 2
    out = list(iter_records(builder.build()))
    assert [(r.offset, r.key, r.headers) for r in out] == [(3, b"k", (("h", b"1"),)), (4, None, ())]


def test_transaction_markers() -> None:
    raw = build_end_txn_batch(ControlRecordType.COMMIT, 42, 3, coordinator_epoch=7, base_offset=20)
    header, out = read_batch(raw)
    assert header.is_control and header.is_transactional
    assert (header.producer_id, header.producer_epoch) == (42, 3)
    assert parse_control_type(out[0].key) == ControlRecordType.COMMIT
    marker = parse_end_txn_marker(out[0])
    assert (marker.control_type, marker.coordinator_epoch) == (ControlRecordType.COMMIT, 7)
    abort = read_batch(build_end_txn_batch(ControlRecordType.ABORT, 1, 0, coordinator_epoch=0))[1][
        0
    ]
    assert parse_end_txn_marker(abort).control_type == ControlRecordType.ABORT
    with pytest.raises(CorruptRecordError):
        parse_control_type(b"\x00")
    with pytest.raises(CorruptRecordError):
        parse_end_txn_marker(Record(b"\x00\x00\x00\x05", b"\x00\x00\x00\x00\x00\x00"))


def test_several_batches_iterate_in_order() -> None:
    buf = build_batch([Record(b"a", b"1", 1)], 0) + build_batch(
        [Record(b"b", b"2", 2)], 1, compression=Compression.SNAPPY
    )
    assert [r.key for r in iter_records(buf)] == [b"a", b"b"]


def test_crc_failure_and_short_batch() -> None:
    raw = bytearray(build_batch([Record(b"a", b"1", 1)]))
    raw[-2] ^= 0xFF  # the value byte (the last byte is the header count)
    with pytest.raises(CorruptBatchError, match="CRC"):
        read_batch(raw)
    # Without CRC checking the (intact) records still decode: the flipped byte is in the value.
    assert [r.key for r in iter_records(bytes(raw), verify=False)] == [b"a"]
    with pytest.raises(CorruptBatchError):
        read_batch(bytes(raw[:-3]))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 5))
def test_garbage_records_raise_only_corrupt_record_error(data: bytes, count: int) -> None:
    header = batchmod.parse_header(build_batch([Record(b"a", b"b", 1)]))
    fake = batchmod.BatchHeader(**{**_fields(header), "records_count": count})
    with contextlib.suppress(CorruptRecordError):
        decode_records(data, fake)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Compression)), st.data())
def test_flipped_bytes_in_compressed_batch_are_reported(
    codec: Compression, data: st.DataObject
) -> None:
    raw = bytearray(build_batch([Record(b"key", b"value" * 20, 5)] * 3, compression=codec))
    index = data.draw(st.integers(batchmod.HEADER_SIZE, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CorruptBatchError):
        read_batch(raw)  # the CRC catches it
    header = batchmod.parse_header(raw)
    with contextlib.suppress(CorruptRecordError):  # without the CRC: decodes or fails cleanly
        read_batch(raw, verify=False)
    assert header.records_count == 3


def _fields(header: batchmod.BatchHeader) -> dict[str, int]:
    return {name: getattr(header, name) for name in header.__slots__}  # type: ignore[attr-defined]
