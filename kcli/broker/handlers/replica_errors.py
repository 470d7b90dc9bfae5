"""Replica-layer, producer-state and storage exceptions -> Kafka error codes (the one place
the data path's exceptions become codes; convention 4)."""

from __future__ import annotations

from kcli.broker.replica import errors as replica
from kcli.broker.txn import producer_state
from kcli.protocol.errors import ErrorCode
from kcli.storage import errors as storage

_CODES: dict[type[BaseException], ErrorCode] = {
    replica.UnknownTopicOrPartition: ErrorCode.unknown_topic_or_partition,
    replica.NotLeaderOrFollower: ErrorCode.not_leader_or_follower,
    replica.InvalidTopic: ErrorCode.invalid_topic_exception,
    replica.NotEnoughReplicas: ErrorCode.not_enough_replicas,
    replica.NotEnoughReplicasAfterAppend: ErrorCode.not_enough_replicas_after_append,
    replica.RequestTimedOut: ErrorCode.request_timed_out,
    replica.FencedLeaderEpoch: ErrorCode.fenced_leader_epoch,
    replica.UnknownLeaderEpoch: ErrorCode.unknown_leader_epoch,
    replica.OffsetNotAvailable: ErrorCode.offset_not_available,
    producer_state.OutOfOrderSequence: ErrorCode.out_of_order_sequence_number,
    producer_state.InvalidProducerEpoch: ErrorCode.invalid_producer_epoch,
    storage.InvalidRecordError: ErrorCode.invalid_record,
    storage.CorruptRecordError: ErrorCode.corrupt_message,
    storage.RecordTooLargeError: ErrorCode.message_too_large,
    storage.RecordBatchTooLargeError: ErrorCode.record_list_too_large,
    storage.OffsetOutOfRangeError: ErrorCode.offset_out_of_range,
    OSError: ErrorCode.kafka_storage_error,
}


def error_code(exc: BaseException) -> ErrorCode:
    """The code for an exception (the most specific class wins); UNKNOWN_SERVER_ERROR else."""
    for cls in type(exc).__mro__:
        code = _CODES.get(cls)
        if code is not None:
            return code
    return ErrorCode.unknown_server_error
