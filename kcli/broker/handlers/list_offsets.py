"""ListOffsets (2), v1-v7: earliest (-2), latest (-1), max timestamp (-3), or by timestamp.

As Kafka's Partition.fetchOffsetForTimestamp: clients (replica_id -1) need the leader and see
offsets only below the high watermark (the last stable offset for read_committed, the same
until transactions exist); "latest" is the high watermark, or OFFSET_NOT_AVAILABLE while a new
leader's high watermark is still below the start of its epoch. replica_id -2 (debugging) may
ask any replica. No match gives offset -1 and timestamp -1.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.broker.handlers.replica_errors import error_code
from kcli.broker.replica.errors import OffsetNotAvailable, ReplicaError
from kcli.broker.replica.partition import Partition
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, nested, response_class
from kcli.storage.errors import StorageError
from kcli.storage.files import TopicPartition
from kcli.storage.lookup import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, TimestampAndOffset

API_KEY = ApiKey.LIST_OFFSETS
MIN_VERSION = 1
MAX_VERSION = 7

DEBUGGING_REPLICA_ID = -2
CONSUMER_REPLICA_ID = -1


def lookup(
    partition: Partition, timestamp: int, replica_id: int, current_leader_epoch: int
) -> TimestampAndOffset | None:
    if replica_id == DEBUGGING_REPLICA_ID:
        log = partition.log
        if log is None:
            raise OffsetNotAvailable(f"no log for {partition.topic_partition}")
    else:
        log = partition.leader_log(current_leader_epoch)
    client = replica_id < 0
    last_fetchable = partition.high_watermark if client else log.log_end_offset
    if timestamp == LATEST_TIMESTAMP:
        if client and partition.leader_epoch_start_offset > partition.high_watermark:
            raise OffsetNotAvailable(
                f"Failed to fetch offsets for partition {partition.topic_partition} with leader "
                f"epoch {partition.leader_epoch} as this partition's high watermark differs "
                "from its leader epoch start offset"
            )
        return TimestampAndOffset(-1, last_fetchable, partition.leader_epoch)
    found = log.fetch_offset_by_timestamp(timestamp)
    if timestamp == EARLIEST_TIMESTAMP or found is None:
        return found
    return found if found.offset < last_fetchable else None


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)
    topic_cls = nested(cls, "ListOffsetsTopicResponse")
    part_cls = nested(cls, "ListOffsetsPartitionResponse")
    replica_manager = ctx.broker.replica_manager
    assert replica_manager is not None
    replica_id = int(request.replica_id)
    topics = []
    for topic in request.topics:
        parts = []
        for p in topic.partitions:
            code, found = ErrorCode.none, None
            try:
                partition = replica_manager.partition_or_error(
                    TopicPartition(topic.name, p.partition_index)
                )
                found = lookup(
                    partition,
                    int(p.timestamp),
                    replica_id,
                    int(getattr(p, "current_leader_epoch", -1)),
                )
            except (ReplicaError, StorageError) as exc:
                code = error_code(exc)
            epoch = found.leader_epoch if found is not None else None
            parts.append(
                build(
                    part_cls,
                    partition_index=p.partition_index,
                    error_code=code,
                    timestamp=found.timestamp if found is not None else -1,
                    offset=found.offset if found is not None else -1,
                    leader_epoch=epoch if epoch is not None else -1,
                    old_style_offsets=(),
                )
            )
        topics.append(topic_cls(name=topic.name, partitions=tuple(parts)))
    return build(cls, throttle_time=timedelta(0), topics=tuple(topics))
