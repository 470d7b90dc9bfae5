"""Fetch (1), v4-v12: consumers read below the high watermark, followers below the log end.

Long poll: when less than `min_bytes` is available the request waits in the ReplicaManager's
fetch purgatory, woken by appends, until `max_wait_ms`. Zero-copy: a partition's records go
out as a file region of its segment (the network layer sends it with `loop.sendfile`); reads
under SENDFILE_MIN_BYTES are copied instead.

Fetch sessions (KIP-227) are answered statelessly: a full request (session epoch 0 or -1) gets
session_id 0, which tells the client no session was made, so it keeps sending full requests;
an incremental one (epoch > 0) names a session we never created: FETCH_SESSION_ID_NOT_FOUND,
which makes the client start over with a full request. Transactions are not implemented yet,
so last_stable_offset = high watermark and no aborted transactions (null, as Kafka sends for
read_uncommitted).
"""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import FileRegion, RawResponse, RequestContext
from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.replica.manager import FetchPartition
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.fetch_wire import FLEXIBLE_FROM, FetchPartitionResponse, encode_fetch_response
from kcli.protocol.messages import RequestHeader
from kcli.storage.files import TopicPartition

API_KEY = ApiKey.FETCH
MIN_VERSION = 4
MAX_VERSION = 12

# asyncio's sendfile first waits for the write buffer to drain and pauses reading around the
# call; for a few KB one pread + write is the simpler round trip
SENDFILE_MIN_BYTES = 64 * 1024
Records = bytes | memoryview | FileRegion  # a RawResponse part


def _ms(value: Any) -> int:
    return int(value.total_seconds() * 1000) if hasattr(value, "total_seconds") else int(value)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> RawResponse:
    version = header.api_version
    header_version = 1 if version >= FLEXIBLE_FROM else 0
    if version >= 7 and request.session_epoch > 0:
        none: list[tuple[str, list[FetchPartitionResponse[Records]]]] = []
        body = encode_fetch_response(
            version, none, error_code=ErrorCode.fetch_session_id_not_found, session_id=0
        )
        return RawResponse(tuple(body), header_version)
    wanted: list[FetchPartition] = []
    layout: list[tuple[str, list[int]]] = []
    for topic in request.topics:
        indexes = []
        for p in topic.partitions:
            wanted.append(
                FetchPartition(
                    TopicPartition(topic.topic, p.partition),
                    int(p.fetch_offset),
                    int(p.partition_max_bytes),
                    int(getattr(p, "current_leader_epoch", -1)),
                )
            )
            indexes.append(p.partition)
        layout.append((topic.topic, indexes))
    replica_manager = ctx.broker.replica_manager
    assert replica_manager is not None
    results = await replica_manager.fetch_messages(
        int(request.replica_id),
        _ms(request.max_wait),
        int(request.min_bytes),
        int(request.max_bytes),
        wanted,
    )
    topics: list[tuple[str, list[FetchPartitionResponse[Records]]]] = []
    i = 0
    for name, indexes in layout:
        parts: list[FetchPartitionResponse[Records]] = []
        for index in indexes:
            r = results[i]
            i += 1
            if r.error is not None:
                parts.append(FetchPartitionResponse(index, error_code(r.error)))
                continue
            records: Records | None = None
            data = r.data
            size = data.size if data is not None else 0
            if data is not None and size:
                if size >= SENDFILE_MIN_BYTES and data.file is not None:
                    records = FileRegion(data.file, data.position, size)
                else:
                    records = data.to_bytes()
                    size = len(records)
            parts.append(
                FetchPartitionResponse(
                    index,
                    ErrorCode.none,
                    r.high_watermark,
                    r.last_stable_offset,
                    r.log_start_offset,
                    records,
                    size,
                )
            )
        topics.append((name, parts))
    return RawResponse(tuple(encode_fetch_response(version, topics)), header_version)
