"""The znodes `kcli topics --zookeeper` reads and writes: Kafka's paths and JSON (ZkData.scala).

Kafka writes compact JSON; timestamps and config values are strings. Decoders accept every
version a real Kafka has written (v1 topic znodes without `adding_replicas`, hyphenated or
base64url topic ids). The broker keeps its own copy of these classes (broker.controller.znodes):
the admin and broker layers must not import each other, and both follow ZkData.scala.

    /brokers/ids/<id>                          {"version":5,"host":..,"port":..,"endpoints":[..],..}
    /brokers/topics/<t>                        {"version":3,"partitions":{"0":[1,2]},
                                                "adding_replicas":{},"removing_replicas":{},
                                                "topic_id":"<base64url uuid>"}
    /brokers/topics/<t>/partitions/<p>/state   {"controller_epoch":1,"leader":1,"version":1,
                                                "leader_epoch":0,"isr":[1,2]}
    /config/topics/<t>                         {"version":1,"config":{"k":"v"}}
    /config/changes/config_change_<seq>        {"version":2,"entity_path":"topics/<t>"}
    /admin/delete_topics/<t>                   no data
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

BROKER_IDS = "/brokers/ids"
TOPICS = "/brokers/topics"
DELETE_TOPICS = "/admin/delete_topics"
CONFIG_CHANGE_PREFIX = "/config/changes/config_change_"


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _load(data: bytes | None) -> Any:
    return json.loads(data.decode("utf-8")) if data else {}


def topic_path(topic: str) -> str:
    return f"{TOPICS}/{topic}"


def partition_state_path(topic: str, partition: int) -> str:
    return f"{TOPICS}/{topic}/partitions/{partition}/state"


def topic_config_path(topic: str) -> str:
    return f"/config/topics/{topic}"


def delete_topic_path(topic: str) -> str:
    return f"{DELETE_TOPICS}/{topic}"


def new_topic_id() -> str:
    """Kafka's Uuid.randomUuid().toString: base64url of 16 bytes without padding."""
    return kafka_uuid_text(uuid.uuid4().bytes)


def kafka_uuid_text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def normalize_topic_id(text: str | None) -> str | None:
    """Either form Kafka has written, as base64url; None for a missing or zero id."""
    if not text:
        return None
    raw = uuid.UUID(text).bytes if len(text) == 36 else base64.urlsafe_b64decode(text + "==")
    return None if raw == bytes(16) else kafka_uuid_text(raw)


@dataclass
class TopicAssignment:
    partitions: dict[int, list[int]]
    topic_id: str | None = None
    adding: dict[int, list[int]] = field(default_factory=dict)
    removing: dict[int, list[int]] = field(default_factory=dict)

    def encode(self) -> bytes:
        def as_json(parts: dict[int, list[int]]) -> dict[str, list[int]]:
            return {str(p): list(r) for p, r in sorted(parts.items())}

        obj: dict[str, Any] = {
            "version": 3,
            "partitions": as_json(self.partitions),
            "adding_replicas": as_json(self.adding),
            "removing_replicas": as_json(self.removing),
        }
        if self.topic_id is not None:
            obj["topic_id"] = self.topic_id
        return _dump(obj)

    @staticmethod
    def decode(data: bytes | None) -> TopicAssignment:
        obj = _load(data)

        def parts(key: str) -> dict[int, list[int]]:
            return {int(p): [int(b) for b in r] for p, r in (obj.get(key) or {}).items()}

        return TopicAssignment(
            parts("partitions"),
            normalize_topic_id(obj.get("topic_id")),
            parts("adding_replicas"),
            parts("removing_replicas"),
        )


@dataclass(frozen=True)
class LeaderAndIsr:
    leader: int
    isr: tuple[int, ...]
    leader_epoch: int = 0
    controller_epoch: int = 0

    @staticmethod
    def decode(data: bytes | None) -> LeaderAndIsr:
        obj = _load(data)
        return LeaderAndIsr(
            int(obj.get("leader", -1)),
            tuple(int(b) for b in obj.get("isr") or ()),
            int(obj.get("leader_epoch", 0)),
            int(obj.get("controller_epoch", 0)),
        )


def encode_entity_config(config: dict[str, str]) -> bytes:
    return _dump({"version": 1, "config": config})


def decode_entity_config(data: bytes | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (_load(data).get("config") or {}).items()}


def encode_config_change(entity_path: str) -> bytes:
    return _dump({"version": 2, "entity_path": entity_path})
