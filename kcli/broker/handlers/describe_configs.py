"""DescribeConfigs (32), v1-4: TOPIC and BROKER resources with Kafka's values, sources,
synonyms (when asked), read-only and sensitive flags (kcli.broker.log_config builds them).

Topic configs are read from `/config/topics/<t>` (ZooKeeper is the truth in ZK mode); a BROKER
resource names this broker's id or is empty (cluster-wide defaults), any other id is
INVALID_REQUEST with Kafka's message. Other resource types are INVALID_REQUEST.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError
from kcli.broker.handlers.base import RequestContext
from kcli.broker.log_config import ConfigEntry, broker_entries, topic_entries
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class
from kcli.protocol.topic import topic_name_error

API_KEY = ApiKey.DESCRIBE_CONFIGS
MIN_VERSION = 1
MAX_VERSION = 4

TOPIC, BROKER = 2, 4
RESOURCE_TYPE_NAMES = {0: "UNKNOWN", 2: "TOPIC", 4: "BROKER", 8: "BROKER_LOGGER",
                       16: "CLIENT_METRICS"}  # fmt: skip


async def _entries(ctx: RequestContext, resource: Any) -> list[ConfigEntry]:
    keys = resource.configuration_keys
    name = resource.resource_name
    if resource.resource_type == TOPIC:
        problem = topic_name_error(name)
        if problem:
            raise AdminError(ErrorCode.invalid_topic_exception, problem)
        admin = ctx.broker.admin
        assert admin is not None, "KafkaServer wires an AdminManager"
        return topic_entries(ctx.broker.config, await admin.topic_config(name), keys)
    if resource.resource_type == BROKER:
        if name and name != str(ctx.broker.broker_id):
            raise AdminError(
                ErrorCode.invalid_request,
                f"Unexpected broker id, expected {ctx.broker.broker_id} or empty string, but "
                f"received {name}",
            )
        return broker_entries(ctx.broker.config, keys)
    kind = RESOURCE_TYPE_NAMES.get(resource.resource_type, str(resource.resource_type))
    raise AdminError(ErrorCode.invalid_request, f"Unsupported resource type: {kind}")


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    result_cls = nested(cls, "DescribeConfigsResult")
    entry_cls = nested(cls, "DescribeConfigsResourceResult")
    synonym_cls = nested(cls, "DescribeConfigsSynonym")
    results = []
    for resource in request.resources:
        error, message, configs = ErrorCode.none, None, ()
        try:
            entries = await _entries(ctx, resource)
        except AdminError as exc:
            error, message = exc.code, exc.message
        else:
            configs = tuple(
                build(
                    entry_cls,
                    name=e.name,
                    value=e.value,
                    read_only=e.read_only,
                    config_source=int(e.source),
                    is_sensitive=e.sensitive,
                    synonyms=tuple(
                        synonym_cls(name=s.name, value=s.value, source=int(s.source))
                        for s in e.synonyms
                    )
                    if request.include_synonyms
                    else (),
                    config_type=int(e.type),
                    documentation=None,
                )
                for e in entries
            )
        results.append(
            build(
                result_cls,
                error_code=error,
                error_message=message,
                resource_type=resource.resource_type,
                resource_name=resource.resource_name,
                configs=configs,
            )
        )
    return build(cls, throttle_time=timedelta(0), results=tuple(results))
