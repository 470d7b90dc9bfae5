"""DeleteTopics (20), v1-6: mark each topic in `/admin/delete_topics`, then wait up to the
request's timeout until the controller has deleted it (it leaves this broker's metadata).

Unknown names answer UNKNOWN_TOPIC_OR_PARTITION, unknown ids (v6) UNKNOWN_TOPIC_ID; a topic
already marked is waited for like a new request (Kafka swallows the "already marked" error).
With delete.topic.enable=false nothing is written: every topic gets TOPIC_DELETION_DISABLED
(INVALID_REQUEST before v3), as Kafka's KafkaApis answers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError, timeout_ms
from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.DELETE_TOPICS
MIN_VERSION = 1
MAX_VERSION = 6


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    result_cls = nested(cls, "DeletableTopicResult")
    admin = ctx.broker.admin
    assert admin is not None, "KafkaServer wires an AdminManager"
    cache = ctx.broker.metadata
    if header.api_version >= 6:
        wanted = [(t.name, t.topic_id) for t in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]
    if not ctx.broker.config.get_bool("delete.topic.enable"):
        disabled = (
            ErrorCode.topic_deletion_disabled
            if header.api_version >= 3
            else ErrorCode.invalid_request
        )
        return build(cls, throttle_time=timedelta(0), responses=tuple(
            build(result_cls, name=name, topic_id=topic_id, error_code=disabled,
                  error_message=None)
            for name, topic_id in wanted
        ))  # fmt: skip
    by_id = {info.topic_id: info.name for info in cache.topics.values()}
    outcome: list[tuple[str | None, Any, ErrorCode, str | None]] = []
    for wanted_name, topic_id in wanted:
        name = wanted_name if wanted_name is not None else by_id.get(topic_id)
        if name is None:
            outcome.append((None, topic_id, ErrorCode.unknown_topic_id, None))
            continue
        try:
            await admin.delete_topic(name)
        except AdminError as exc:
            outcome.append((name, topic_id, exc.code, exc.message))
            continue
        info = cache.topics.get(name)
        outcome.append((name, info.topic_id if info else topic_id, ErrorCode.none, None))
    pending = [o[0] for o in outcome if o[2] == ErrorCode.none]
    wait_ms = timeout_ms(request.timeout)  # <= 0: answer at once, as Kafka
    if pending and wait_ms > 0:
        await admin.wait_until(lambda: not any(n in cache.topics for n in pending), wait_ms)
    results = []
    for name, topic_id, code, message in outcome:
        late = code == ErrorCode.none and wait_ms > 0 and name in cache.topics
        error = ErrorCode.request_timed_out if late else code
        results.append(
            build(result_cls, name=name, topic_id=topic_id, error_code=error, error_message=message)
        )
    return build(cls, throttle_time=timedelta(0), responses=tuple(results))
