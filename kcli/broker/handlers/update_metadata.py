"""UpdateMetadata (6), v6, from the controller: partition states for this broker's metadata
cache. kcli's brokers also follow the state znodes through ZooKeeper watches
(metadata_sync), so an entry is applied only when it is not older than what the cache holds
(leader epoch, then partition epoch), whichever of the two paths arrives first."""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.metadata_cache import PartitionState
from kcli.protocol import inter_broker as ib
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader

API_KEY = ApiKey.UPDATE_METADATA
MIN_VERSION = ib.UPDATE_METADATA_VERSION
MAX_VERSION = ib.UPDATE_METADATA_VERSION


def decode(header: RequestHeader, frame: bytes) -> Any:
    return ib.decode(ib.UpdateMetadataRequest, frame, header.size)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    manager = ctx.broker.replica_manager
    if manager is not None and request.controller_epoch < manager.controller_epoch:
        return ib.UpdateMetadataResponse(error_code=ErrorCode.stale_controller_epoch)
    cache = ctx.broker.metadata
    for t in request.topic_states:
        info = cache.topics.get(t.topic_name)
        if info is None:
            continue
        for p in t.partition_states:
            new = PartitionState(
                leader=p.leader, leader_epoch=p.leader_epoch, isr=tuple(p.isr),
                controller_epoch=p.controller_epoch, zk_version=p.zk_version,
            )  # fmt: skip
            cache.set_partition_state_if_newer(t.topic_name, p.partition_index, new)
    return ib.UpdateMetadataResponse(error_code=ErrorCode.none)
