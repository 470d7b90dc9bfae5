"""`__consumer_offsets` records as the JSON that kafka-dump-log.sh --offsets-decoder prints.

Key:   {"type":"<key record type>","data":{...}}     e.g. {"type":"1","data":{"group":"g",...}}
Value: {"version":"<value version>","data":{...}}    a null value prints as <DELETE>

Field names are the schema's in camelCase, only the fields that exist in that version, bytes as
base64; a consumer group's member subscription/assignment bytes are expanded when they parse.
Output is compact (no spaces), like Jackson's ObjectNode.toString().
"""

from __future__ import annotations

import base64
import json
from typing import Any

from kcli.protocol.offsets_schema import (
    CONSUMER_PROTOCOL_TYPE,
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    OffsetCommitValue,
    SchemaError,
    TopicPartitions,
    UnknownRecordTypeError,
    parse_assignment,
    parse_group_metadata_value,
    parse_key,
    parse_offset_commit_value,
    parse_subscription,
)

DELETE_MARKER = "<DELETE>"


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _b64(b: bytes | None) -> str | None:
    return None if b is None else base64.b64encode(b).decode()


def key_json(key: OffsetCommitKey | GroupMetadataKey) -> dict[str, Any]:
    if isinstance(key, OffsetCommitKey):
        data: dict[str, Any] = {"group": key.group, "topic": key.topic, "partition": key.partition}
    else:
        data = {"group": key.group}
    return {"type": str(key.record_type), "data": data}


def offset_commit_json(v: OffsetCommitValue) -> dict[str, Any]:
    data: dict[str, Any] = {"offset": v.offset}
    if v.version >= 3:
        data["leaderEpoch"] = v.leader_epoch
    data["metadata"] = v.metadata
    data["commitTimestamp"] = v.commit_timestamp
    if v.version == 1:
        data["expireTimestamp"] = v.expire_timestamp
    return {"version": str(v.version), "data": data}


def _tps(items: tuple[TopicPartitions, ...]) -> list[dict[str, Any]]:
    return [{"topic": tp.topic, "partitions": list(tp.partitions)} for tp in items]


def _subscription(raw: bytes) -> Any:
    try:
        s = parse_subscription(raw)
    except SchemaError:
        return _b64(raw)  # Kafka keeps the original bytes when they do not parse
    out: dict[str, Any] = {"topics": list(s.topics), "userData": _b64(s.user_data)}
    if s.version >= 1:
        out["ownedPartitions"] = _tps(s.owned_partitions)
    if s.version >= 2:
        out["generationId"] = s.generation_id
    return out


def _assignment(raw: bytes) -> Any:
    try:
        a = parse_assignment(raw)
    except SchemaError:
        return _b64(raw)
    return {"assignedPartitions": _tps(a.assigned_partitions), "userData": _b64(a.user_data)}


def group_metadata_json(v: GroupMetadataValue) -> dict[str, Any]:
    consumer = v.protocol_type == CONSUMER_PROTOCOL_TYPE
    data: dict[str, Any] = {
        "protocolType": v.protocol_type,
        "generation": v.generation,
        "protocol": v.protocol,
        "leader": v.leader,
    }
    if v.version >= 2:
        data["currentStateTimestamp"] = v.current_state_timestamp
    members = []
    for m in v.members:
        member: dict[str, Any] = {"memberId": m.member_id}
        if v.version >= 3:
            member["groupInstanceId"] = m.group_instance_id
        member["clientId"] = m.client_id
        member["clientHost"] = m.client_host
        if v.version >= 1:
            member["rebalanceTimeout"] = m.rebalance_timeout
        member["sessionTimeout"] = m.session_timeout
        member["subscription"] = _subscription(m.subscription) if consumer else _b64(m.subscription)
        member["assignment"] = _assignment(m.assignment) if consumer else _b64(m.assignment)
        members.append(member)
    data["members"] = members
    return {"version": str(v.version), "data": data}


def decode_record(key: bytes | None, value: bytes | None, offset: int) -> tuple[str, str | None]:
    """(key text, payload text or None) for one `__consumer_offsets` record, as Kafka prints it.

    Undecodable records yield Kafka's "... skipping." message as the key and no payload.
    """
    if key is None:
        return (
            f"Error at offset {offset}, skipping. Failed to decode message at offset {offset} "
            "using offset topic decoder (message had a missing key)",
            None,
        )
    try:
        parsed = parse_key(key)
        key_text = _dumps(key_json(parsed))
        if value is None:
            return key_text, DELETE_MARKER
        if isinstance(parsed, OffsetCommitKey):
            return key_text, _dumps(offset_commit_json(parse_offset_commit_value(value)))
        return key_text, _dumps(group_metadata_json(parse_group_metadata_value(value)))
    except UnknownRecordTypeError as exc:
        return f"Unknown record type {exc.record_type} at offset {offset}, skipping.", None
    except SchemaError as exc:
        return f"Error at offset {offset}, skipping. {exc}", None
