"""JoinGroup (11), v0-v7: a member (re)joins a classic group and waits for the join phase.

v0 has no rebalance timeout (it equals the session timeout); v4+ first joins get
MEMBER_ID_REQUIRED with an id to come back with (KIP-394); v5+ carry group.instance.id
(static membership); v7 echoes the protocol type and name.
"""

from __future__ import annotations

from typing import Any

from kcli.broker.admin_manager import timeout_ms
from kcli.broker.group.requests import JoinRequest
from kcli.broker.group.results import JoinResponse
from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE, client_host, runtime_or_error
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.JOIN_GROUP
MIN_VERSION = 0
MAX_VERSION = 7


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    runtime, error = runtime_or_error(ctx, request.group_id)
    if runtime is None:
        return _encode(version, JoinResponse(error, member_id=request.member_id))
    session_ms = timeout_ms(request.session_timeout)
    req = JoinRequest(
        group_id=request.group_id,
        member_id=request.member_id,
        group_instance_id=getattr(request, "group_instance_id", None),
        protocol_type=request.protocol_type,
        protocols=[(p.name, bytes(p.metadata)) for p in request.protocols],
        session_timeout_ms=session_ms,
        rebalance_timeout_ms=timeout_ms(request.rebalance_timeout) if version >= 1 else session_ms,
        client_id=header.client_id or "",
        client_host=client_host(ctx),
        require_known_member_id=version >= 4,
    )
    coordinator = runtime.coordinator
    response = await runtime.run(lambda token, now: coordinator.join_group(req, token, now))
    return _encode(version, response)


def _encode(version: int, r: JoinResponse) -> Any:
    cls = response_class(API_KEY, version)
    member_cls = nested(cls, "JoinGroupResponseMember")
    members = tuple(
        build(member_cls, member_id=m, group_instance_id=i, metadata=data)
        for m, i, data in r.members
    )
    return build(
        cls,
        throttle_time=NO_THROTTLE,
        error_code=r.error,
        generation_id=r.generation,
        protocol_type=r.protocol_type,
        protocol_name=r.protocol_name if version >= 7 else (r.protocol_name or ""),
        leader=r.leader,
        member_id=r.member_id,
        members=members,
    )
