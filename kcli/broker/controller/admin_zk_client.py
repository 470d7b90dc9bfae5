"""AdminZkClient: the znode writes behind topic and config administration (Kafka's
AdminZkClient.scala), implementing kcli.broker.admin_manager.AdminZk.

Topic creation writes `/config/topics/<t>` first and then `/brokers/topics/<t>` (not
atomically, as Kafka); the controller's watch on `/brokers/topics` does the rest. Config
changes write `/config/topics/<t>` and then a sequential `/config/changes/config_change_`
notification that every broker's ConfigChangeListener applies.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from kcli.broker.controller.zk import BadVersion, NodeExists, NoNode, ZkClient
from kcli.broker.controller.znodes import (
    ConfigEntityChangeNotificationZNode,
    ConfigEntityZNode,
    DeleteTopicsTopicZNode,
    DeleteTopicsZNode,
    TopicAssignment,
    TopicsZNode,
    TopicZNode,
)

Assignment = dict[int, tuple[int, ...]]


class AdminZkClient:
    def __init__(self, zk: ZkClient) -> None:
        self.zk = zk

    async def topic_names(self) -> list[str]:
        return await self.zk.get_children(TopicsZNode.path) or []

    async def topics_marked_for_deletion(self) -> list[str]:
        return await self.zk.get_children(DeleteTopicsZNode.path) or []

    async def get_assignment(self, topic: str) -> tuple[Assignment, uuid.UUID | None, int] | None:
        found = await self.zk.get(TopicZNode.path(topic))
        if found is None or not found[0]:
            return None
        decoded = TopicZNode.decode(found[0])
        return dict(decoded.partitions), decoded.topic_id, found[1].version

    async def create_topic(
        self, topic: str, topic_id: uuid.UUID, assignment: Assignment, config: Mapping[str, str]
    ) -> bool:
        if await self.zk.exists(TopicZNode.path(topic)) is not None:
            return False
        await self._write_config(topic, config)
        try:
            await self.zk.create(
                TopicZNode.path(topic), TopicZNode.encode(TopicAssignment(assignment, topic_id))
            )
        except NodeExists:
            return False
        return True

    async def set_assignment(
        self, topic: str, topic_id: uuid.UUID | None, assignment: Assignment, version: int
    ) -> bool:
        data = TopicZNode.encode(TopicAssignment(assignment, topic_id))
        try:
            await self.zk.set(TopicZNode.path(topic), data, version=version)
        except (BadVersion, NoNode):
            return False
        return True

    async def mark_for_deletion(self, topic: str) -> bool:
        try:
            await self.zk.create(DeleteTopicsTopicZNode.path(topic))
        except NodeExists:
            return False
        return True

    async def get_topic_config(self, topic: str) -> dict[str, str]:
        found = await self.zk.get(ConfigEntityZNode.path("topics", topic))
        return ConfigEntityZNode.decode(found[0] if found is not None else None)

    async def set_topic_config(self, topic: str, config: Mapping[str, str]) -> None:
        await self._write_config(topic, config)
        await self.zk.create(
            ConfigEntityChangeNotificationZNode.sequence_prefix,
            ConfigEntityChangeNotificationZNode.encode(f"topics/{topic}"),
            sequence=True,
        )

    async def _write_config(self, topic: str, config: Mapping[str, str]) -> None:
        path = ConfigEntityZNode.path("topics", topic)
        data = ConfigEntityZNode.encode(dict(config))
        try:
            await self.zk.set(path, data)
        except NoNode:
            try:
                await self.zk.create(path, data)
            except NodeExists:
                await self.zk.set(path, data)
