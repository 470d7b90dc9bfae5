"""OffsetCommit (8), v2-v8: a member (or a simple consumer / admin with generation -1 and an
empty member id) commits offsets; answered once the OffsetCommit records are committed to
__consumer_offsets (acks=all).

v2-v4 carry retention_time (-1 = broker default; otherwise the record gets an expire
timestamp, value v1); v6+ committed_leader_epoch; v7+ group.instance.id. Partitions of unknown
topics get UNKNOWN_TOPIC_OR_PARTITION; metadata over offset.metadata.max.bytes
OFFSET_METADATA_TOO_LARGE.
"""

from __future__ import annotations

from typing import Any

from kcli.broker.admin_manager import timeout_ms
from kcli.broker.group.member import OffsetAndMetadata
from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import (
    NO_THROTTLE,
    partition_exists,
    runtime_or_error,
)
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.OFFSET_COMMIT
MIN_VERSION = 2
MAX_VERSION = 8


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    retention_ms = timeout_ms(getattr(request, "retention_time", -1)) if version <= 4 else -1
    runtime, group_error = runtime_or_error(ctx, request.group_id)
    now = runtime.now() if runtime is not None else 0
    errors: dict[tuple[str, int], ErrorCode] = {}
    wanted: dict[tuple[str, int], OffsetAndMetadata] = {}
    for topic in request.topics:
        for p in topic.partitions:
            tp = (topic.name, int(p.partition_index))
            if group_error != ErrorCode.none:
                errors[tp] = group_error
            elif not partition_exists(ctx, *tp):
                errors[tp] = ErrorCode.unknown_topic_or_partition
            else:
                errors[tp] = ErrorCode.none
                wanted[tp] = OffsetAndMetadata(
                    offset=int(p.committed_offset),
                    leader_epoch=int(getattr(p, "committed_leader_epoch", -1)),
                    metadata=p.committed_metadata or "",
                    expire_timestamp_ms=now + retention_ms if retention_ms >= 0 else -1,
                )
    if runtime is not None and wanted:
        coordinator = runtime.coordinator
        response = await runtime.run(
            lambda _token, at: coordinator.commit_offsets(
                request.group_id,
                member_id=request.member_id,
                instance_id=getattr(request, "group_instance_id", None),
                generation=int(request.generation_id_or_member_epoch),
                offsets=wanted,
                now=at,
            )
        )
        errors.update(response.partitions)
    cls = response_class(API_KEY, version)
    topic_cls = nested(cls, "OffsetCommitResponseTopic")
    partition_cls = nested(cls, "OffsetCommitResponsePartition")
    by_topic: dict[str, list[Any]] = {}
    for (topic_name, index), code in errors.items():
        by_topic.setdefault(topic_name, []).append(
            partition_cls(partition_index=index, error_code=code)
        )
    topics = tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items())
    return build(cls, throttle_time=NO_THROTTLE, topics=topics)
