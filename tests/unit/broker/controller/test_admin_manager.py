"""AdminManager's checks and Kafka's messages, over an in-memory AdminZk (no sockets)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

import pytest

from kcli.broker.admin_manager import AdminError, AdminManager
from kcli.broker.config import from_properties
from kcli.broker.metadata_cache import BrokerEndpoint, BrokerInfo, MetadataCache
from kcli.clock import MockClock
from kcli.protocol.errors import ErrorCode

Assignment = dict[int, tuple[int, ...]]


class MemoryAdminZk:
    """The znodes AdminZk writes, kept in dicts."""

    def __init__(self) -> None:
        self.topics: dict[str, tuple[Assignment, uuid.UUID | None, int]] = {}
        self.configs: dict[str, dict[str, str]] = {}
        self.deleting: set[str] = set()
        self.notifications: list[str] = []

    async def topic_names(self) -> list[str]:
        return sorted(self.topics)

    async def topics_marked_for_deletion(self) -> list[str]:
        return sorted(self.deleting)

    async def get_assignment(self, topic: str) -> tuple[Assignment, uuid.UUID | None, int] | None:
        return self.topics.get(topic)

    async def create_topic(
        self, topic: str, topic_id: uuid.UUID, assignment: Assignment, config: Mapping[str, str]
    ) -> bool:
        if topic in self.topics:
            return False
        self.configs[topic] = dict(config)
        self.topics[topic] = (dict(assignment), topic_id, 0)
        return True

    async def set_assignment(
        self, topic: str, topic_id: uuid.UUID | None, assignment: Assignment, version: int
    ) -> bool:
        if self.topics[topic][2] != version:
            return False
        self.topics[topic] = (dict(assignment), topic_id, version + 1)
        return True

    async def mark_for_deletion(self, topic: str) -> bool:
        new = topic not in self.deleting
        self.deleting.add(topic)
        return new

    async def get_topic_config(self, topic: str) -> dict[str, str]:
        return dict(self.configs.get(topic, {}))

    async def set_topic_config(self, topic: str, config: Mapping[str, str]) -> None:
        self.configs[topic] = dict(config)
        self.notifications.append(f"topics/{topic}")


def _manager(brokers: int = 1, **props: str) -> tuple[AdminManager, MemoryAdminZk]:
    cache = MetadataCache()
    for b in range(brokers):
        cache.set_broker(BrokerInfo(b, (BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9092 + b),)))
    config = from_properties({"zookeeper.connect": "127.0.0.1:2181", **props})
    zk = MemoryAdminZk()
    return AdminManager(config, cache, zk, MockClock()), zk


def _error(coro: object) -> AdminError:
    with pytest.raises(AdminError) as info:
        asyncio.run(coro)  # type: ignore[arg-type]
    return info.value


def test_create_uses_broker_defaults_and_writes_config() -> None:
    admin, zk = _manager(3, **{"num.partitions": "4", "default.replication.factor": "2"})

    async def go() -> None:
        new = await admin.prepare_topic("orders", -1, -1, None, {"retention.ms": "1000"})
        assert len(new.assignment) == 4 and new.replication_factor == 2
        await admin.create_topic(new)

    asyncio.run(go())
    assert zk.configs["orders"] == {"retention.ms": "1000"}
    assignment = zk.topics["orders"][0]
    assert sorted(assignment) == [0, 1, 2, 3]
    assert all(len(set(r)) == 2 and set(r) <= {0, 1, 2} for r in assignment.values())


def test_kafkas_errors_and_messages() -> None:
    admin, zk = _manager(1)
    asyncio.run(admin.create_topic(asyncio.run(admin.prepare_topic("x", 1, 1, None, {}))))
    cases = [
        (("x", 1, 1, None, {}), ErrorCode.topic_already_exists, "Topic 'x' already exists."),
        (("big", 1, 3, None, {}), ErrorCode.invalid_replication_factor,
         "Replication factor: 3 larger than available brokers: 1."),
        (("p", 0, 1, None, {}), ErrorCode.invalid_partitions,
         "Number of partitions must be larger than 0."),
        (("a b", 1, 1, None, {}), ErrorCode.invalid_topic_exception, None),
        (("c", 1, 1, None, {"retention.ms": "abc"}), ErrorCode.invalid_config,
         "Invalid value abc for configuration retention.ms: Not a number of type LONG"),
        (("c", 1, 1, None, {"no.such": "1"}), ErrorCode.invalid_config,
         "Unknown topic config name: no.such"),
        (("c", 1, 1, None, {"retention.ms": None}), ErrorCode.invalid_request,
         "Null value not supported for topic configs: retention.ms"),
        (("c", 2, -1, {0: [0]}, {}), ErrorCode.invalid_request, None),
        (("c", -1, -1, {0: [0, 0]}, {}), ErrorCode.invalid_replica_assignment, None),
    ]  # fmt: skip
    for args, code, message in cases:
        err = _error(admin.prepare_topic(*args))  # type: ignore[arg-type]
        assert err.code == code, args
        if message is not None:
            assert err.message == message
    zk.topics["a_b"] = ({0: (0,)}, None, 0)
    err = _error(admin.prepare_topic("a.b", 1, 1, None, {}))
    assert (err.code, err.message) == (
        ErrorCode.invalid_topic_exception, "Topic 'a.b' collides with existing topics: a_b",
    )  # fmt: skip
    zk.deleting.add("gone")
    assert _error(admin.prepare_topic("gone", 1, 1, None, {})).message == (
        'Topic "gone" is queued for deletion.'
    )


def test_add_partitions_continues_rotation_and_checks() -> None:
    admin, zk = _manager(3)
    zk.topics["t"] = ({0: (1, 2), 1: (2, 0)}, None, 0)
    added = asyncio.run(admin.add_partitions("t", 4, None, validate_only=False))
    assert added == [2, 3]
    assignment = zk.topics["t"][0]
    assert assignment[2][0] == 0 and assignment[3][0] == 1  # leaders keep rotating from p0's
    assert _error(admin.add_partitions("t", 4, None, False)).message == (
        "Topic already has 4 partitions."
    )
    assert _error(admin.add_partitions("t", 2, None, False)).code == ErrorCode.invalid_partitions
    assert _error(admin.add_partitions("t", 6, [(0, 1)], False)).message == (
        "Increasing the number of partitions by 2 but 1 assignments provided."
    )
    assert _error(admin.add_partitions("t", 5, [(0, 7)], False)).message == (
        "Unknown broker(s) in replica assignment: 7."
    )
    assert _error(admin.add_partitions("nope", 5, None, False)).code == (
        ErrorCode.unknown_topic_or_partition
    )
    assert asyncio.run(admin.add_partitions("t", 5, [(2, 1)], validate_only=True)) == [4]
    assert len(zk.topics["t"][0]) == 4  # validate_only wrote nothing


def test_alter_topic_config_validates_then_notifies() -> None:
    admin, zk = _manager(1)
    zk.topics["t"] = ({0: (0,)}, None, 0)
    asyncio.run(admin.alter_topic_config("t", {"cleanup.policy": "compact"}, False))
    assert zk.configs["t"] == {"cleanup.policy": "compact"}
    assert zk.notifications == ["topics/t"]
    err = _error(admin.alter_topic_config("t", {"segment.bytes": "1"}, False))
    assert (
        err.message == "Invalid value 1 for configuration segment.bytes: Value must be at least 14"
    )
    asyncio.run(admin.alter_topic_config("t", {"retention.ms": "5"}, validate_only=True))
    assert zk.configs["t"] == {"cleanup.policy": "compact"}
    assert _error(admin.alter_topic_config("u", {}, False)).message == (
        "The topic 'u' does not exist."
    )
