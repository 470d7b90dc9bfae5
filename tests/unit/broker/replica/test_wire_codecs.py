"""Hand-written Produce/Fetch codecs: byte-identical to kio's, and bounds-checked."""

from __future__ import annotations

import struct
import sys
from datetime import timedelta
from typing import Any

import pytest

from kcli.broker.handlers.produce import check_records
from kcli.protocol.batch import Compression
from kcli.protocol.errors import ErrorCode, InvalidRequest
from kcli.protocol.fetch_wire import FetchPartitionResponse, encode_fetch_response
from kcli.protocol.messages import build, encode_body, request_class, response_class
from kcli.protocol.produce_wire import (
    ProducePartitionResult,
    decode_produce_request,
    encode_produce_response,
)
from kcli.protocol.records import Record, build_batch

BATCH = build_batch([Record(b"k", b"v"), Record(None, b"w")])


def _module(cls: type[Any]) -> Any:
    return sys.modules[cls.__module__]


@pytest.mark.parametrize("version", range(3, 10))
def test_produce_request_decodes_like_kio_encodes(version: int) -> None:
    cls = request_class(0, version)
    mod = _module(cls)
    request = build(
        cls,
        transactional_id=None,
        acks=-1,
        timeout=timedelta(milliseconds=1500),
        topic_data=(
            mod.TopicProduceData(
                name="orders",
                partition_data=(
                    mod.PartitionProduceData(index=0, records=BATCH),
                    mod.PartitionProduceData(index=3, records=None),
                ),
            ),
        ),
    )
    body = encode_body(request)
    got = decode_produce_request(b"\x00" * 7 + body, 7, version)
    assert (got.transactional_id, got.acks, got.timeout_ms) == (None, -1, 1500)
    [(name, parts)] = got.topics
    assert name == "orders"
    assert [p.index for p in parts] == [0, 3]
    assert parts[0].records is not None and bytes(parts[0].records) == BATCH
    assert parts[1].records is None


@pytest.mark.parametrize("version", range(3, 10))
def test_produce_request_garbage_counts_are_refused(version: int) -> None:
    flexible = version >= 9
    head = (b"\x00" if flexible else b"\xff\xff") + struct.pack(">hi", 1, 1000)
    huge = b"\xff\xff\xff\xff\x0f" if flexible else struct.pack(">i", 2**31 - 1)
    with pytest.raises(InvalidRequest):
        decode_produce_request(head + huge, 0, version)
    with pytest.raises(InvalidRequest):  # truncated in the middle of a partition
        decode_produce_request(
            head + (b"\x02\x02a\x02" if flexible else b"\x00\x00\x00\x01"), 0, version
        )


@pytest.mark.parametrize("version", range(3, 10))
def test_produce_response_matches_kio(version: int) -> None:
    cls = response_class(0, version)
    mod = _module(cls)
    parts = [
        ProducePartitionResult(0, 0, 42, -1, 0),
        ProducePartitionResult(1, ErrorCode.corrupt_message, -1, -1, -1, "bad crc"),
    ]
    kio_parts = tuple(
        build(
            mod.PartitionProduceResponse,
            index=p.index,
            error_code=ErrorCode(p.error_code),
            base_offset=p.base_offset,
            log_append_time=None,
            log_start_offset=p.log_start_offset,
            record_errors=(),
            error_message=p.error_message,
        )
        for p in parts
    )
    expected = encode_body(
        build(
            cls,
            responses=(mod.TopicProduceResponse(name="orders", partition_responses=kio_parts),),
            throttle_time=timedelta(0),
        )
    )
    assert encode_produce_response(version, [("orders", parts)]) == expected


@pytest.mark.parametrize("version", range(4, 13))
def test_fetch_response_matches_kio(version: int) -> None:
    cls = response_class(1, version)
    mod = _module(cls)
    kio_parts = (
        build(
            mod.PartitionData,
            partition_index=0,
            error_code=ErrorCode.none,
            high_watermark=2,
            last_stable_offset=2,
            log_start_offset=0,
            aborted_transactions=None,
            preferred_read_replica=-1,
            records=BATCH,
        ),
        build(
            mod.PartitionData,
            partition_index=1,
            error_code=ErrorCode.offset_out_of_range,
            high_watermark=-1,
            last_stable_offset=-1,
            log_start_offset=-1,
            aborted_transactions=None,
            preferred_read_replica=-1,
            records=b"",
        ),
    )
    expected = encode_body(
        build(
            cls,
            throttle_time=timedelta(0),
            error_code=ErrorCode.none,
            session_id=0,
            responses=(mod.FetchableTopicResponse(topic="orders", partitions=kio_parts),),
        )
    )
    mine = encode_fetch_response(
        version,
        [
            (
                "orders",
                [
                    FetchPartitionResponse(0, 0, 2, 2, 0, BATCH, len(BATCH)),
                    FetchPartitionResponse(1, ErrorCode.offset_out_of_range),
                ],
            )
        ],
    )
    assert b"".join(mine) == expected
    assert BATCH in mine  # the records object is passed through, not copied into a chunk


def _with(offset: int, fmt: str, value: int) -> memoryview:
    raw = bytearray(BATCH)
    struct.pack_into(fmt, raw, offset, value)
    return memoryview(raw)


@pytest.mark.parametrize(
    ("records", "version", "code"),
    [
        (memoryview(BATCH), 9, ErrorCode.none),
        (None, 9, ErrorCode.invalid_record),
        (memoryview(BATCH[:16]), 9, ErrorCode.invalid_record),
        (memoryview(BATCH[:-1]), 9, ErrorCode.invalid_record),  # a cut batch
        (memoryview(BATCH + BATCH), 9, ErrorCode.invalid_record),  # two batches
        (_with(16, ">b", 1), 9, ErrorCode.invalid_record),  # magic 1
        (_with(16, ">b", 3), 9, ErrorCode.corrupt_message),  # no such magic
        (_with(8, ">i", 10), 9, ErrorCode.corrupt_message),  # length below any record
        (_with(21, ">h", Compression.ZSTD), 6, ErrorCode.unsupported_compression_type),
        (_with(21, ">h", Compression.ZSTD), 7, ErrorCode.none),
    ],
)
def test_check_records_follows_kafkas_validate_records(
    records: memoryview | None, version: int, code: int
) -> None:
    got, _, batch = check_records(records, version)
    assert got == code
    assert (batch is not None) == (code == ErrorCode.none)


def test_check_records_drops_a_trailing_fragment() -> None:
    code, _, batch = check_records(memoryview(BATCH + b"\x00" * 5), 9)
    assert code == ErrorCode.none and batch is not None and bytes(batch) == BATCH
