"""What the group handlers share: the coordinator runtime, its ownership check, Kafka's
client host string and the partition check of commits."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from kcli.broker.handlers.base import RequestContext
from kcli.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from kcli.broker.group.runtime import GroupCoordinatorRuntime

NO_THROTTLE = timedelta(0)
AUTHORIZED_OPERATIONS_OMITTED = -(2**31)  # Integer.MIN_VALUE: operations not requested


def runtime_or_error(
    ctx: RequestContext, group_id: str
) -> tuple[GroupCoordinatorRuntime | None, ErrorCode]:
    """The coordinator runtime and NONE if this broker coordinates `group_id` now; else the
    code to answer (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID ...)."""
    runtime = ctx.broker.group_coordinator
    if runtime is None:
        return None, ErrorCode.coordinator_not_available
    error = runtime.ownership_error(group_id)
    return (runtime, error) if error == ErrorCode.none else (None, error)


def client_host(ctx: RequestContext) -> str:
    """Kafka reports a member's host as Java's InetAddress.toString: `/127.0.0.1`."""
    return f"/{ctx.client_host}"


def partition_exists(ctx: RequestContext, topic: str, partition: int) -> bool:
    info = ctx.broker.metadata.topics.get(topic)
    return info is not None and partition in info.assignment
