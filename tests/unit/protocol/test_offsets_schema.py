"""`__consumer_offsets` key/value schemas and the --offsets-decoder JSON."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.protocol.offsets_json import DELETE_MARKER, decode_record
from kcli.protocol.offsets_schema import (
    ConsumerProtocolAssignment,
    ConsumerProtocolSubscription,
    GroupMetadataKey,
    GroupMetadataValue,
    MemberMetadata,
    OffsetCommitKey,
    OffsetCommitValue,
    SchemaError,
    TopicPartitions,
    UnknownRecordTypeError,
    encode_assignment,
    encode_group_metadata_value,
    encode_key,
    encode_offset_commit_value,
    encode_subscription,
    parse_assignment,
    parse_group_metadata_value,
    parse_key,
    parse_offset_commit_value,
    parse_subscription,
)

names = st.text(max_size=10)
i32 = st.integers(-(2**31), 2**31 - 1)
i64 = st.integers(-(2**63), 2**63 - 1)


def test_offset_commit_key_bytes_by_hand() -> None:
    raw = b"\x00\x01" + b"\x00\x01g" + b"\x00\x01t" + b"\x00\x00\x00\x03"
    assert parse_key(raw) == OffsetCommitKey("g", "t", 3, 1)
    assert encode_key(OffsetCommitKey("g", "t", 3, 1)) == raw
    assert parse_key(b"\x00\x02\x00\x02gg") == GroupMetadataKey("gg")


def test_offset_commit_value_v3_bytes_by_hand() -> None:
    raw = (
        b"\x00\x03"
        + (42).to_bytes(8, "big")
        + (5).to_bytes(4, "big")
        + b"\x00\x02md"
        + (1700).to_bytes(8, "big")
    )
    value = parse_offset_commit_value(raw)
    assert value == OffsetCommitValue(42, "md", 1700, leader_epoch=5, version=3)
    assert encode_offset_commit_value(value) == raw


@settings(deadline=None)
@given(
    st.builds(
        OffsetCommitValue,
        offset=i64,
        metadata=names,
        commit_timestamp=i64,
        leader_epoch=i32,
        expire_timestamp=i64,
        version=st.integers(0, 4),
    )
)
def test_offset_commit_value_round_trip(value: OffsetCommitValue) -> None:
    out = parse_offset_commit_value(encode_offset_commit_value(value))
    assert out.offset == value.offset and out.metadata == value.metadata
    assert out.commit_timestamp == value.commit_timestamp
    assert out.leader_epoch == (value.leader_epoch if value.version >= 3 else -1)
    assert out.expire_timestamp == (value.expire_timestamp if value.version == 1 else -1)


members = st.builds(
    MemberMetadata,
    member_id=names,
    client_id=names,
    client_host=names,
    session_timeout=i32,
    subscription=st.binary(max_size=20),
    assignment=st.binary(max_size=20),
    rebalance_timeout=i32,
    group_instance_id=st.none() | names,
)


@settings(deadline=None)
@given(
    st.builds(
        GroupMetadataValue,
        protocol_type=names,
        generation=i32,
        protocol=st.none() | names,
        leader=st.none() | names,
        members=st.lists(members, max_size=3).map(tuple),
        current_state_timestamp=i64,
        version=st.integers(0, 4),
    )
)
def test_group_metadata_value_round_trip(value: GroupMetadataValue) -> None:
    out = parse_group_metadata_value(encode_group_metadata_value(value))
    assert (out.protocol_type, out.generation) == (value.protocol_type, value.generation)
    assert (out.protocol, out.leader) == (value.protocol, value.leader)
    v = value.version
    assert out.current_state_timestamp == (value.current_state_timestamp if v >= 2 else -1)
    assert [m.member_id for m in out.members] == [m.member_id for m in value.members]
    assert [m.subscription for m in out.members] == [m.subscription for m in value.members]
    if v >= 3:
        ids = [m.group_instance_id for m in value.members]
        assert [m.group_instance_id for m in out.members] == ids


def test_consumer_protocol_round_trip() -> None:
    sub = ConsumerProtocolSubscription(
        ("a", "b"), None, (TopicPartitions("a", (0, 1)),), 4, version=2
    )
    assert parse_subscription(encode_subscription(sub)) == sub
    assign = ConsumerProtocolAssignment((TopicPartitions("a", (1,)),), b"u", version=1)
    assert parse_assignment(encode_assignment(assign)) == assign


def test_errors() -> None:
    with pytest.raises(UnknownRecordTypeError):
        parse_key(b"\x00\x07\x00\x01g")
    with pytest.raises(SchemaError):
        parse_key(b"\x00\x01\x00\x05ab")
    with pytest.raises(SchemaError):
        parse_offset_commit_value(b"\x00\x09" + bytes(30))


@settings(deadline=None)
@given(st.binary(max_size=60))
def test_garbage_never_raises_other_errors(data: bytes) -> None:
    for parser in (parse_key, parse_offset_commit_value, parse_group_metadata_value):
        with contextlib.suppress(SchemaError):
            parser(data)
    decode_record(data, data, 0)


def test_dump_json_offset_commit_and_tombstone() -> None:
    key = encode_key(OffsetCommitKey("grp", "t", 0, 1))
    value = encode_offset_commit_value(OffsetCommitValue(5, "", 1700, leader_epoch=0, version=3))
    k, v = decode_record(key, value, 9)
    assert k == '{"type":"1","data":{"group":"grp","topic":"t","partition":0}}'
    expected = {"offset": 5, "leaderEpoch": 0, "metadata": "", "commitTimestamp": 1700}
    assert v == '{"version":"3","data":' + json.dumps(expected, separators=(",", ":")) + "}"
    assert decode_record(key, None, 9) == (k, DELETE_MARKER)
    assert decode_record(b"\x00\x09", b"", 3) == (
        "Unknown record type 9 at offset 3, skipping.",
        None,
    )
    assert decode_record(b"\x00\x01", b"", 4)[0].startswith("Error at offset 4, skipping.")


def test_dump_json_group_metadata_expands_consumer_protocol() -> None:
    sub = encode_subscription(ConsumerProtocolSubscription(("t",), None, (), -1, version=1))
    assign = encode_assignment(ConsumerProtocolAssignment((TopicPartitions("t", (0, 1)),), None))
    member = MemberMetadata("m-1", "cli", "/127.0.0.1", 10000, sub, assign, 300000, None)
    value = GroupMetadataValue("consumer", 3, "range", "m-1", (member,), 1700, version=3)
    k, v = decode_record(encode_key(GroupMetadataKey("grp")), encode_group_metadata_value(value), 0)
    assert k == '{"type":"2","data":{"group":"grp"}}'
    assert v is not None
    data = json.loads(v)
    assert data["version"] == "3"
    m = data["data"]["members"][0]
    assert list(m) == [
        "memberId",
        "groupInstanceId",
        "clientId",
        "clientHost",
        "rebalanceTimeout",
        "sessionTimeout",
        "subscription",
        "assignment",
    ]
    assert m["subscription"] == {"topics": ["t"], "userData": None, "ownedPartitions": []}
    assert m["assignment"] == {
        "assignedPartitions": [{"topic": "t", "partitions": [0, 1]}],
        "userData": None,
    }
