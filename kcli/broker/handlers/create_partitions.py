"""CreatePartitions (37), v0-3: extend `/brokers/topics/<t>` with new partitions placed by
Kafka's rotation (or the request's assignments), then wait up to the timeout until the
controller has made them live. Not an increase -> INVALID_PARTITIONS with Kafka's message.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError, timeout_ms
from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.CREATE_PARTITIONS
MIN_VERSION = 0
MAX_VERSION = 3


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    result_cls = nested(cls, "CreatePartitionsTopicResult")
    admin = ctx.broker.admin
    assert admin is not None, "KafkaServer wires an AdminManager"
    counts = Counter(t.name for t in request.topics)
    outcome: dict[str, tuple[ErrorCode, str | None]] = {}
    added: dict[str, list[int]] = {}
    for topic in request.topics:
        if counts[topic.name] > 1:
            outcome[topic.name] = (ErrorCode.invalid_request, "Duplicate topic in request.")
            continue
        assignments = (
            None if topic.assignments is None else [tuple(a.broker_ids) for a in topic.assignments]
        )
        try:
            added[topic.name] = await admin.add_partitions(
                topic.name, int(topic.count), assignments, request.validate_only
            )
        except AdminError as exc:
            outcome[topic.name] = (exc.code, exc.message)
            continue
        outcome[topic.name] = (ErrorCode.none, None)
    wait_ms = 0 if request.validate_only else timeout_ms(request.timeout)  # <= 0: no wait
    if added and wait_ms > 0:
        await admin.wait_until(
            lambda: all(admin.partitions_live(t, ps) for t, ps in added.items()), wait_ms
        )
    results = []
    for name, (code, message) in outcome.items():
        late = code == ErrorCode.none and wait_ms > 0
        error = (
            ErrorCode.request_timed_out
            if late and not admin.partitions_live(name, added[name])
            else code
        )
        results.append(build(result_cls, name=name, error_code=error, error_message=message))
    return build(cls, throttle_time=timedelta(0), results=tuple(results))
