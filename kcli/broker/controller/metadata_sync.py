"""Keeps the broker's MetadataCache equal to ZooKeeper: brokers, topics, partition states and
the controller id.

Watches only enqueue events (ZkClient.events); one task drains them and re-reads the path that
fired, which also sets the next one-shot watch. Until the controller sends UpdateMetadata
(a later task), this is how a topic written straight into /brokers/topics becomes visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from kcli.broker.controller.zk import ZkClient, ZkEvent
from kcli.broker.controller.znodes import (
    BrokerIdsZNode,
    BrokerIdZNode,
    ControllerZNode,
    TopicPartitionStateZNode,
    TopicsZNode,
    TopicZNode,
)
from kcli.broker.metadata_cache import ZERO_UUID, MetadataCache, TopicInfo

log = logging.getLogger("kafka.server.MetadataCache")

SessionCallback = Callable[[], Awaitable[None]]


class MetadataSync:
    def __init__(
        self,
        zk: ZkClient,
        cache: MetadataCache,
        on_controller_change: SessionCallback,
        on_new_session: SessionCallback,
    ) -> None:
        self._zk = zk
        self._cache = cache
        self._on_controller_change = on_controller_change
        self._on_new_session = on_new_session
        self._task: asyncio.Task[None] | None = None
        self._session_lost = False

    async def load(self) -> None:
        """Read everything once, setting the watches."""
        await self._load_brokers()
        await self._load_topics()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="metadata-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            event = await self._zk.events.get()
            try:
                await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Error processing ZooKeeper event %s", event)

    async def _handle(self, event: ZkEvent) -> None:
        path = event.path
        if event.type == "SESSION":
            if path == "LOST":
                self._session_lost = True
            elif path == "CONNECTED" and self._session_lost:
                self._session_lost = False
                log.info("ZooKeeper session re-established; re-registering")
                await self._on_new_session()
                await self.load()
            return
        if path == ControllerZNode.path:
            await self._on_controller_change()
        elif path == BrokerIdsZNode.path:
            await self._load_brokers()
        elif path.startswith(BrokerIdsZNode.path + "/"):
            await self._load_broker(int(path.rsplit("/", 1)[1]))
        elif path == TopicsZNode.path:
            await self._load_topics()
        elif path.startswith(TopicsZNode.path + "/"):
            parts = path[len(TopicsZNode.path) + 1 :].split("/")
            if len(parts) == 1:
                await self._load_topic(parts[0])
            elif len(parts) == 4 and parts[3] == "state":
                await self._load_state(parts[0], int(parts[2]))

    async def _load_brokers(self) -> None:
        ids = await self._zk.get_children(BrokerIdsZNode.path, watch=True) or []
        live = {int(i) for i in ids if i.lstrip("-").isdigit()}
        for gone in set(self._cache.brokers) - live:
            self._cache.remove_broker(gone)
        await asyncio.gather(*(self._load_broker(b) for b in live))

    async def _load_broker(self, broker_id: int) -> None:
        found = await self._zk.get(BrokerIdZNode.path(broker_id), watch=True)
        if found is None:
            self._cache.remove_broker(broker_id)
        elif found[0]:
            self._cache.set_broker(BrokerIdZNode.decode(broker_id, found[0]))

    async def _load_topics(self) -> None:
        names = set(await self._zk.get_children(TopicsZNode.path, watch=True) or [])
        for gone in set(self._cache.topics) - names:
            self._cache.remove_topic(gone)
        new = names - set(self._cache.topics)
        await asyncio.gather(*(self._load_topic(t) for t in new))

    async def _load_topic(self, topic: str) -> None:
        found = await self._zk.get(TopicZNode.path(topic), watch=True)
        if found is None or not found[0]:
            self._cache.remove_topic(topic)
            return
        try:
            assignment = TopicZNode.decode(found[0])
        except (ValueError, KeyError, TypeError):
            log.warning("Ignoring topic %s: unreadable assignment %r", topic, found[0][:200])
            return
        old = self._cache.topics.get(topic)
        states = {p: s for p, s in old.states.items() if p in assignment.partitions} if old else {}
        self._cache.set_topic(
            TopicInfo(topic, assignment.topic_id or ZERO_UUID, assignment.partitions, states)
        )
        await asyncio.gather(*(self._load_state(topic, p) for p in assignment.partitions))

    async def _load_state(self, topic: str, partition: int) -> None:
        path = TopicPartitionStateZNode.path(topic, partition)
        # The exists-watch also fires when the controller first creates the state znode.
        stat = await self._zk.exists(path, watch=True)
        found = await self._zk.get(path) if stat is not None else None
        if found is None or not found[0]:
            self._cache.set_partition_state(topic, partition, None)
            return
        try:
            state = TopicPartitionStateZNode.decode(found[0], found[1].version)
        except (ValueError, KeyError, TypeError):
            log.warning("Ignoring unreadable partition state at %s", path)
            return
        self._cache.set_partition_state(topic, partition, state)
