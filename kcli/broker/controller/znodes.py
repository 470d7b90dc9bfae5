"""Kafka's ZooKeeper layout (ZkData.scala): one class per znode with its path, encode and decode.

JSON is compact with Kafka's key order; timestamps are strings of epoch milliseconds. Paths are
relative to the chroot of zookeeper.connect. Decoders accept every version Kafka has written,
so a cluster whose znodes were made by a real Kafka (or by `kafka-topics.sh --zookeeper`) reads.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

from kcli.broker.metadata_cache import BrokerEndpoint, BrokerInfo, PartitionState


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _load(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


class ClusterIdZNode:
    path = "/cluster/id"

    @staticmethod
    def new_id() -> str:
        """A base64url UUID without padding (22 chars), as Kafka's Uuid.randomUuid().toString."""
        return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    @staticmethod
    def encode(cluster_id: str) -> bytes:
        return _dump({"version": "1", "id": cluster_id})

    @staticmethod
    def decode(data: bytes) -> str:
        return str(_load(data)["id"])


class ControllerZNode:
    """Ephemeral; the broker that created it is the controller."""

    path = "/controller"

    @staticmethod
    def encode(broker_id: int, timestamp_ms: int) -> bytes:
        return _dump({"version": 1, "brokerid": broker_id, "timestamp": str(timestamp_ms)})

    @staticmethod
    def decode(data: bytes) -> int:
        try:
            return int(_load(data)["brokerid"])
        except (ValueError, KeyError, TypeError):
            return int(data.decode().strip())  # Kafka 0.8 wrote a bare id


class ControllerEpochZNode:
    """ASCII integer; its zkVersion fences every controller write."""

    path = "/controller_epoch"

    @staticmethod
    def encode(epoch: int) -> bytes:
        return str(epoch).encode()

    @staticmethod
    def decode(data: bytes) -> int:
        return int(data.decode().strip())


class BrokerIdsZNode:
    path = "/brokers/ids"


class BrokerSequenceIdZNode:
    path = "/brokers/seqid"


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    broker_id: int
    endpoints: tuple[tuple[str, str, str, int], ...]  # (listener, protocol, host, port)
    rack: str | None
    timestamp_ms: int
    jmx_port: int = -1


class BrokerIdZNode:
    """Ephemeral `/brokers/ids/<id>`, version 5 (IBP >= 2.7); its czxid is the broker epoch."""

    @staticmethod
    def path(broker_id: int) -> str:
        return f"/brokers/ids/{broker_id}"

    @staticmethod
    def encode(reg: BrokerRegistration) -> bytes:
        plaintext = [e for e in reg.endpoints if e[1] == "PLAINTEXT"]
        host, port = (plaintext[0][2], plaintext[0][3]) if plaintext else (None, -1)
        obj: dict[str, Any] = {
            "features": {},
            "listener_security_protocol_map": {e[0]: e[1] for e in reg.endpoints},
            "endpoints": [f"{e[0]}://{e[2]}:{e[3]}" for e in reg.endpoints],
            "jmx_port": reg.jmx_port,
            "port": port,
            "host": host,
            "version": 5,
            "timestamp": str(reg.timestamp_ms),
        }
        if reg.rack is not None:
            obj["rack"] = reg.rack
        return _dump(obj)

    @staticmethod
    def decode(broker_id: int, data: bytes) -> BrokerInfo:
        obj = _load(data)
        endpoints: list[BrokerEndpoint] = []
        for text in obj.get("endpoints") or []:
            name, _, rest = str(text).partition("://")
            host, _, port = rest.rpartition(":")
            endpoints.append(BrokerEndpoint(name, host.strip("[]"), int(port)))
        if not endpoints and obj.get("host"):  # version 1-2 registrations
            endpoints.append(BrokerEndpoint("PLAINTEXT", str(obj["host"]), int(obj["port"])))
        return BrokerInfo(broker_id, tuple(endpoints), obj.get("rack"))


class TopicsZNode:
    path = "/brokers/topics"


@dataclass(frozen=True, slots=True)
class TopicAssignment:
    partitions: dict[int, tuple[int, ...]]
    topic_id: uuid.UUID | None = None
    adding: dict[int, tuple[int, ...]] | None = None
    removing: dict[int, tuple[int, ...]] | None = None


class TopicZNode:
    """`/brokers/topics/<t>`: replica assignment, version 3 with the topic id (Kafka 2.8+)."""

    @staticmethod
    def path(topic: str) -> str:
        return f"/brokers/topics/{topic}"

    @staticmethod
    def encode(assignment: TopicAssignment) -> bytes:
        def as_json(parts: dict[int, tuple[int, ...]] | None) -> dict[str, list[int]]:
            return {str(p): list(r) for p, r in sorted((parts or {}).items())}

        obj: dict[str, Any] = {
            "version": 3,
            "partitions": as_json(assignment.partitions),
            "adding_replicas": as_json(assignment.adding),
            "removing_replicas": as_json(assignment.removing),
        }
        if assignment.topic_id is not None:
            obj["topic_id"] = _kafka_uuid(assignment.topic_id)
        return _dump(obj)

    @staticmethod
    def decode(data: bytes) -> TopicAssignment:
        obj = _load(data)

        def parts(key: str) -> dict[int, tuple[int, ...]]:
            return {int(p): tuple(int(b) for b in r) for p, r in (obj.get(key) or {}).items()}

        raw_id = obj.get("topic_id")
        return TopicAssignment(
            parts("partitions"),
            _parse_kafka_uuid(raw_id) if raw_id else None,
            parts("adding_replicas"),
            parts("removing_replicas"),
        )


def _kafka_uuid(value: uuid.UUID) -> str:
    """Kafka prints topic ids as base64url without padding."""
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def _parse_kafka_uuid(text: str) -> uuid.UUID:
    if len(text) == 22:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=="))
    return uuid.UUID(text)


class TopicPartitionsZNode:
    @staticmethod
    def path(topic: str) -> str:
        return f"/brokers/topics/{topic}/partitions"


class TopicPartitionZNode:
    @staticmethod
    def path(topic: str, partition: int) -> str:
        return f"/brokers/topics/{topic}/partitions/{partition}"


class TopicPartitionStateZNode:
    """`/brokers/topics/<t>/partitions/<p>/state`: leader and ISR; zkVersion = partition epoch."""

    @staticmethod
    def path(topic: str, partition: int) -> str:
        return f"/brokers/topics/{topic}/partitions/{partition}/state"

    @staticmethod
    def encode(state: PartitionState) -> bytes:
        return _dump(
            {
                "controller_epoch": state.controller_epoch,
                "leader": state.leader,
                "version": 1,
                "leader_epoch": state.leader_epoch,
                "isr": list(state.isr),
            }
        )

    @staticmethod
    def decode(data: bytes, zk_version: int = 0) -> PartitionState:
        obj = _load(data)
        return PartitionState(
            leader=int(obj["leader"]),
            leader_epoch=int(obj["leader_epoch"]),
            isr=tuple(int(b) for b in obj["isr"]),
            controller_epoch=int(obj["controller_epoch"]),
            zk_version=zk_version,
        )


class ConfigEntityZNode:
    """`/config/<type>/<name>`: dynamic config overrides, all values strings."""

    @staticmethod
    def path(entity_type: str, name: str) -> str:
        return f"/config/{entity_type}/{name}"

    @staticmethod
    def encode(config: dict[str, str]) -> bytes:
        return _dump({"version": 1, "config": config})

    @staticmethod
    def decode(data: bytes | None) -> dict[str, str]:
        if not data:
            return {}
        return {str(k): str(v) for k, v in (_load(data).get("config") or {}).items()}


class ConfigEntityChangeNotificationZNode:
    path = "/config/changes"
    sequence_prefix = "/config/changes/config_change_"

    @staticmethod
    def encode(entity_path: str) -> bytes:
        return _dump({"version": 2, "entity_path": entity_path})


class ConfigEntityChangeNotificationSequenceZNode:
    """`/config/changes/config_change_0000000007`: which entity's config changed."""

    prefix = "config_change_"

    @staticmethod
    def sequence(name: str) -> int | None:
        """The 10-digit sequence number of a child name, or None for a foreign child."""
        tail = name[len(ConfigEntityChangeNotificationSequenceZNode.prefix) :]
        ok = name.startswith(ConfigEntityChangeNotificationSequenceZNode.prefix) and tail.isdigit()
        return int(tail) if ok else None

    @staticmethod
    def decode(data: bytes) -> str:
        """The entity path (`topics/orders`); version 1 had entity_type and entity_name."""
        obj = _load(data)
        if "entity_path" in obj:
            return str(obj["entity_path"])
        return f"{obj['entity_type']}/{obj['entity_name']}"


class DeleteTopicsZNode:
    path = "/admin/delete_topics"


class DeleteTopicsTopicZNode:
    """`/admin/delete_topics/<t>`: a deletion request (no data)."""

    @staticmethod
    def path(topic: str) -> str:
        return f"{DeleteTopicsZNode.path}/{topic}"


class IsrChangeNotificationZNode:
    path = "/isr_change_notification"


class IsrChangeNotificationSequenceZNode:
    """`/isr_change_notification/isr_change_<10 digits>`: partitions whose ISR a leader
    changed by writing their state znode itself (the IBP < 2.7 path); the controller reads,
    refreshes and deletes them."""

    sequence_prefix = "/isr_change_notification/isr_change_"

    @staticmethod
    def encode(partitions: list[tuple[str, int]]) -> bytes:
        return _dump(
            {"version": 1, "partitions": [{"topic": t, "partition": p} for t, p in partitions]}
        )

    @staticmethod
    def decode(data: bytes) -> list[tuple[str, int]]:
        return [(str(e["topic"]), int(e["partition"])) for e in _load(data)["partitions"]]


class LogDirEventNotificationZNode:
    path = "/log_dir_event_notification"


class ProducerIdBlockZNode:
    path = "/latest_producer_id_block"


class ConsumerPathZNode:
    path = "/consumers"


CONFIG_TYPES = ("topics", "clients", "users", "brokers", "ips")

# ZkData.PersistentZkPaths: created by every broker at start-up.
PERSISTENT_PATHS: tuple[str, ...] = (
    ConsumerPathZNode.path,
    BrokerIdsZNode.path,
    TopicsZNode.path,
    ConfigEntityChangeNotificationZNode.path,
    DeleteTopicsZNode.path,
    BrokerSequenceIdZNode.path,
    IsrChangeNotificationZNode.path,
    ProducerIdBlockZNode.path,
    LogDirEventNotificationZNode.path,
    *(f"/config/{t}" for t in CONFIG_TYPES),
)
