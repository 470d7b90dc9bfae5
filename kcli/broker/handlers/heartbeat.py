"""Heartbeat (12), v0-v4: a member is alive; the answer says whether a rebalance is on
(REBALANCE_IN_PROGRESS) or the member is no longer known (UNKNOWN_MEMBER_ID,
ILLEGAL_GENERATION, FENCED_INSTANCE_ID for a replaced static member, v3+)."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.messages import RequestHeader, build, response_class

API_KEY = ApiKey.HEARTBEAT
MIN_VERSION = 0
MAX_VERSION = 4


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    runtime, error = runtime_or_error(ctx, request.group_id)
    if runtime is not None:
        coordinator = runtime.coordinator
        generation = int(request.generation_id)
        instance = getattr(request, "group_instance_id", None)
        response = await runtime.run(
            lambda _token, now: coordinator.heartbeat(
                request.group_id, generation, request.member_id, instance, now
            )
        )
        error = response.error
    return build(cls, throttle_time=NO_THROTTLE, error_code=error)
