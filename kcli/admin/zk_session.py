"""One ZooKeeper session for `zookeeper-shell`, on kazoo, with every wait bounded.

kazoo queues requests while it reconnects and would wait forever for an answer; the shell
instead waits `timeout` seconds and reports ConnectionLoss, as zkCli does. Failures come back
as `ZkCommandError` carrying zkCli's own wording (`Node does not exist: /x`, ...), so the
shell can print them and carry on. Connecting first probes the TCP port so that a refused or
unreachable server is reported at once in one line instead of after kazoo's retry loop.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    ConnectionClosedError,
    ConnectionLoss,
    KazooException,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    SessionExpiredError,
    ZookeeperError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import EventType, KazooState, WatchedEvent, ZnodeStat

from kcli.admin.zk_format import join_path
from kcli.errors import TerseError

# zkCli's names for kazoo's event types (Watcher.Event.EventType in the Java client).
_EVENT_NAMES = {
    EventType.CREATED: "NodeCreated",
    EventType.DELETED: "NodeDeleted",
    EventType.CHANGED: "NodeDataChanged",
    EventType.CHILD: "NodeChildrenChanged",
    EventType.NONE: "None",
}

DEFAULT_PORT = 2181


class ZkCommandError(Exception):
    """A failed shell command; `message` is what zkCli prints for it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def quiet_kazoo(verbose: bool = False) -> None:
    """kazoo logs every reconnect attempt at WARNING; the shell reports problems itself."""
    logger = logging.getLogger("kazoo")
    logger.setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def split_connect_string(connect: str) -> tuple[list[tuple[str, int]], str]:
    """`h1:p1,h2[:p2][/chroot]` -> ([(host, port)...], chroot); raises TerseError if malformed."""
    hosts_part, slash, chroot = connect.partition("/")
    hosts = []
    for item in hosts_part.split(","):
        host, colon, port_text = item.strip().rpartition(":")
        if not colon:
            host, port_text = item.strip(), str(DEFAULT_PORT)
        if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise TerseError(f"invalid ZooKeeper connect string {connect!r} (expected host:port)")
        hosts.append((host.strip("[]"), int(port_text)))
    return hosts, (slash + chroot).rstrip("/")


def _describe_socket_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return (exc.strerror or str(exc)).lower()


def probe(hosts: list[tuple[str, int]], timeout: float) -> str | None:
    """None if any host accepts a TCP connection, else why the last one did not."""
    reason = "no hosts"
    for host, port in hosts:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except OSError as exc:
            reason = _describe_socket_error(exc)
    return reason


def event_text(event: WatchedEvent) -> str:
    """A fired watch the way zkCli's default watcher prints it."""
    kind = _EVENT_NAMES.get(event.type, str(event.type))
    return f"\nWATCHER::\n\nWatchedEvent state:SyncConnected type:{kind} path:{event.path}\n"


class ZkSession:
    """A kazoo client plus the bounded, zkCli-worded operations the shell needs."""

    def __init__(
        self,
        connect: str,
        timeout: float = 10.0,
        session_timeout: float = 30.0,
        on_watch: Callable[[str], None] | None = None,
    ) -> None:
        self.connect_string = connect
        self.timeout = timeout
        self.session_timeout = session_timeout
        self.on_watch = on_watch
        self._client: KazooClient | None = None

    # -- connection ---------------------------------------------------------------------------

    def open(self) -> None:
        hosts, _ = split_connect_string(self.connect_string)
        where = self.connect_string
        reason = probe(hosts, min(self.timeout, 5.0))
        if reason is not None:
            raise TerseError(f"cannot connect to ZooKeeper at {where} ({reason})")
        client = KazooClient(
            hosts=self.connect_string,
            timeout=self.session_timeout,
            connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0},
        )
        # Not client.start(timeout): on a timeout it stops the client itself, which waits for
        # the handshake read to time out (a full session timeout) before returning.
        connected = client.start_async()
        connected.wait(self.timeout)
        if not client.connected:
            self._shutdown(client, timeout=0.0)  # nothing to close; the thread is a daemon
            raise TerseError(
                f"cannot connect to ZooKeeper at {where} (no session after {self.timeout:g}s)"
            )
        self._client = client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._shutdown(client)

    @staticmethod
    def _shutdown(client: KazooClient, timeout: float = 3.0) -> None:
        """stop() sends closeSession when connected, so ephemerals vanish at once.

        While kazoo is still in a handshake with an unresponsive server, stop() waits for that
        handshake's read to time out; it runs in a daemon thread so the shell never waits
        longer than `timeout` for it.
        """

        def stop() -> None:
            with contextlib.suppress(KazooException, OSError):
                client.stop()
            with contextlib.suppress(KazooException, OSError):
                client.close()

        stopper = threading.Thread(target=stop, name="zk-shell-stop", daemon=True)
        stopper.start()
        stopper.join(timeout)

    @property
    def state(self) -> str:
        """zkCli's state word for the prompt: CONNECTED, CONNECTING or CLOSED."""
        client = self._client
        if client is None:
            return "CLOSED"
        if client.state == KazooState.CONNECTED:
            return "CONNECTED"
        if client.state == KazooState.SUSPENDED:
            return "CONNECTING"
        return str(client.client_state)

    def _require(self) -> KazooClient:
        if self._client is None:
            raise ZkCommandError("Not connected")
        return self._client

    def _wait(self, async_result: Any, path: str) -> Any:
        """The result of a kazoo async call within `timeout`, errors in zkCli's words."""
        try:
            return async_result.get(timeout=self.timeout)
        except NoNodeError:
            raise ZkCommandError(f"Node does not exist: {path}") from None
        except NodeExistsError:
            raise ZkCommandError(f"Node already exists: {path}") from None
        except NotEmptyError:
            raise ZkCommandError(f"Node not empty: {path}") from None
        except BadVersionError:
            raise ZkCommandError(f"version No is not valid : {path}") from None
        except NoChildrenForEphemeralsError:
            raise ZkCommandError(f"Ephemerals cannot have children: {path}") from None
        except NoAuthError:
            raise ZkCommandError(f"Insufficient permission : {path}") from None
        except ConnectionClosedError:
            raise ZkCommandError("Not connected") from None
        except SessionExpiredError:
            raise ZkCommandError(f"KeeperErrorCode = Session expired for {path}") from None
        except (ConnectionLoss, KazooTimeoutError):
            raise ZkCommandError(f"KeeperErrorCode = ConnectionLoss for {path}") from None
        except ZookeeperError as exc:
            name = type(exc).__name__.removesuffix("Error")
            raise ZkCommandError(f"KeeperErrorCode = {name} for {path}") from None

    def _watcher(self, watch: bool) -> Callable[[WatchedEvent], None] | None:
        if not watch or self.on_watch is None:
            return None
        sink = self.on_watch

        def fire(event: WatchedEvent) -> None:
            sink(event_text(event))

        return fire

    # -- operations ---------------------------------------------------------------------------

    def children(self, path: str, watch: bool = False) -> tuple[list[str], ZnodeStat]:
        client = self._require()
        result = client.get_children_async(path, watch=self._watcher(watch), include_data=True)
        children, stat = self._wait(result, path)
        return list(children), stat

    def subtree(self, path: str, limit: int = 100_000) -> list[str]:
        """Every path under `path` (itself first), breadth first, as `ls -R` prints them."""
        client = self._require()
        self._wait(client.exists_async(path), path) or self._missing(path)
        found, queue = [path], [path]
        while queue and len(found) < limit:
            parent = queue.pop(0)
            try:
                names = self._wait(client.get_children_async(parent), parent)
            except ZkCommandError as exc:
                if exc.message.startswith("Node does not exist"):
                    continue  # deleted while we walked
                raise
            for name in sorted(names):
                child = join_path(parent, name)
                found.append(child)
                queue.append(child)
        return found

    def get(self, path: str, watch: bool = False) -> tuple[bytes | None, ZnodeStat]:
        client = self._require()
        data, stat = self._wait(client.get_async(path, watch=self._watcher(watch)), path)
        return data, stat

    def stat(self, path: str, watch: bool = False) -> ZnodeStat:
        client = self._require()
        stat = self._wait(client.exists_async(path, watch=self._watcher(watch)), path)
        return stat or self._missing(path)

    @staticmethod
    def _missing(path: str) -> Any:
        raise ZkCommandError(f"Node does not exist: {path}")

    def create(
        self, path: str, data: bytes | None, ephemeral: bool = False, sequence: bool = False
    ) -> str:
        client = self._require()
        result = client.create_async(path, data, ephemeral=ephemeral, sequence=sequence)
        created: str = self._wait(result, path)
        return created

    def set(self, path: str, data: bytes | None, version: int = -1) -> ZnodeStat:
        client = self._require()
        return self._wait(client.set_async(path, data, version), path)

    def delete(self, path: str, version: int = -1) -> None:
        client = self._require()
        self._wait(client.delete_async(path, version), path)

    def delete_all(self, path: str, attempts: int = 3) -> None:
        """Delete `path` and everything under it, deepest first; retried if it grows meanwhile."""
        for attempt in range(attempts):
            paths = self.subtree(path)
            try:
                for node in reversed(paths):
                    try:
                        self.delete(node)
                    except ZkCommandError as exc:
                        if not exc.message.startswith("Node does not exist"):
                            raise
                return
            except ZkCommandError as exc:
                if not exc.message.startswith("Node not empty") or attempt == attempts - 1:
                    raise

    def acls(self, path: str) -> tuple[list[tuple[str, str, int]], ZnodeStat]:
        """(scheme, id, perms) of each ACL entry, and the Stat."""
        client = self._require()
        acls, stat = self._wait(client.get_acls_async(path), path)
        return [(acl.id.scheme, acl.id.id, acl.perms) for acl in acls], stat

    def sync(self, path: str) -> None:
        client = self._require()
        self._wait(client.sync_async(path), path)
