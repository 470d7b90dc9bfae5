"""Controller-to-broker messages of ZooKeeper mode, which kio 0.6.5 lacks (its schemas come
from Kafka 4.x, where these APIs are gone): LeaderAndIsr v4, StopReplica v3, UpdateMetadata
v6, in kio's own entity style so kio's native reader and writer handle them.

One version each, all flexible (KIP-482: compact strings/arrays, tagged fields, request header
v2, response header v1). Fields and order are Kafka's (LeaderAndIsrRequest.json etc. as of 3.x):

    LeaderAndIsr v4   controller_id i32, controller_epoch i32, broker_epoch i64,
                      topic_states [topic_name, partition_states [partition_index,
                      controller_epoch, leader, leader_epoch, isr [i32], zk_version,
                      replicas [i32], adding_replicas [i32], removing_replicas [i32], is_new]],
                      live_leaders [broker_id, host_name, port]
        response      error_code, partition_errors [topic_name, partition_index, error_code]
    StopReplica v3    controller_id, controller_epoch, broker_epoch, topic_states [topic_name,
                      partition_states [partition_index, leader_epoch, delete_partition]]
        response      error_code, partition_errors [topic_name, partition_index, error_code]
    UpdateMetadata v6 controller_id, controller_epoch, broker_epoch, topic_states [topic_name,
                      partition_states [partition_index, controller_epoch, leader,
                      leader_epoch, isr, zk_version, replicas, offline_replicas]],
                      live_brokers [id, endpoints [port, host, listener, security_protocol
                      i16], rack nullable]
        response      error_code
    ControlledShutdown v3  broker_id i32, broker_epoch i64
        response      error_code, remaining_partitions [topic_name, partition_index]
"""

# No `from __future__ import annotations`: kio reads the field types at run time. Integer
# fields are typed `int` (kio's phantom i32/i64 only matter to type checkers; the wire type is
# the field's kafka_type).
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kio.schema.errors import ErrorCode
from kio.schema.request_header.v2.header import RequestHeader
from kio.schema.response_header.v1.header import ResponseHeader
from kio.serial import entity_reader
from kio.serial.errors import SerialError
from kio.static.constants import EntityType
from kio.static.primitive import i16

from kcli.protocol.bounds import check_request_bounds
from kcli.protocol.errors import InvalidRequest

LEADER_AND_ISR_VERSION = 4
STOP_REPLICA_VERSION = 3
UPDATE_METADATA_VERSION = 6
CONTROLLED_SHUTDOWN_VERSION = 3
SECURITY_PROTOCOL_PLAINTEXT = 0  # Kafka's SecurityProtocol ids: PLAINTEXT 0, SSL 1, ...

_I32 = {"kafka_type": "int32"}
_I64 = {"kafka_type": "int64"}
_I16 = {"kafka_type": "int16"}
_STR = {"kafka_type": "string"}
_BOOL = {"kafka_type": "bool"}
_ERR = {"kafka_type": "error_code"}


# --- LeaderAndIsr (4) -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderAndIsrPartitionState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    partition_index: int = field(metadata=_I32)
    controller_epoch: int = field(metadata=_I32)
    leader: int = field(metadata=_I32)
    leader_epoch: int = field(metadata=_I32)
    isr: tuple[int, ...] = field(metadata=_I32, default=())
    zk_version: int = field(metadata=_I32)
    replicas: tuple[int, ...] = field(metadata=_I32, default=())
    adding_replicas: tuple[int, ...] = field(metadata=_I32, default=())
    removing_replicas: tuple[int, ...] = field(metadata=_I32, default=())
    is_new: bool = field(metadata=_BOOL, default=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderAndIsrTopicState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    topic_name: str = field(metadata=_STR)
    partition_states: tuple[LeaderAndIsrPartitionState, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderAndIsrLiveLeader:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    broker_id: int = field(metadata=_I32)
    host_name: str = field(metadata=_STR)
    port: int = field(metadata=_I32)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderAndIsrRequest:
    __type__: ClassVar = EntityType.request
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    controller_id: int = field(metadata=_I32)
    controller_epoch: int = field(metadata=_I32)
    broker_epoch: int = field(metadata=_I64, default=-1)
    topic_states: tuple[LeaderAndIsrTopicState, ...]
    live_leaders: tuple[LeaderAndIsrLiveLeader, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionError:
    """LeaderAndIsrPartitionError and StopReplicaPartitionError have the same layout."""

    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    topic_name: str = field(metadata=_STR)
    partition_index: int = field(metadata=_I32)
    error_code: ErrorCode = field(metadata=_ERR)


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderAndIsrResponse:
    __type__: ClassVar = EntityType.response
    __version__: ClassVar[i16] = i16(LEADER_AND_ISR_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(4)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    error_code: ErrorCode = field(metadata=_ERR)
    partition_errors: tuple[PartitionError, ...]


# --- StopReplica (5) --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class StopReplicaPartitionState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(STOP_REPLICA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(5)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    partition_index: int = field(metadata=_I32)
    leader_epoch: int = field(metadata=_I32, default=-1)
    delete_partition: bool = field(metadata=_BOOL)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopReplicaTopicState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(STOP_REPLICA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(5)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    topic_name: str = field(metadata=_STR)
    partition_states: tuple[StopReplicaPartitionState, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StopReplicaRequest:
    __type__: ClassVar = EntityType.request
    __version__: ClassVar[i16] = i16(STOP_REPLICA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(5)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    controller_id: int = field(metadata=_I32)
    controller_epoch: int = field(metadata=_I32)
    broker_epoch: int = field(metadata=_I64, default=-1)
    topic_states: tuple[StopReplicaTopicState, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StopReplicaResponse:
    __type__: ClassVar = EntityType.response
    __version__: ClassVar[i16] = i16(STOP_REPLICA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(5)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    error_code: ErrorCode = field(metadata=_ERR)
    partition_errors: tuple[PartitionError, ...]


# --- UpdateMetadata (6) -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataPartitionState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    partition_index: int = field(metadata=_I32)
    controller_epoch: int = field(metadata=_I32)
    leader: int = field(metadata=_I32)
    leader_epoch: int = field(metadata=_I32)
    isr: tuple[int, ...] = field(metadata=_I32, default=())
    zk_version: int = field(metadata=_I32)
    replicas: tuple[int, ...] = field(metadata=_I32, default=())
    offline_replicas: tuple[int, ...] = field(metadata=_I32, default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataTopicState:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    topic_name: str = field(metadata=_STR)
    partition_states: tuple[UpdateMetadataPartitionState, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataEndpoint:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    port: int = field(metadata=_I32)
    host: str = field(metadata=_STR)
    listener: str = field(metadata=_STR)
    security_protocol: int = field(metadata=_I16)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataBroker:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    id: int = field(metadata=_I32)
    endpoints: tuple[UpdateMetadataEndpoint, ...]
    rack: str | None = field(metadata=_STR)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataRequest:
    __type__: ClassVar = EntityType.request
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    controller_id: int = field(metadata=_I32)
    controller_epoch: int = field(metadata=_I32)
    broker_epoch: int = field(metadata=_I64, default=-1)
    topic_states: tuple[UpdateMetadataTopicState, ...]
    live_brokers: tuple[UpdateMetadataBroker, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateMetadataResponse:
    __type__: ClassVar = EntityType.response
    __version__: ClassVar[i16] = i16(UPDATE_METADATA_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(6)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    error_code: ErrorCode = field(metadata=_ERR)


# --- ControlledShutdown (7) ------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ControlledShutdownRequest:
    __type__: ClassVar = EntityType.request
    __version__: ClassVar[i16] = i16(CONTROLLED_SHUTDOWN_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(7)
    __header_schema__: ClassVar[type[RequestHeader]] = RequestHeader
    broker_id: int = field(metadata=_I32)
    broker_epoch: int = field(metadata=_I64, default=-1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemainingPartition:
    __type__: ClassVar = EntityType.nested
    __version__: ClassVar[i16] = i16(CONTROLLED_SHUTDOWN_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(7)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    topic_name: str = field(metadata=_STR)
    partition_index: int = field(metadata=_I32)


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlledShutdownResponse:
    __type__: ClassVar = EntityType.response
    __version__: ClassVar[i16] = i16(CONTROLLED_SHUTDOWN_VERSION)
    __flexible__: ClassVar[bool] = True
    __api_key__: ClassVar[i16] = i16(7)
    __header_schema__: ClassVar[type[ResponseHeader]] = ResponseHeader
    error_code: ErrorCode = field(metadata=_ERR)
    remaining_partitions: tuple[RemainingPartition, ...]


_READERS: dict[type[Any], Any] = {}


def decode(cls: type[Any], buf: bytes | memoryview, offset: int) -> Any:
    """A body of one of these classes at `offset`; InvalidRequest when it does not parse."""
    reader = _READERS.get(cls)
    if reader is None:
        reader = _READERS[cls] = entity_reader(cls)
    try:
        check_request_bounds(cls, buf, offset)
        body, _ = reader(buf, offset)
    except (InvalidRequest, SerialError, ValueError, TypeError, IndexError, KeyError) as exc:
        raise InvalidRequest(f"Error reading {cls.__name__}: {exc}") from None
    return body
