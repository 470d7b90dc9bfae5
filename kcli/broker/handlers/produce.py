"""Produce (0): batch-level append to the partition leaders.

The body is read by hand (kcli.protocol.produce_wire: one bounds-checked pass, records left as
views into the frame). Versions 0-2 are advertised only so that old librdkafka (kcat) turns
compression on; they are answered UNSUPPORTED_VERSION, as Kafka 4.0 does (KAFKA-18659).

Per partition, before storage sees the bytes, Kafka's ProduceRequest.validateRecords (v3+):
exactly one batch, of magic 2 (fewer than 17 bytes or a cut batch -> INVALID_RECORD; a magic
above 2 or a length below 14 -> CORRUPT_MESSAGE; magic 0/1 -> INVALID_RECORD), no zstd below
v7 (UNSUPPORTED_COMPRESSION_TYPE). Storage then checks size (MESSAGE_TOO_LARGE,
RECORD_LIST_TOO_LARGE) and CRC (CORRUPT_MESSAGE), and idempotence is checked per producer.
acks: 0 = no response at all (the connection is closed if a partition failed, as Kafka does,
so the client notices); 1 = after the local append; -1 = when the high watermark passes the
batch (ReplicaManager's purgatory); anything else -> INVALID_REQUIRED_ACKS.
"""

from __future__ import annotations

import struct

from kcli.broker.handlers.base import RawResponse, RequestContext
from kcli.broker.handlers.replica_errors import error_code
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.batch import COMPRESSION_MASK, Compression
from kcli.protocol.errors import ErrorCode, KafkaProtocolError, error_name
from kcli.protocol.messages import RequestHeader
from kcli.protocol.produce_wire import (
    FLEXIBLE_FROM,
    ProducePartitionResult,
    ProduceRequestData,
    decode_produce_request,
    encode_produce_response,
)
from kcli.storage.files import TopicPartition

API_KEY = ApiKey.PRODUCE
MIN_VERSION = 0
MAX_VERSION = 9
FIRST_SUPPORTED = 3  # magic-2 record batches

HEADER_SIZE_UP_TO_MAGIC = 17
RECORD_OVERHEAD_V0 = 14
_LENGTH_MAGIC = struct.Struct(">8xi4xb")  # batchLength@8, magic@16
_ATTRIBUTES = struct.Struct(">h")


def decode(header: RequestHeader, frame: bytes) -> ProduceRequestData:
    return decode_produce_request(frame, header.size, header.api_version)


def check_records(
    records: memoryview | None, version: int
) -> tuple[int, str | None, memoryview | None]:
    """Kafka's ProduceRequest.validateRecords: (error code, message, the one batch)."""
    n = 0 if records is None else len(records)
    if records is None or n < HEADER_SIZE_UP_TO_MAGIC:
        return (
            ErrorCode.invalid_record,
            f"Produce requests with version {version} must have at least one record batch "
            "per partition",
            None,
        )
    length, magic = _LENGTH_MAGIC.unpack_from(records, 0)
    if magic < 0 or magic > 2:
        return ErrorCode.corrupt_message, f"Invalid magic found in record: {magic}", None
    if length < RECORD_OVERHEAD_V0:
        return ErrorCode.corrupt_message, f"Record size {length} is less than the minimum", None
    size = length + 12
    if size > n:
        return (
            ErrorCode.invalid_record,
            f"Produce requests with version {version} must have at least one record batch "
            "per partition",
            None,
        )
    if magic != 2:
        return (
            ErrorCode.invalid_record,
            f"Produce requests with version {version} are only allowed to contain record "
            "batches with magic version 2",
            None,
        )
    if version < 7:  # size >= 26 here, so the attributes (bytes 21-22) are present
        (attributes,) = _ATTRIBUTES.unpack_from(records, 21)
        if attributes & COMPRESSION_MASK == Compression.ZSTD:
            return (
                ErrorCode.unsupported_compression_type,
                f"Produce requests with version {version} are not allowed to use ZStandard "
                "compression",
                None,
            )
    if n - size >= HEADER_SIZE_UP_TO_MAGIC:
        (next_length,) = struct.unpack_from(">i", records, size + 8)
        if next_length + 12 <= n - size:
            return (
                ErrorCode.invalid_record,
                f"Produce requests with version {version} are only allowed to contain "
                "exactly one record batch per partition",
                None,
            )
    return ErrorCode.none, None, records[:size] if size < n else records


async def handle(
    ctx: RequestContext, header: RequestHeader, request: ProduceRequestData
) -> RawResponse | None:
    version = header.api_version
    acks = request.acks
    results: dict[TopicPartition, ProducePartitionResult] = {}
    entries: list[tuple[TopicPartition, memoryview]] = []
    for name, partitions in request.topics:
        for p in partitions:
            tp = TopicPartition(name, p.index)
            result = results[tp] = ProducePartitionResult(p.index)
            if version < FIRST_SUPPORTED:
                result.error_code = ErrorCode.unsupported_version
                continue
            if acks not in (-1, 0, 1):
                result.error_code = ErrorCode.invalid_required_acks
                continue
            code, message, batch = check_records(p.records, version)
            if code != ErrorCode.none or batch is None:
                result.error_code, result.error_message = code, message
                continue
            entries.append((tp, batch))
    if entries:
        replica_manager = ctx.broker.replica_manager
        assert replica_manager is not None
        appended = await replica_manager.append_records(request.timeout_ms, acks, entries)
        for r in appended:
            result = results[r.tp]
            if r.error is not None:
                result.error_code = error_code(r.error)
                result.error_message = str(r.error) or None
            elif r.info is not None:
                result.base_offset = r.info.first_offset
                result.log_append_time_ms = r.info.log_append_time
                result.log_start_offset = r.info.log_start_offset
    if acks == 0:
        failed = [r for r in results.values() if r.error_code != ErrorCode.none]
        if failed:
            raise KafkaProtocolError(
                f"produce with acks=0 failed: {error_name(failed[0].error_code)}"
            )
        return None
    topics: dict[str, list[ProducePartitionResult]] = {}
    for tp, result in results.items():
        topics.setdefault(tp.topic, []).append(result)
    body = encode_produce_response(version, list(topics.items()))
    return RawResponse((body,), 1 if version >= FLEXIBLE_FROM else 0)
