"""ElectLeaders (43), v0-v2 (Kafka 2.2+; v1 adds election_type and a top-level error, v2 is
flexible): preferred or unclean leader election, done by the controller. Admin clients send it
to the controller; any other broker answers NOT_CONTROLLER for every partition (Kafka's ZK-mode
KafkaController does the same). A null partition list means all partitions, and then the
partitions that needed no election are left out of the answer (KafkaApis.handleElectLeaders).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kcli.broker.controller_api import ControllerApiError
from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class

API_KEY = ApiKey.ELECT_LEADERS
MIN_VERSION = 0
MAX_VERSION = 2
NO_THROTTLE = timedelta(0)
PREFERRED = 0

Results = dict[tuple[str, int], tuple[ErrorCode, str | None]]


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    election_type = int(getattr(request, "election_type", PREFERRED))  # v0: preferred only
    asked: list[tuple[str, int]] | None = None
    if request.topic_partitions is not None:
        asked = [(t.topic, int(p)) for t in request.topic_partitions for p in t.partitions]
    timeout_s = max(0.0, request.timeout.total_seconds()) or 60.0
    api = ctx.broker.controller_api
    try:
        if api is None:
            raise ControllerApiError(ErrorCode.not_controller)
        results = await asyncio.wait_for(api.elect_leaders(election_type, asked), timeout_s)
    except ControllerApiError as exc:
        results = dict.fromkeys(asked or _all_partitions(ctx), (exc.code, exc.message))
    except TimeoutError:
        results = dict.fromkeys(asked or _all_partitions(ctx), (ErrorCode.request_timed_out, None))
    return _response(header.api_version, results)


def _all_partitions(ctx: RequestContext) -> list[tuple[str, int]]:
    """What a null partition list stands for: every partition this broker knows of."""
    topics = ctx.broker.metadata.topics
    return [(t, p) for t in sorted(topics) for p in sorted(topics[t].assignment)]


def _response(version: int, results: Results) -> Any:
    cls = response_class(API_KEY, version)
    topic_cls = nested(cls, "ReplicaElectionResult")
    partition_cls = nested(cls, "PartitionResult")
    by_topic: dict[str, list[Any]] = {}
    for (topic, p), (error, message) in sorted(results.items()):
        by_topic.setdefault(topic, []).append(
            partition_cls(partition_id=p, error_code=error, error_message=message)
        )
    return build(
        cls,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        replica_election_results=tuple(
            topic_cls(topic=t, partition_result=tuple(ps)) for t, ps in by_topic.items()
        ),
    )
