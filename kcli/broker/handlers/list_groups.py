"""ListGroups (16), v0-v5: the groups this broker coordinates. v4+ filter by state
(case-insensitive); v5 by type (every group here is "classic"). While a __consumer_offsets
partition is still loading the answer is COORDINATOR_LOAD_IN_PROGRESS with what is loaded."""

from __future__ import annotations

from typing import Any

from kcli.broker.group.state import GroupState, state_by_name
from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.LIST_GROUPS
MIN_VERSION = 0
MAX_VERSION = 5

GROUP_TYPE = "classic"


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    listed_cls = nested(cls, "ListedGroup")
    runtime = ctx.broker.group_coordinator
    if runtime is None:
        return build(cls, throttle_time=NO_THROTTLE, error_code=ErrorCode.coordinator_not_available,
                     groups=())  # fmt: skip
    names = tuple(getattr(request, "states_filter", ()) or ())
    states: list[GroupState] | None = None
    if names:
        states = [s for s in (state_by_name(n) for n in names) if s is not None]
    types = {t.lower() for t in (getattr(request, "types_filter", ()) or ())}
    groups = []
    if not types or GROUP_TYPE in types:
        groups = [
            build(
                listed_cls,
                group_id=g.group_id,
                protocol_type=g.protocol_type or "",
                group_state=g.state.value,
                group_type=GROUP_TYPE,
            )
            for g in runtime.coordinator.list_groups(states)
        ]
    error = ErrorCode.coordinator_load_in_progress if runtime.loading else ErrorCode.none
    return build(cls, throttle_time=NO_THROTTLE, error_code=error, groups=tuple(groups))
