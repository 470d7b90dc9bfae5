"""LeaveGroup (13), v0-v5: members leave at once instead of waiting for their session to
expire. v0-v2 name one member; v3+ a batch of (member id, group.instance.id), where a static
member may leave by instance id alone (what kafka-consumer-groups and Kafka's admin send)."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.LEAVE_GROUP
MIN_VERSION = 0
MAX_VERSION = 5


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    cls = response_class(API_KEY, version)
    if version >= 3:
        leaving = [(m.member_id, m.group_instance_id) for m in request.members]
    else:
        leaving = [(request.member_id, None)]
    runtime, error = runtime_or_error(ctx, request.group_id)
    outcome: tuple[tuple[str, str | None, ErrorCode], ...] = ()
    if runtime is not None:
        coordinator = runtime.coordinator
        response = await runtime.run(
            lambda _token, now: coordinator.leave_group(request.group_id, leaving, now)
        )
        error, outcome = response.error, response.members
    if version < 3:
        if error == ErrorCode.none and outcome:
            error = outcome[0][2]
        return build(cls, throttle_time=NO_THROTTLE, error_code=error)
    member_cls = nested(cls, "MemberResponse")
    members = tuple(
        member_cls(member_id=m, group_instance_id=i, error_code=code) for m, i, code in outcome
    )
    return build(cls, throttle_time=NO_THROTTLE, error_code=error, members=members)
