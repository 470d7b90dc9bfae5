"""OffsetForLeaderEpoch (23), v2-v4: the end offset of a leader epoch, from the partition's
leader epoch cache (`leader-epoch-checkpoint`).

Asked by consumers after a leader change (KIP-320, log truncation detection) and by followers
before they fetch (KIP-101/279). Only the leader answers (NOT_LEADER_OR_FOLLOWER otherwise);
current_leader_epoch fences as in Fetch. An epoch the cache cannot place gives epoch -1 and
end offset -1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.replica.errors import ReplicaError
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class
from kcli.storage.errors import StorageError
from kcli.storage.files import TopicPartition

API_KEY = ApiKey.OFFSET_FOR_LEADER_EPOCH
MIN_VERSION = 2
MAX_VERSION = 4


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    topic_cls = nested(cls, "OffsetForLeaderTopicResult")
    part_cls = nested(cls, "EpochEndOffset")
    replica_manager = ctx.broker.replica_manager
    assert replica_manager is not None
    topics = []
    for topic in request.topics:
        parts = []
        for p in topic.partitions:
            code, epoch, end_offset = ErrorCode.none, -1, -1
            try:
                partition = replica_manager.partition_or_error(
                    TopicPartition(topic.topic, p.partition)
                )
                log = partition.leader_log(int(p.current_leader_epoch))
                epoch, end_offset = log.end_offset_for_epoch(int(p.leader_epoch))
            except (ReplicaError, StorageError) as exc:
                code = error_code(exc)
            parts.append(
                build(
                    part_cls,
                    error_code=code,
                    partition=p.partition,
                    leader_epoch=epoch,
                    end_offset=end_offset,
                )
            )
        topics.append(topic_cls(topic=topic.topic, partitions=tuple(parts)))
    return build(cls, throttle_time=timedelta(0), topics=tuple(topics))
