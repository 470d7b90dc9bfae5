"""StopReplica (5), v3, from the controller: stop hosting partitions, deleting their logs when
`delete_partition` is set (topic deletion). Message classes: kcli.protocol.inter_broker."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.protocol import inter_broker as ib
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader

API_KEY = ApiKey.STOP_REPLICA
MIN_VERSION = ib.STOP_REPLICA_VERSION
MAX_VERSION = ib.STOP_REPLICA_VERSION


def decode(header: RequestHeader, frame: bytes) -> Any:
    return ib.decode(ib.StopReplicaRequest, frame, header.size)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    by_flag: dict[bool, list[tuple[str, int]]] = {True: [], False: []}
    for t in request.topic_states:
        for p in t.partition_states:
            by_flag[bool(p.delete_partition)].append((t.topic_name, int(p.partition_index)))
    manager = ctx.broker.replica_manager
    errors: dict[tuple[str, int], int] = {}
    for delete, partitions in by_flag.items():
        if not partitions:
            continue
        if manager is None:
            errors.update(dict.fromkeys(partitions, int(ErrorCode.kafka_storage_error)))
        else:
            errors.update(await manager.stop_replicas(request.controller_epoch, partitions, delete))
    return ib.StopReplicaResponse(
        error_code=ErrorCode.none,
        partition_errors=tuple(
            ib.PartitionError(topic_name=t, partition_index=p, error_code=ErrorCode(e))
            for (t, p), e in sorted(errors.items())
        ),
    )
