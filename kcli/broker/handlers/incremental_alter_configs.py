"""IncrementalAlterConfigs (44), v0-1: per-key SET / DELETE / APPEND / SUBTRACT on a topic's
config overrides, then the same write and notification as AlterConfigs.

APPEND and SUBTRACT work on LIST configs (e.g. cleanup.policy), starting from the default
when the topic has no override, as Kafka does; on other configs they are INVALID_CONFIG.
A key named twice in one resource is INVALID_REQUEST. BROKER resources: see alter_configs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from kcli.broker.admin_manager import AdminError, AdminManager
from kcli.broker.handlers.alter_configs import TOPIC, alter_each, unsupported_resource
from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, response_class
from kcli.storage.config import TOPIC_CONFIGS

API_KEY = ApiKey.INCREMENTAL_ALTER_CONFIGS
MIN_VERSION = 0
MAX_VERSION = 1

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def apply_ops(current: dict[str, str], ops: Any) -> dict[str, str | None]:
    """The topic's new overrides after the request's operations (Kafka's
    prepareIncrementalConfigs)."""
    dupes = [n for n, c in Counter(op.name for op in ops).items() if c > 1]
    if dupes:
        raise AdminError(ErrorCode.invalid_request, "Error due to duplicate config keys")
    props: dict[str, str | None] = dict(current)
    for op in ops:
        kind = int(op.config_operation)
        if kind == SET:
            props[op.name] = op.value
        elif kind == DELETE:
            props.pop(op.name, None)
        elif kind in (APPEND, SUBTRACT):
            d = TOPIC_CONFIGS.get(op.name)
            if d is None or d.type != "list":
                verb = "append" if kind == APPEND else "subtract"
                raise AdminError(
                    ErrorCode.invalid_config,
                    f"Config value {verb} is not allowed for config key: {op.name}",
                )
            old = props.get(op.name) or d.default
            old_items = [v.strip() for v in old.split(",") if v.strip()]
            given = [v.strip() for v in (op.value or "").split(",") if v.strip()]
            if kind == APPEND:
                items = list(dict.fromkeys(old_items + given))
            else:
                items = [v for v in old_items if v not in given]
            props[op.name] = ",".join(items)
        else:
            raise AdminError(ErrorCode.invalid_request, f"Unknown alter config operation: {kind}")
    return props


async def _alter(admin: AdminManager, resource: Any, validate_only: bool) -> None:
    if resource.resource_type != TOPIC:
        raise unsupported_resource(resource, [c.name for c in resource.configs])
    current = await admin.topic_config(resource.resource_name)
    new = apply_ops(current, resource.configs)
    await admin.alter_topic_config(resource.resource_name, new, validate_only)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    admin = ctx.broker.admin
    assert admin is not None, "KafkaServer wires an AdminManager"

    async def alter(resource: Any) -> None:
        await _alter(admin, resource, request.validate_only)

    return await alter_each(response_class(API_KEY, header.api_version), request.resources, alter)
