"""FindCoordinator (10), v0-v4: which broker coordinates a group.

The coordinator of group g is the leader of __consumer_offsets partition
abs(hashCode(g)) % offsets.topic.num.partitions (Kafka's formula). Until that topic exists the
answer is COORDINATOR_NOT_AVAILABLE, and the first request creates it (compacted,
offsets.topic.* settings; refused while fewer brokers are alive than its replication factor).
v4 batches keys. Transaction coordinators (key type 1) are not built yet: COORDINATOR_NOT_AVAILABLE.
"""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.group_support import NO_THROTTLE
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.FIND_COORDINATOR
MIN_VERSION = 0
MAX_VERSION = 4

GROUP_KEY_TYPE = 0
TRANSACTION_KEY_TYPE = 1

Found = tuple[ErrorCode, int, str, int]  # error, node id, host, port


def lookup(ctx: RequestContext, key_type: int, key: str) -> Found:
    missing: Found = (ErrorCode.coordinator_not_available, -1, "", -1)
    if key_type not in (GROUP_KEY_TYPE, TRANSACTION_KEY_TYPE) or not key:
        return (ErrorCode.invalid_request, -1, "", -1)
    runtime = ctx.broker.group_coordinator
    if key_type == TRANSACTION_KEY_TYPE or runtime is None:
        return missing
    error, leader = runtime.coordinator_for(key)
    broker = ctx.broker.metadata.brokers.get(leader)
    endpoint = broker.endpoint(ctx.listener_name) if broker is not None else None
    if error != ErrorCode.none or endpoint is None:
        return missing
    return (ErrorCode.none, leader, endpoint.host, endpoint.port)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    version = header.api_version
    cls = response_class(API_KEY, version)
    key_type = int(request.key_type) if version >= 1 else GROUP_KEY_TYPE
    if version >= 4:
        coordinator_cls = nested(cls, "Coordinator")
        coordinators = []
        for key in request.coordinator_keys:
            error, node, host, port = lookup(ctx, key_type, key)
            coordinators.append(
                coordinator_cls(
                    key=key,
                    node_id=node,
                    host=host,
                    port=port,
                    error_code=error,
                    error_message=None,
                )
            )
        return build(cls, throttle_time=NO_THROTTLE, coordinators=tuple(coordinators))
    error, node, host, port = lookup(ctx, key_type, request.key)
    return build(
        cls,
        throttle_time=NO_THROTTLE,
        error_code=error,
        error_message=None,
        node_id=node,
        host=host,
        port=port,
    )
