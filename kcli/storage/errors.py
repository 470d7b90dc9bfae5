"""Exceptions raised by `kcli.storage`.

Storage never knows Kafka error codes (one error table, one boundary): the broker's handler layer
translates these. The intended mapping is noted on each class.
"""

from __future__ import annotations

from kcli.errors import KcliError, TerseError


class StorageError(KcliError):
    """Root of storage exceptions."""


class CorruptRecordError(StorageError):
    """A batch in an append is malformed: short, bad magic, bad length or CRC mismatch.

    Broker: CORRUPT_MESSAGE (2).
    """


class InvalidRecordError(CorruptRecordError):
    """A well-formed batch breaks a rule for client appends (record count vs lastOffsetDelta).

    Broker: INVALID_RECORD (87) where the request version allows it, else CORRUPT_MESSAGE.
    """


class RecordTooLargeError(StorageError):
    """A batch is larger than the topic's `max.message.bytes`. Broker: MESSAGE_TOO_LARGE (10)."""


class RecordBatchTooLargeError(StorageError):
    """One append is larger than `segment.bytes`. Broker: RECORD_LIST_TOO_LARGE (18)."""


class OffsetOutOfRangeError(StorageError):
    """A read or lookup offset lies outside [log start offset, log end offset].

    Broker: OFFSET_OUT_OF_RANGE (1).
    """


class UnexpectedAppendOffsetError(StorageError):
    """A follower append (offsets kept) starts below the log end offset.

    Broker (replica fetcher): truncate and re-fetch; never sent to clients.
    """


class OffsetsOutOfOrderError(StorageError):
    """A follower append whose batches' offsets do not increase. Broker: UNKNOWN_SERVER_ERROR."""


class LogSegmentOffsetOverflowError(StorageError):
    """A batch's offset does not fit a segment's int32 relative offset (a bug if it escapes)."""


class CorruptIndexError(StorageError):
    """An index file fails its sanity check; the loader rebuilds it from the segment."""


class CorruptCheckpointError(StorageError):
    """A checkpoint file does not parse (Kafka: "Malformed line in checkpoint file")."""


class LogDirLockedError(TerseError):
    """Another process holds a log dir's `.lock` (two brokers pointed at one log.dirs)."""


class InconsistentBrokerMetadataError(TerseError):
    """`meta.properties` names another broker.id or cluster.id than this broker's."""
