"""CreateTopics (19), v2-7: validate, write Kafka's znodes, wait for the controller.

Per topic, Kafka's checks and messages (AdminManager): name, explicit assignment vs counts,
configs, existing or queued-for-deletion topics, name collisions, replication factor against
live brokers. -1 partitions / replication factor take num.partitions /
default.replication.factor (v4+). validate_only checks without writing. After writing, the
response waits up to `timeout` until every new partition has a live leader in this broker's
metadata, so clients can produce at once; topics still not ready then get REQUEST_TIMED_OUT
(a timeout <= 0 answers at once, as Kafka).
v5+ echoes partitions, replication factor and the topic's configs.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError, AdminManager, NewTopic, timeout_ms
from kcli.broker.handlers.base import RequestContext
from kcli.broker.log_config import topic_entries
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.CREATE_TOPICS
MIN_VERSION = 2
MAX_VERSION = 7


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    result_cls = nested(cls, "CreatableTopicResult")
    config_cls = nested(cls, "CreatableTopicConfigs") if header.api_version >= 5 else None
    admin = ctx.broker.admin
    assert admin is not None, "KafkaServer wires an AdminManager"
    counts = Counter(t.name for t in request.topics)
    dupes = sorted(n for n, c in counts.items() if c > 1)
    outcome: dict[str, NewTopic | AdminError] = {}
    for topic in request.topics:
        if topic.name in dupes:
            outcome[topic.name] = AdminError(
                ErrorCode.invalid_request,
                f"Create topics request from client `{header.client_id}` contains multiple "
                f"entries for the following topics: {','.join(dupes)}",
            )
            continue
        outcome[topic.name] = await _create(admin, topic, request.validate_only)
    created = [t.name for t in outcome.values() if isinstance(t, NewTopic)]
    wait_ms = 0 if request.validate_only else timeout_ms(request.timeout)  # <= 0: no wait
    if created and wait_ms > 0:
        await admin.wait_until(lambda: all(admin.partitions_live(n) for n in created), wait_ms)
    results = []
    for name, result in outcome.items():
        if isinstance(result, AdminError):
            results.append(
                build(
                    result_cls,
                    name=name,
                    topic_id=None,
                    error_code=result.code,
                    error_message=result.message,
                    num_partitions=-1,
                    replication_factor=-1,
                    configs=None,
                )
            )
            continue
        error = ErrorCode.none
        if wait_ms > 0 and not admin.partitions_live(name):
            error = ErrorCode.request_timed_out
        configs = (
            ()
            if config_cls is None
            else tuple(
                config_cls(
                    name=e.name,
                    value=e.value,
                    read_only=e.read_only,
                    config_source=int(e.source),
                    is_sensitive=e.sensitive,
                )
                for e in topic_entries(ctx.broker.config, result.config)
            )
        )
        results.append(
            build(
                result_cls,
                name=name,
                topic_id=result.topic_id,
                error_code=error,
                error_message=None,
                num_partitions=len(result.assignment),
                replication_factor=result.replication_factor,
                configs=configs,
            )
        )
    return build(cls, throttle_time=timedelta(0), topics=tuple(results))


async def _create(admin: AdminManager, topic: Any, validate_only: bool) -> NewTopic | AdminError:
    assignment = {a.partition_index: tuple(a.broker_ids) for a in topic.assignments}
    try:
        new = await admin.prepare_topic(
            topic.name,
            int(topic.num_partitions),
            int(topic.replication_factor),
            assignment or None,
            {c.name: c.value for c in topic.configs},
        )
        if not validate_only:
            await admin.create_topic(new)
    except AdminError as exc:
        return exc
    return new
