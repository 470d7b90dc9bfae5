"""DescribeGroups (15), v0-v5: state, protocol and members of each group. Member metadata
and assignments are given only for Stable groups (as Kafka's GroupMetadata.summary); a group
this coordinator does not know is reported Dead with no error. v4+ carry group.instance.id."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import (
    AUTHORIZED_OPERATIONS_OMITTED,
    NO_THROTTLE,
    runtime_or_error,
)
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.DESCRIBE_GROUPS
MIN_VERSION = 0
MAX_VERSION = 5


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    group_cls = nested(cls, "DescribedGroup")
    member_cls = nested(cls, "DescribedGroupMember")
    out = []
    for group_id in request.groups:
        runtime, error = runtime_or_error(ctx, group_id)
        fields: dict[str, Any] = {
            "group_id": group_id,
            "authorized_operations": AUTHORIZED_OPERATIONS_OMITTED,
        }
        if runtime is None:
            fields.update(error_code=error, group_state="", protocol_type="", protocol_data="",
                          members=())  # fmt: skip
        else:
            s = runtime.coordinator.describe_group(group_id)
            members = tuple(
                build(
                    member_cls,
                    member_id=m.member_id,
                    group_instance_id=m.group_instance_id,
                    client_id=m.client_id,
                    client_host=m.client_host,
                    member_metadata=m.metadata,
                    member_assignment=m.assignment,
                )
                for m in s.members
            )
            fields.update(error_code=ErrorCode.none, group_state=s.state,
                          protocol_type=s.protocol_type, protocol_data=s.protocol,
                          members=members)  # fmt: skip
        out.append(build(group_cls, **fields))
    return build(cls, throttle_time=NO_THROTTLE, groups=tuple(out))
