"""Records of `__consumer_offsets`: Kafka's OffsetCommit and GroupMetadata keys and values.

Every key starts with an int16 record type (the "key version"); every value with an int16 schema
version. Versions below 4 use classic types, version 4 values are "flexible" (compact types and
tagged fields). A null value is a tombstone (offset deleted / group removed).

    key type 0, 1  OffsetCommitKey    group string, topic string, partition int32
    key type 2     GroupMetadataKey   group string

    OffsetCommitValue                 v0  v1  v2  v3  v4
      offset            int64         x   x   x   x   x
      leaderEpoch       int32                     x   x   (-1 = none)
      metadata          string        x   x   x   x   x
      commitTimestamp   int64         x   x   x   x   x
      expireTimestamp   int64             x

    GroupMetadataValue                v0  v1  v2  v3  v4
      protocolType      string        x   x   x   x   x
      generation        int32         x   x   x   x   x
      protocol          string?       x   x   x   x   x
      leader            string?       x   x   x   x   x
      currentStateTimestamp int64             x   x   x
      members           [Member]      x   x   x   x   x
        memberId string, groupInstanceId string? (v3+), clientId string, clientHost string,
        rebalanceTimeout int32 (v1+), sessionTimeout int32, subscription bytes, assignment bytes

    classic: string = int16 length + UTF-8 (-1 = null), bytes = int32 length, array = int32 count
    compact: length/count as unsigned varint of n+1 (0 = null); each struct ends with tagged fields
             (uvarint count, then uvarint tag, uvarint size, bytes per field)

Members of "consumer" groups carry ConsumerProtocolSubscription (v0 topics [string], userData
bytes?; v1+ ownedPartitions [topic string, partitions [int32]]; v2+ generationId int32) and
ConsumerProtocolAssignment (assignedPartitions [topic, partitions [int32]], userData bytes?), each
prefixed by its own int16 version, always classic encoding.

`to_json_*` give the JSON that kafka-dump-log.sh --offsets-decoder prints (Kafka's generated
JsonConverters: camelCase field names, only the fields of that version, bytes as base64).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

OFFSET_COMMIT_KEY_TYPES = (0, 1)
GROUP_METADATA_KEY_TYPE = 2
CONSUMER_PROTOCOL_TYPE = "consumer"


class SchemaError(ValueError):
    """Bytes that do not follow the schema (short, bad length, unknown version)."""


class UnknownRecordTypeError(SchemaError):
    def __init__(self, record_type: int) -> None:
        super().__init__(f"unknown record type {record_type}")
        self.record_type = record_type


@dataclass(frozen=True, slots=True)
class OffsetCommitKey:
    group: str
    topic: str
    partition: int
    record_type: int = 1


@dataclass(frozen=True, slots=True)
class GroupMetadataKey:
    group: str
    record_type: int = GROUP_METADATA_KEY_TYPE


@dataclass(frozen=True, slots=True)
class OffsetCommitValue:
    offset: int
    metadata: str = ""
    commit_timestamp: int = -1
    leader_epoch: int = -1
    expire_timestamp: int = -1
    version: int = 3


@dataclass(frozen=True, slots=True)
class MemberMetadata:
    member_id: str
    client_id: str
    client_host: str
    session_timeout: int
    subscription: bytes
    assignment: bytes
    rebalance_timeout: int = -1
    group_instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class GroupMetadataValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    members: tuple[MemberMetadata, ...] = ()
    current_state_timestamp: int = -1
    version: int = 3


@dataclass(frozen=True, slots=True)
class TopicPartitions:
    topic: str
    partitions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ConsumerProtocolSubscription:
    topics: tuple[str, ...]
    user_data: bytes | None = None
    owned_partitions: tuple[TopicPartitions, ...] = ()
    generation_id: int = -1
    version: int = 0


@dataclass(frozen=True, slots=True)
class ConsumerProtocolAssignment:
    assigned_partitions: tuple[TopicPartitions, ...]
    user_data: bytes | None = None
    version: int = 0


# -- reading --------------------------------------------------------------------------------


@dataclass
class _Reader:
    buf: bytes
    flexible: bool = False
    pos: int = field(default=0)

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise SchemaError(
                f"need {n} bytes at position {self.pos}, have {len(self.buf) - self.pos}"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def int16(self) -> int:
        return int(struct.unpack(">h", self._take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack(">i", self._take(4))[0])

    def int64(self) -> int:
        return int(struct.unpack(">q", self._take(8))[0])

    def uvarint(self) -> int:
        result = shift = 0
        for _ in range(5):
            byte = self._take(1)[0]
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
        raise SchemaError("unsigned varint longer than 5 bytes")

    def _length(self, classic: int) -> int:
        return self.uvarint() - 1 if self.flexible else classic

    def nullable_string(self) -> str | None:
        n = self._length(self.int16() if not self.flexible else 0)
        if n < 0:
            return None
        try:
            return self._take(n).decode()
        except UnicodeDecodeError as exc:
            raise SchemaError(f"string is not UTF-8: {exc}") from None

    def string(self) -> str:
        s = self.nullable_string()
        if s is None:
            raise SchemaError("null where a string is required")
        return s

    def nullable_bytes(self) -> bytes | None:
        n = self._length(self.int32() if not self.flexible else 0)
        return None if n < 0 else self._take(n)

    def array_len(self) -> int:
        n = self._length(self.int32() if not self.flexible else 0)
        if n > len(self.buf) - self.pos:
            raise SchemaError(f"array of {n} elements overruns the data")
        return n

    def tagged_fields(self) -> None:
        if self.flexible:
            for _ in range(self.uvarint()):
                self.uvarint()
                self._take(self.uvarint())


def parse_key(key: bytes) -> OffsetCommitKey | GroupMetadataKey:
    r = _Reader(key)
    record_type = r.int16()
    if record_type in OFFSET_COMMIT_KEY_TYPES:
        return OffsetCommitKey(r.string(), r.string(), r.int32(), record_type)
    if record_type == GROUP_METADATA_KEY_TYPE:
        return GroupMetadataKey(r.string(), record_type)
    raise UnknownRecordTypeError(record_type)


def parse_offset_commit_value(value: bytes) -> OffsetCommitValue:
    r = _Reader(value)
    version = r.int16()
    if not 0 <= version <= 4:
        raise SchemaError(f"unknown OffsetCommitValue version {version}")
    r.flexible = version >= 4
    offset = r.int64()
    leader_epoch = r.int32() if version >= 3 else -1
    metadata = r.string()
    commit_ts = r.int64()
    expire_ts = r.int64() if version == 1 else -1
    r.tagged_fields()
    return OffsetCommitValue(offset, metadata, commit_ts, leader_epoch, expire_ts, version)


def parse_group_metadata_value(value: bytes) -> GroupMetadataValue:
    r = _Reader(value)
    version = r.int16()
    if not 0 <= version <= 4:
        raise SchemaError(f"unknown GroupMetadataValue version {version}")
    r.flexible = version >= 4
    protocol_type = r.string()
    generation = r.int32()
    protocol = r.nullable_string()
    leader = r.nullable_string()
    state_ts = r.int64() if version >= 2 else -1
    members = []
    for _ in range(r.array_len()):
        member_id = r.string()
        instance_id = r.nullable_string() if version >= 3 else None
        client_id = r.string()
        client_host = r.string()
        rebalance_timeout = r.int32() if version >= 1 else -1
        session_timeout = r.int32()
        subscription = r.nullable_bytes() or b""
        assignment = r.nullable_bytes() or b""
        r.tagged_fields()
        members.append(
            MemberMetadata(
                member_id,
                client_id,
                client_host,
                session_timeout,
                subscription,
                assignment,
                rebalance_timeout,
                instance_id,
            )
        )
    r.tagged_fields()
    return GroupMetadataValue(
        protocol_type, generation, protocol, leader, tuple(members), state_ts, version
    )


def _topic_partitions(r: _Reader) -> tuple[TopicPartitions, ...]:
    out = []
    for _ in range(r.array_len()):
        topic = r.string()
        out.append(TopicPartitions(topic, tuple(r.int32() for _ in range(r.array_len()))))
    return tuple(out)


def parse_subscription(data: bytes) -> ConsumerProtocolSubscription:
    r = _Reader(data)
    version = r.int16()
    if version < 0:
        raise SchemaError(f"invalid subscription version {version}")
    topics = tuple(r.string() for _ in range(r.array_len()))
    user_data = r.nullable_bytes()
    # Later versions only append fields, so a newer version is read as the newest we know.
    owned = _topic_partitions(r) if version >= 1 else ()
    generation_id = r.int32() if version >= 2 else -1
    return ConsumerProtocolSubscription(topics, user_data, owned, generation_id, version)


def parse_assignment(data: bytes) -> ConsumerProtocolAssignment:
    r = _Reader(data)
    version = r.int16()
    if version < 0:
        raise SchemaError(f"invalid assignment version {version}")
    return ConsumerProtocolAssignment(_topic_partitions(r), r.nullable_bytes(), version)


# -- writing --------------------------------------------------------------------------------


class _Writer:
    def __init__(self, flexible: bool = False) -> None:
        self.out = bytearray()
        self.flexible = flexible

    def int16(self, v: int) -> None:
        self.out += struct.pack(">h", v)

    def int32(self, v: int) -> None:
        self.out += struct.pack(">i", v)

    def int64(self, v: int) -> None:
        self.out += struct.pack(">q", v)

    def uvarint(self, v: int) -> None:
        while v >= 0x80:
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7
        self.out.append(v)

    def _length(self, n: int, classic: str) -> None:
        if self.flexible:
            self.uvarint(n + 1)
        else:
            self.out += struct.pack(classic, n)

    def string(self, s: str | None) -> None:
        if s is None:
            self._length(-1, ">h")
            return
        raw = s.encode()
        self._length(len(raw), ">h")
        self.out += raw

    def bytes_(self, b: bytes | None) -> None:
        if b is None:
            self._length(-1, ">i")
            return
        self._length(len(b), ">i")
        self.out += b

    def array_len(self, n: int) -> None:
        self._length(n, ">i")

    def tagged_fields(self) -> None:
        if self.flexible:
            self.uvarint(0)


def encode_key(key: OffsetCommitKey | GroupMetadataKey) -> bytes:
    w = _Writer()
    w.int16(key.record_type)
    w.string(key.group)
    if isinstance(key, OffsetCommitKey):
        w.string(key.topic)
        w.int32(key.partition)
    return bytes(w.out)


def encode_offset_commit_value(v: OffsetCommitValue) -> bytes:
    w = _Writer(v.version >= 4)
    w.int16(v.version)
    w.int64(v.offset)
    if v.version >= 3:
        w.int32(v.leader_epoch)
    w.string(v.metadata)
    w.int64(v.commit_timestamp)
    if v.version == 1:
        w.int64(v.expire_timestamp)
    w.tagged_fields()
    return bytes(w.out)


def encode_group_metadata_value(v: GroupMetadataValue) -> bytes:
    w = _Writer(v.version >= 4)
    w.int16(v.version)
    w.string(v.protocol_type)
    w.int32(v.generation)
    w.string(v.protocol)
    w.string(v.leader)
    if v.version >= 2:
        w.int64(v.current_state_timestamp)
    w.array_len(len(v.members))
    for m in v.members:
        w.string(m.member_id)
        if v.version >= 3:
            w.string(m.group_instance_id)
        w.string(m.client_id)
        w.string(m.client_host)
        if v.version >= 1:
            w.int32(m.rebalance_timeout)
        w.int32(m.session_timeout)
        w.bytes_(m.subscription)
        w.bytes_(m.assignment)
        w.tagged_fields()
    w.tagged_fields()
    return bytes(w.out)


def _write_topic_partitions(w: _Writer, items: tuple[TopicPartitions, ...]) -> None:
    w.array_len(len(items))
    for tp in items:
        w.string(tp.topic)
        w.array_len(len(tp.partitions))
        for p in tp.partitions:
            w.int32(p)


def encode_subscription(s: ConsumerProtocolSubscription) -> bytes:
    w = _Writer()
    w.int16(s.version)
    w.array_len(len(s.topics))
    for t in s.topics:
        w.string(t)
    w.bytes_(s.user_data)
    if s.version >= 1:
        _write_topic_partitions(w, s.owned_partitions)
    if s.version >= 2:
        w.int32(s.generation_id)
    return bytes(w.out)


def encode_assignment(a: ConsumerProtocolAssignment) -> bytes:
    w = _Writer()
    w.int16(a.version)
    _write_topic_partitions(w, a.assigned_partitions)
    w.bytes_(a.user_data)
    return bytes(w.out)
