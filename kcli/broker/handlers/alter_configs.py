"""AlterConfigs (33), v0-2: replace a topic's config overrides (`/config/topics/<t>` plus a
`/config/changes` notification that every broker applies to its logs).

Values are checked with Kafka's rules first (INVALID_CONFIG with Kafka's message). kcli
applies no dynamic BROKER configs: such resources get INVALID_REQUEST with Kafka's message
for configs that cannot be updated dynamically.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from kcli.broker.admin_manager import AdminError
from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.ALTER_CONFIGS
MIN_VERSION = 0
MAX_VERSION = 2

TOPIC, BROKER = 2, 4


def unsupported_resource(resource: Any, names: list[str]) -> AdminError:
    if resource.resource_type == BROKER:
        return AdminError(
            ErrorCode.invalid_request,
            f"Cannot update these configs dynamically: Set({', '.join(names)})",
        )
    return AdminError(
        ErrorCode.invalid_request, f"Unsupported resource type: {resource.resource_type}"
    )


AlterOne = Callable[[Any], Awaitable[None]]


async def alter_each(cls: Any, resources: Any, alter_one: AlterOne) -> Any:
    """Run `alter_one` per resource; each gets its own result (Kafka's code and message)."""
    result_cls = nested(cls, "AlterConfigsResourceResponse")
    results = []
    for resource in resources:
        error, message = ErrorCode.none, None
        try:
            await alter_one(resource)
        except AdminError as exc:
            error, message = exc.code, exc.message
        results.append(
            build(
                result_cls,
                error_code=error,
                error_message=message,
                resource_type=resource.resource_type,
                resource_name=resource.resource_name,
            )
        )
    return build(cls, throttle_time=timedelta(0), responses=tuple(results))


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    admin = ctx.broker.admin
    assert admin is not None, "KafkaServer wires an AdminManager"

    async def alter(resource: Any) -> None:
        if resource.resource_type != TOPIC:
            raise unsupported_resource(resource, [c.name for c in resource.configs])
        await admin.alter_topic_config(
            resource.resource_name,
            {c.name: c.value for c in resource.configs},
            request.validate_only,
        )

    return await alter_each(response_class(API_KEY, header.api_version), request.resources, alter)
