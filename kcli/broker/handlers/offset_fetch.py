"""OffsetFetch (9), v1-v8: a group's committed offsets.

v1 names partitions; v2+ may ask for all (topics null) and has a top-level error; v5+ return
the committed leader epoch; v7+ carry require_stable: a partition whose commit is still being
written answers UNSTABLE_OFFSET_COMMIT (the client retries) instead of the older offset; v8
asks for several groups at once. A partition without a commit answers offset -1.
"""

from __future__ import annotations

from typing import Any

from kcli.broker.group.results import OffsetFetchResult
from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.OFFSET_FETCH
MIN_VERSION = 1
MAX_VERSION = 8


def fetch(ctx: RequestContext, group_id: str, topics: Any) -> OffsetFetchResult:
    wanted = (
        None if topics is None else [(t.name, int(p)) for t in topics for p in t.partition_indexes]
    )
    runtime, error = runtime_or_error(ctx, group_id)
    if runtime is None:
        return OffsetFetchResult(error, dict.fromkeys(wanted or [], None))
    return runtime.coordinator.fetch_offsets(group_id, wanted)


def _topics(
    version: int, result: OffsetFetchResult, require_stable: bool, topic_cls: Any, part_cls: Any
) -> Any:
    by_topic: dict[str, list[Any]] = {}
    group_error = result.error if version < 2 else ErrorCode.none
    for (topic, index), found in result.offsets.items():
        om, error = found, group_error
        if require_stable and (topic, index) in result.unstable:
            om, error = None, ErrorCode.unstable_offset_commit
        by_topic.setdefault(topic, []).append(
            build(
                part_cls,
                partition_index=index,
                committed_offset=om.offset if om is not None else -1,
                committed_leader_epoch=om.leader_epoch if om is not None else -1,
                metadata=om.metadata if om is not None else "",
                error_code=error,
            )
        )
    return tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items())


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    cls = response_class(API_KEY, version)
    if version >= 8:
        group_cls = nested(cls, "OffsetFetchResponseGroup")
        topic_cls = nested(cls, "OffsetFetchResponseTopics")
        part_cls = nested(cls, "OffsetFetchResponsePartitions")
        groups = []
        for g in request.groups:
            result = fetch(ctx, g.group_id, g.topics)
            stable = bool(request.require_stable)
            topics = (
                ()
                if result.error != ErrorCode.none
                else _topics(8, result, stable, topic_cls, part_cls)
            )
            groups.append(group_cls(group_id=g.group_id, topics=topics, error_code=result.error))
        return build(cls, throttle_time=NO_THROTTLE, groups=tuple(groups))
    topic_cls = nested(cls, "OffsetFetchResponseTopic")
    part_cls = nested(cls, "OffsetFetchResponsePartition")
    result = fetch(ctx, request.group_id, request.topics)
    if version >= 2 and result.error != ErrorCode.none:
        return build(cls, throttle_time=NO_THROTTLE, topics=(), error_code=result.error)
    return build(
        cls,
        throttle_time=NO_THROTTLE,
        topics=_topics(
            version, result, bool(getattr(request, "require_stable", False)), topic_cls, part_cls
        ),
        error_code=result.error,
    )
