"""SyncGroup (14), v0-v5: the leader hands in the assignment; every member gets its own.

The assignment bytes are opaque to the broker. v3+ carry group.instance.id; v5 carries the
protocol type and name, checked against the group's (INCONSISTENT_GROUP_PROTOCOL).
"""

from __future__ import annotations

from typing import Any

from kcli.broker.group.requests import SyncRequest
from kcli.broker.group.results import SyncResponse
from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.messages import RequestHeader, build, response_class

API_KEY = ApiKey.SYNC_GROUP
MIN_VERSION = 0
MAX_VERSION = 5


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    runtime, error = runtime_or_error(ctx, request.group_id)
    if runtime is None:
        return _encode(header.api_version, SyncResponse(error))
    req = SyncRequest(
        group_id=request.group_id,
        generation=int(request.generation_id),
        member_id=request.member_id,
        group_instance_id=getattr(request, "group_instance_id", None),
        protocol_type=getattr(request, "protocol_type", None),
        protocol_name=getattr(request, "protocol_name", None),
        assignments={a.member_id: bytes(a.assignment) for a in request.assignments},
    )
    coordinator = runtime.coordinator
    response = await runtime.run(lambda token, now: coordinator.sync_group(req, token, now))
    return _encode(header.api_version, response)


def _encode(version: int, r: SyncResponse) -> Any:
    return build(
        response_class(API_KEY, version),
        throttle_time=NO_THROTTLE,
        error_code=r.error,
        protocol_type=r.protocol_type,
        protocol_name=r.protocol_name,
        assignment=r.assignment,
    )
