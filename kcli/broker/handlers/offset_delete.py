"""OffsetDelete (47), v0: delete a group's committed offsets for some partitions. Allowed
for an Empty group, and for an active consumer group only on topics no member subscribes to
(GROUP_SUBSCRIBED_TO_TOPIC otherwise)."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, partition_exists, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.OFFSET_DELETE
MIN_VERSION = 0
MAX_VERSION = 0


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    topic_cls = nested(cls, "OffsetDeleteResponseTopic")
    part_cls = nested(cls, "OffsetDeleteResponsePartition")
    runtime, error = runtime_or_error(ctx, request.group_id)
    if runtime is None:
        return build(cls, error_code=error, throttle_time=NO_THROTTLE, topics=())
    errors: dict[tuple[str, int], ErrorCode] = {}
    wanted: list[tuple[str, int]] = []
    for t in request.topics:
        for p in t.partitions:
            tp = (t.name, int(p.partition_index))
            if partition_exists(ctx, *tp):
                wanted.append(tp)
            else:
                errors[tp] = ErrorCode.unknown_topic_or_partition
    coordinator = runtime.coordinator
    response = await runtime.run(
        lambda _token, now: coordinator.delete_offsets(request.group_id, wanted, now)
    )
    if response.error not in (ErrorCode.none, ErrorCode.group_subscribed_to_topic):
        return build(cls, error_code=response.error, throttle_time=NO_THROTTLE, topics=())
    errors.update(response.partitions)
    by_topic: dict[str, list[Any]] = {}
    for (name, index), code in errors.items():
        by_topic.setdefault(name, []).append(part_cls(partition_index=index, error_code=code))
    topics = tuple(topic_cls(name=n, partitions=tuple(ps)) for n, ps in by_topic.items())
    top = (
        ErrorCode.none if response.error == ErrorCode.group_subscribed_to_topic else response.error
    )
    return build(cls, error_code=top, throttle_time=NO_THROTTLE, topics=topics)
