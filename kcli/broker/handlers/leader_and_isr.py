"""LeaderAndIsr (4), v4, from the controller: become leader or follower of the partitions
listed, creating their logs with the topic's overrides from `/config/topics/<t>`.

Only kcli's controller sends it (kcli.broker.controller.broker_channel); the message classes
are kcli.protocol.inter_broker's, as kio lacks this API. ReplicaManager applies Kafka's
checks (stale controller epoch, leader epoch not newer, broker not a replica).
"""

from __future__ import annotations

from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.replica.state import PartitionState
from kcli.protocol import inter_broker as ib
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader

API_KEY = ApiKey.LEADER_AND_ISR
MIN_VERSION = ib.LEADER_AND_ISR_VERSION
MAX_VERSION = ib.LEADER_AND_ISR_VERSION


def decode(header: RequestHeader, frame: bytes) -> Any:
    return ib.decode(ib.LeaderAndIsrRequest, frame, header.size)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    states = [
        PartitionState(
            topic=t.topic_name,
            partition=p.partition_index,
            controller_epoch=p.controller_epoch,
            leader=p.leader,
            leader_epoch=p.leader_epoch,
            isr=tuple(p.isr),
            zk_version=p.zk_version,
            replicas=tuple(p.replicas),
            is_new=p.is_new,
        )
        for t in request.topic_states
        for p in t.partition_states
    ]
    manager = ctx.broker.replica_manager
    admin = ctx.broker.admin
    if manager is None or admin is None:
        errors = {(s.topic, s.partition): int(ErrorCode.kafka_storage_error) for s in states}
    else:
        configs = {t: await admin.zk.get_topic_config(t) for t in {s.topic for s in states}}
        errors = await manager.become_leader_or_follower(
            request.controller_id, request.controller_epoch, states, configs
        )
    return ib.LeaderAndIsrResponse(
        error_code=ErrorCode.none,
        partition_errors=tuple(
            ib.PartitionError(topic_name=t, partition_index=p, error_code=ErrorCode(e))
            for (t, p), e in sorted(errors.items())
        ),
    )
