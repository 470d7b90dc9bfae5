"""DescribeCluster (60): brokers on the request's listener, cluster id and controller.

kafka-python and Java admin clients use it when advertised (falling back to Metadata otherwise).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.DESCRIBE_CLUSTER
MIN_VERSION = 0
MAX_VERSION = 1

ENDPOINT_TYPE_BROKERS = 1
AUTHORIZED_OPERATIONS_OMITTED = -(2**31)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    broker_cls = nested(cls, "DescribeClusterBroker")
    cache = ctx.broker.metadata
    error = ErrorCode.none
    message = None
    if getattr(request, "endpoint_type", ENDPOINT_TYPE_BROKERS) != ENDPOINT_TYPE_BROKERS:
        error = ErrorCode.unsupported_endpoint_type
        message = "The request was sent to an endpoint of type BROKER, but we wanted CONTROLLER"
    brokers = []
    for info in cache.alive_brokers():
        endpoint = info.endpoint(ctx.listener_name)
        if endpoint is not None:
            brokers.append(
                broker_cls(
                    broker_id=info.id, host=endpoint.host, port=endpoint.port, rack=info.rack
                )
            )
    return build(
        cls,
        throttle_time=timedelta(0),
        error_code=error,
        error_message=message,
        endpoint_type=ENDPOINT_TYPE_BROKERS,
        cluster_id=cache.cluster_id or "",
        controller_id=cache.controller_id,
        brokers=tuple(brokers),
        cluster_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )
