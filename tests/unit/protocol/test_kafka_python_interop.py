"""Cross-check against an independent codec: kafka-python's DefaultRecordBatch(Builder).

Batches kcli builds must read identically in kafka-python, and batches kafka-python builds must
read identically in kcli, for every codec.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.protocol import batch as batchmod
from kcli.protocol.batch import Compression
from kcli.protocol.records import Record, build_batch, iter_records

kafka_codec = pytest.importorskip("kafka.codec", reason="kafka-python is not installed")
default_records = pytest.importorskip("kafka.record.default_records")

_HAVE = {
    Compression.NONE: True,
    Compression.GZIP: kafka_codec.has_gzip(),
    Compression.SNAPPY: kafka_codec.has_snappy(),
    Compression.LZ4: kafka_codec.has_lz4(),
    Compression.ZSTD: kafka_codec.has_zstd(),
}
CODECS = [
    pytest.param(
        c,
        marks=pytest.mark.skipif(
            not _HAVE[c], reason=f"kafka-python lacks {c.name.lower()} (python-snappy/zstandard)"
        ),
    )
    for c in Compression
]

optional_bytes = st.none() | st.binary(max_size=200)
record_lists = st.lists(
    st.tuples(
        optional_bytes,
        optional_bytes,
        st.integers(0, 2**44),
        st.lists(st.tuples(st.text(max_size=8), optional_bytes), max_size=2),
    ),
    min_size=1,
    max_size=8,
)


def _kp_view(buf: bytes) -> list[tuple[object, ...]]:
    batch = default_records.DefaultRecordBatch(bytearray(buf))
    assert batch.validate_crc()
    return [(r.offset, r.timestamp, r.key, r.value, [tuple(h) for h in r.headers]) for r in batch]


@pytest.mark.parametrize("codec", CODECS)
@settings(max_examples=25, deadline=None)
@given(recs=record_lists, base_offset=st.integers(0, 2**40), seq=st.integers(-1, 1000))
def test_kcli_batches_read_by_kafka_python(
    codec: Compression,
    recs: list[tuple[bytes | None, bytes | None, int, list[tuple[str, bytes | None]]]],
    base_offset: int,
    seq: int,
) -> None:
    raw = build_batch(
        [Record(k, v, ts, tuple(h)) for k, v, ts, h in recs],
        base_offset,
        compression=codec,
        producer_id=11 if seq >= 0 else -1,
        producer_epoch=2 if seq >= 0 else -1,
        base_sequence=seq,
    )
    batch = default_records.DefaultRecordBatch(bytearray(raw))
    assert batch.compression_type == int(codec)
    assert batch.base_sequence == seq
    assert batch.last_offset == base_offset + len(recs) - 1
    assert _kp_view(raw) == [
        (base_offset + i, ts, k, v, [tuple(x) for x in h]) for i, (k, v, ts, h) in enumerate(recs)
    ]


@pytest.mark.parametrize("codec", CODECS)
@settings(max_examples=25, deadline=None)
@given(recs=record_lists, transactional=st.booleans())
def test_kafka_python_batches_read_by_kcli(
    codec: Compression,
    recs: list[tuple[bytes | None, bytes | None, int, list[tuple[str, bytes | None]]]],
    transactional: bool,
) -> None:
    builder = default_records.DefaultRecordBatchBuilder(
        magic=2,
        compression_type=int(codec),
        is_transactional=transactional,
        producer_id=5 if transactional else -1,
        producer_epoch=0 if transactional else -1,
        base_sequence=0 if transactional else -1,
        batch_size=1 << 22,
    )
    for i, (k, v, ts, h) in enumerate(recs):
        assert builder.append(i, timestamp=ts, key=k, value=v, headers=h) is not None
    raw = bytes(builder.build())
    header = batchmod.parse_header(raw)
    assert batchmod.verify_crc(raw, header)
    # kafka-python stores small batches uncompressed when compression would not pay.
    assert header.compression in (codec, Compression.NONE)
    assert header.is_transactional == transactional
    mine = [
        (r.offset, r.timestamp, r.key, r.value, [tuple(x) for x in r.headers])
        for r in iter_records(raw)
    ]
    assert mine == _kp_view(raw)
    assert mine == [(i, ts, k, v, [tuple(x) for x in h]) for i, (k, v, ts, h) in enumerate(recs)]


def test_cleaner_shaped_batches_read_by_kafka_python() -> None:
    """What the cleaner writes: an emptied batch kept for producer state, a rebuilt batch with a
    gap in its offsets, a tombstone batch carrying a delete horizon."""
    empty = build_batch(
        [],
        40,
        producer_id=3,
        producer_epoch=1,
        base_sequence=7,
        last_offset_delta=2,
        max_timestamp=9,
    )
    batch = default_records.DefaultRecordBatch(bytearray(empty))
    assert batch.validate_crc()
    assert (batch.base_offset, batch.last_offset, batch.last_sequence) == (40, 42, 9)
    assert list(batch) == []
    gappy = build_batch(
        [Record(b"a", b"1", 5, offset=10), Record(b"b", None, 6, offset=13)],
        10,
        delete_horizon_ms=1000,
        last_offset_delta=4,
    )
    assert _kp_view(gappy) == [(10, 5, b"a", b"1", []), (13, 6, b"b", None, [])]
