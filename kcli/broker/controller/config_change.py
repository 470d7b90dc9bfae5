"""ZkConfigManager: every broker applies topic config changes announced in ZooKeeper.

Whoever changes `/config/topics/<t>` then creates a sequential
`/config/changes/config_change_<10 digits>` with `{"version":2,"entity_path":"topics/<t>"}`.
Every broker keeps a child watch on `/config/changes`; for each notification newer than the
last one it handled it re-reads the entity's config and hands it to the logs
(`ReplicaManager.update_topic_config`). Notifications present at start-up are skipped: logs
read their topic config when they are opened. Notifications older than 15 minutes are purged
(Kafka's changeExpirationMs), by whichever broker sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from kcli.broker.controller.zk import NoNode, ZkClient, ZkEvent
from kcli.broker.controller.znodes import (
    ConfigEntityChangeNotificationSequenceZNode,
    ConfigEntityChangeNotificationZNode,
    ConfigEntityZNode,
)
from kcli.clock import Clock
from kcli.errors import ConfigError

log = logging.getLogger("kafka.server.ZkConfigManager")

CHANGE_EXPIRATION_MS = 15 * 60 * 1000

TopicConfigCallback = Callable[[str, Mapping[str, str]], None]


class ConfigChangeListener:
    def __init__(self, zk: ZkClient, on_topic_config: TopicConfigCallback, clock: Clock) -> None:
        self._zk = zk
        self._on_topic_config = on_topic_config
        self._clock = clock
        self._queue: asyncio.Queue[ZkEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.last_executed = -1

    async def start(self) -> None:
        self._zk.subscribe(self._queue)
        children = await self._children()
        seqs = [s for s in map(ConfigEntityChangeNotificationSequenceZNode.sequence, children)
                if s is not None]  # fmt: skip
        self.last_executed = max(seqs, default=-1)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="config-changes")

    async def stop(self) -> None:
        self._zk.unsubscribe(self._queue)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _children(self) -> list[str]:
        return (
            await self._zk.get_children(ConfigEntityChangeNotificationZNode.path, watch=True) or []
        )

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            reconnected = event.type == "SESSION" and event.path == "CONNECTED"
            if event.path != ConfigEntityChangeNotificationZNode.path and not reconnected:
                continue  # (after a reconnect: re-read, a failed read left no watch)
            try:
                await self.process_notifications()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Error processing config change notifications")

    async def process_notifications(self) -> None:
        for name in await self._children():
            seq = ConfigEntityChangeNotificationSequenceZNode.sequence(name)
            if seq is None or seq <= self.last_executed:
                continue
            path = f"{ConfigEntityChangeNotificationZNode.path}/{name}"
            found = await self._zk.get(path)
            self.last_executed = seq
            if found is None:
                continue
            try:
                entity = ConfigEntityChangeNotificationSequenceZNode.decode(found[0])
            except (ValueError, KeyError, TypeError):
                log.warning("Ignoring unreadable config change notification %s", path)
                continue
            await self._apply(entity)
            if (
                found[1].mtime_ms
                and self._clock.time_ms() - found[1].mtime_ms > CHANGE_EXPIRATION_MS
            ):
                with contextlib.suppress(NoNode):
                    await self._zk.delete(path)

    async def _apply(self, entity_path: str) -> None:
        entity_type, _, name = entity_path.partition("/")
        if entity_type != "topics" or not name:
            log.info("Ignoring config change for %s (only topic configs are dynamic in kcli)",
                     entity_path)  # fmt: skip
            return
        found = await self._zk.get(ConfigEntityZNode.path("topics", name))
        try:
            config = ConfigEntityZNode.decode(found[0] if found is not None else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("Ignoring unreadable config of topic %s", name)
            return
        log.info("Processing override for entityPath: %s with config: %s", entity_path, config)
        try:
            self._on_topic_config(name, config)
        except ConfigError as exc:  # written around the broker's checks; keep the old config
            log.error("Invalid config for topic %s ignored: %s", name, exc)
