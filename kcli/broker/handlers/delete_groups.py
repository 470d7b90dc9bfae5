"""DeleteGroups (42), v0-v2: remove Empty groups with their offsets (tombstones in
__consumer_offsets). A group with members answers NON_EMPTY_GROUP, an unknown one
GROUP_ID_NOT_FOUND."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.DELETE_GROUPS
MIN_VERSION = 0
MAX_VERSION = 2


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    result_cls = nested(cls, "DeletableGroupResult")
    errors: dict[str, ErrorCode] = {}
    owned: list[str] = []
    for group_id in request.groups_names:
        runtime, error = runtime_or_error(ctx, group_id)
        if runtime is None:
            errors[group_id] = error
        else:
            owned.append(group_id)
    runtime = ctx.broker.group_coordinator
    if owned and runtime is not None:
        coordinator = runtime.coordinator
        response = await runtime.run(lambda _token, now: coordinator.delete_groups(owned, now))
        errors.update(response.errors)
    results = tuple(result_cls(group_id=g, error_code=errors[g]) for g in request.groups_names)
    return build(cls, throttle_time=NO_THROTTLE, results=results)
