"""The broker's only door to ZooKeeper: kazoo's async API bridged into asyncio.

kazoo runs its own I/O thread. Each call here starts a kazoo async operation and awaits a
future that kazoo's completion thread resolves through `call_soon_threadsafe`. Watches never
do work in kazoo's thread: they put a `ZkEvent` on `events`, drained by one asyncio task.
Errors come back as kcli's own exceptions (NodeExists, NoNode, BadVersion, ZkError), so no
module outside kcli.broker.controller needs kazoo.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import KazooState, WatchedEvent

from kcli.broker.config import ZkConnect
from kcli.errors import TerseError

log = logging.getLogger("kafka.zookeeper.ZooKeeperClient")
# kazoo logs every failed connection attempt; Kafka's own lines say enough.
logging.getLogger("kazoo.client").setLevel(logging.ERROR)


class ZkError(Exception):
    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class NodeExists(ZkError):
    pass


class NoNode(ZkError):
    pass


class BadVersion(ZkError):
    pass


@dataclass(frozen=True, slots=True)
class Stat:
    czxid: int
    version: int
    ephemeral_owner: int
    mtime_ms: int = 0


@dataclass(frozen=True, slots=True)
class ZkEvent:
    """A watch fired (`type` is CREATED/DELETED/CHANGED/CHILD) or the session changed
    (`type` is SESSION, `path` is CONNECTED/SUSPENDED/LOST)."""

    type: str
    path: str


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of a multi: create / set / delete / check."""

    kind: str
    path: str
    data: bytes = b""
    version: int = -1
    ephemeral: bool = False


def _stat(raw: Any) -> Stat:
    return Stat(
        czxid=raw.czxid, version=raw.version, ephemeral_owner=raw.ephemeralOwner, mtime_ms=raw.mtime
    )


def _translate(exc: BaseException, path: str | None) -> BaseException:
    if isinstance(exc, NodeExistsError):
        return NodeExists(f"node already exists: {path}", path)
    if isinstance(exc, NoNodeError):
        return NoNode(f"no node: {path}", path)
    if isinstance(exc, BadVersionError):
        return BadVersion(f"bad version: {path}", path)
    return ZkError(f"{type(exc).__name__}: {exc} ({path})", path)


class ZkClient:
    """A connected session on `zookeeper.connect` (chroot applied), for one broker."""

    def __init__(self, connect: ZkConnect, session_timeout_ms: int, connection_timeout_ms: int):
        self._connect = connect
        self._session_timeout = session_timeout_ms / 1000
        self._connection_timeout = connection_timeout_ms / 1000
        self._kazoo: KazooClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.events: asyncio.Queue[ZkEvent] = asyncio.Queue()
        self._subscribers: list[asyncio.Queue[Any]] = []

    @property
    def session_id(self) -> int:
        assert self._kazoo is not None
        session_id, _ = self._kazoo.client_id or (0, b"")
        return int(session_id)

    async def start(self) -> None:
        """Connect within zookeeper.connection.timeout.ms; create the chroot if missing."""
        self._loop = asyncio.get_running_loop()
        log.info("Initializing a new session to %s.", self._connect.hosts)
        if self._connect.chroot:
            # Like Kafka, create the chroot through a session outside it.
            outside = await self._open(self._connect.hosts)
            try:
                await asyncio.to_thread(outside.ensure_path, self._connect.chroot)
            finally:
                await asyncio.to_thread(_close_quietly, outside)
        self._kazoo = await self._open(self._connect.hosts + self._connect.chroot)
        self._kazoo.add_listener(self._on_state)
        log.info("Connected.")

    async def _open(self, hosts: str) -> KazooClient:
        client = KazooClient(
            hosts=hosts, timeout=self._session_timeout, connection_retry={"max_tries": -1}
        )
        try:
            await asyncio.to_thread(client.start, self._connection_timeout)
        except KazooTimeoutError:
            await asyncio.to_thread(_close_quietly, client)
            raise TerseError(
                f"Timed out waiting for connection to ZooKeeper at {hosts} while in state: "
                f"CONNECTING (zookeeper.connection.timeout.ms="
                f"{int(self._connection_timeout * 1000)})"
            ) from None
        return client

    def _on_state(self, state: str) -> None:
        name = {KazooState.CONNECTED: "CONNECTED", KazooState.SUSPENDED: "SUSPENDED"}.get(
            state, "LOST"
        )
        self._post(ZkEvent("SESSION", name))

    def subscribe(self, queue: asyncio.Queue[Any]) -> None:
        """Also deliver every event to `queue` (the controller and the config-change listener
        drain their own queues; a watch set by several readers of one path fires once)."""
        self._subscribers.append(queue)

    def unsubscribe(self, queue: asyncio.Queue[Any]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def _post(self, event: ZkEvent) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: ZkEvent) -> None:
        self.events.put_nowait(event)
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _watcher(self, event: WatchedEvent) -> None:
        self._post(ZkEvent(str(event.type), event.path))

    async def _call(self, path: str | None, method: str, *args: Any, **kwargs: Any) -> Any:
        assert self._kazoo is not None
        return await self._await(path, getattr(self._kazoo, method)(*args, **kwargs))

    async def _await(self, path: str | None, async_result: Any) -> Any:
        assert self._loop is not None
        loop = self._loop
        future: asyncio.Future[Any] = loop.create_future()

        def done(result: Any) -> None:
            value, error = None, None
            try:
                value = result.get_nowait()
            except Exception as exc:  # noqa: BLE001 - every kazoo error crosses to the loop
                error = _translate(exc, path)
            # An answer that arrives after the broker's loop has closed has nobody to go to.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, value, error)

        async_result.rawlink(done)
        return await future

    # --- operations ---------------------------------------------------------------------------
    async def get(self, path: str, watch: bool = False) -> tuple[bytes, Stat] | None:
        """Data and stat, or None when the node does not exist (the watch is still set then
        only through `exists`; callers that need it call exists with watch=True)."""
        try:
            data, stat = await self._call(
                path, "get_async", path, watch=self._watcher if watch else None
            )
        except NoNode:
            return None
        return (data or b""), _stat(stat)

    async def exists(self, path: str, watch: bool = False) -> Stat | None:
        raw = await self._call(path, "exists_async", path, watch=self._watcher if watch else None)
        return _stat(raw) if raw is not None else None

    async def get_children(self, path: str, watch: bool = False) -> list[str] | None:
        try:
            children = await self._call(
                path, "get_children_async", path, watch=self._watcher if watch else None
            )
        except NoNode:
            return None
        return sorted(children)

    async def create(
        self, path: str, data: bytes = b"", ephemeral: bool = False, sequence: bool = False
    ) -> str:
        created: str = await self._call(
            path, "create_async", path, data, ephemeral=ephemeral, sequence=sequence
        )
        return created

    async def ensure_path(self, path: str) -> None:
        await self._call(path, "ensure_path_async", path)

    async def set(self, path: str, data: bytes, version: int = -1) -> Stat:
        return _stat(await self._call(path, "set_async", path, data, version))

    async def delete(self, path: str, version: int = -1) -> None:
        await self._call(path, "delete_async", path, version)

    async def multi(self, ops: Sequence[Op]) -> list[Any]:
        """All-or-nothing; raises the first failing op's error (NodeExists, BadVersion, ...)."""
        assert self._kazoo is not None
        txn = self._kazoo.transaction()
        for op in ops:
            if op.kind == "create":
                txn.create(op.path, op.data, ephemeral=op.ephemeral)
            elif op.kind == "set":
                txn.set_data(op.path, op.data, op.version)
            elif op.kind == "delete":
                txn.delete(op.path, op.version)
            elif op.kind == "check":
                txn.check(op.path, op.version)
            else:
                raise ValueError(op.kind)
        results: list[Any] = await self._await(None, txn.commit_async())
        # kazoo reports a failed multi as a result list holding the exceptions.
        for op, result in zip(ops, results, strict=False):
            if isinstance(result, Exception) and type(result).__name__ != "RolledBackError":
                raise _translate(result, op.path)
        return results

    async def close(self) -> None:
        """End the session: ZooKeeper deletes this broker's ephemeral znodes at once."""
        if self._kazoo is not None:
            client, self._kazoo = self._kazoo, None
            await asyncio.to_thread(_close_quietly, client)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def _close_quietly(client: KazooClient) -> None:
    try:
        client.stop()
        client.close()
    except Exception:  # closing a dead session must not mask the real error
        log.debug("error closing ZooKeeper session", exc_info=True)
