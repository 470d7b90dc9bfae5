"""The in-memory znode tree (ZooKeeper's DataTree): applies txns, keeps Stat bookkeeping,
ephemerals per session, and data/child watches. Pure: no I/O, no clock, no asyncio.

Stat rules kept exactly as ZooKeeper keeps them:
- a node's stored `cversion` counts the creates of its children; clients see
  `2 * cversion - numChildren` (creates plus deletes), and a sequential suffix is the
  parent's stored cversion before the create, as `%010d`;
- `pzxid` is the zxid of the last child create/delete, `mzxid` of the last setData;
- `version`/`aversion` are data/ACL change counts, checked by setData/delete/setACL.

Watches are one-shot and belong to a watcher (a client connection). Exists watches on
missing nodes live in the data-watch table, as in ZooKeeper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kcli.zookeeper.codes import Code, EventType, KeeperError, OpCode
from kcli.zookeeper.jute import ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, STAT_STRUCT
from kcli.zookeeper.txn import (
    CheckVersionTxn,
    CloseSessionTxn,
    CreateContainerTxn,
    CreateSessionTxn,
    CreateTTLTxn,
    CreateTxn,
    DeleteTxn,
    ErrorTxn,
    MultiTxn,
    SetACLTxn,
    SetDataTxn,
    TxnHeader,
    TxnRecord,
)
from kcli.zookeeper.watches import (
    PERSISTENT,
    PERSISTENT_MODES,
    RECURSIVE,
    STANDARD,
    Watcher,
    WatchManager,
)

SPECIAL_PATHS = frozenset({"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"})

# ephemeralOwner values that are markers, not sessions (ZooKeeper's EphemeralType): a
# container node, or a TTL node (top byte 0xFF, the TTL in the low 56 bits).
CONTAINER_OWNER = -(2**63)
_TTL_BITS = 0xFF00000000000000


def is_session_owner(owner: int) -> bool:
    """True for a real ephemeral: owned by a session, deleted when it ends."""
    return owner not in (0, CONTAINER_OWNER) and owner & _TTL_BITS != _TTL_BITS


def ttl_owner(ttl: int) -> int:
    value = (ttl & 0x00FFFFFFFFFFFFFF) | _TTL_BITS
    return value - (1 << 64)


class DataNode:
    __slots__ = (
        "acl",
        "aversion",
        "children",
        "ctime",
        "cversion",
        "czxid",
        "data",
        "ephemeral_owner",
        "mtime",
        "mzxid",
        "pzxid",
        "version",
    )

    def __init__(
        self,
        data: bytes | None,
        acl: tuple[ACL, ...],
        czxid: int = 0,
        time: int = 0,
        ephemeral_owner: int = 0,
    ) -> None:
        self.data = data
        self.acl = acl
        self.czxid = self.mzxid = self.pzxid = czxid
        self.ctime = self.mtime = time
        self.version = self.cversion = self.aversion = 0
        self.ephemeral_owner = ephemeral_owner
        self.children: dict[str, None] = {}

    def stat(self) -> bytes:
        """The 68-byte Stat clients see (cversion translated to creates + deletes; container
        and TTL markers shown as owner 0)."""
        n = len(self.children)
        owner = self.ephemeral_owner
        return STAT_STRUCT.pack(
            self.czxid,
            self.mzxid,
            self.ctime,
            self.mtime,
            self.version,
            self.cversion * 2 - n,
            self.aversion,
            owner if is_session_owner(owner) else 0,
            len(self.data) if self.data is not None else 0,
            n,
            self.pzxid,
        )


@dataclass(slots=True)
class TxnResult:
    """What applying one txn produced (ZooKeeper's ProcessTxnResult)."""

    type: int
    err: int = 0
    path: str = ""
    stat: bytes | None = None
    multi: list[TxnResult] = field(default_factory=list)


def parent_of(path: str) -> str:
    i = path.rfind("/")
    return "/" if i <= 0 else path[:i]


class DataTree:
    def __init__(self) -> None:
        root = DataNode(b"", OPEN_ACL_UNSAFE)
        zk = DataNode(b"", OPEN_ACL_UNSAFE)
        quota = DataNode(b"", OPEN_ACL_UNSAFE)
        config = DataNode(b"", READ_ACL_UNSAFE)
        config.aversion = -1  # ZooKeeper sets the config node's ACL without a version bump
        self.nodes: dict[str, DataNode] = {
            "/": root,
            "/zookeeper": zk,
            "/zookeeper/quota": quota,
            "/zookeeper/config": config,
        }
        root.children["zookeeper"] = None
        zk.children["quota"] = None
        zk.children["config"] = None
        self.ephemerals: dict[int, set[str]] = {}
        self.containers: set[str] = set()
        self.data_watches = WatchManager()
        self.child_watches = WatchManager()
        self.last_processed_zxid = 0

    # --- reads ----------------------------------------------------------------------------

    def get_node(self, path: str) -> DataNode | None:
        return self.nodes.get(path)

    def node_or_raise(self, path: str) -> DataNode:
        node = self.nodes.get(path)
        if node is None:
            raise KeeperError(Code.NONODE, path)
        return node

    def node_count(self) -> int:
        # ZooKeeper indexes the root under both "" and "/", and its counters show that.
        return len(self.nodes) + 1

    def approximate_data_size(self) -> int:
        return 1 + sum(len(p) + len(n.data or b"") for p, n in self.nodes.items() if p != "/")

    def ephemeral_count(self) -> int:
        return sum(len(paths) for paths in self.ephemerals.values())

    def watch_count(self) -> int:
        return self.data_watches.count() + self.child_watches.count()

    def add_data_watch(self, path: str, watcher: Watcher) -> None:
        self.data_watches.add(path, watcher)

    def add_child_watch(self, path: str, watcher: Watcher) -> None:
        self.child_watches.add(path, watcher)

    def add_watch(self, path: str, watcher: Watcher, mode: int) -> None:
        """addWatch: mode 0 PERSISTENT (data and child events of `path`), 1
        PERSISTENT_RECURSIVE (data events of `path` and everything below it)."""
        if mode == 0:
            self.data_watches.add(path, watcher, PERSISTENT)
            self.child_watches.add(path, watcher, PERSISTENT)
        else:
            self.data_watches.add(path, watcher, RECURSIVE)
            self.child_watches.remove(path, watcher, PERSISTENT_MODES)

    def remove_watches(self, path: str, watcher: Watcher, kind: int, *, remove: bool) -> bool:
        """removeWatches/checkWatches; kind is WatcherType: 1 Children, 2 Data, 3 Any,
        4 Persistent, 5 PersistentRecursive. False when the watcher has no such watch."""
        wanted = {
            1: ((self.child_watches, STANDARD),),
            2: ((self.data_watches, STANDARD),),
            3: (
                (self.data_watches, STANDARD | PERSISTENT_MODES),
                (self.child_watches, STANDARD | PERSISTENT_MODES),
            ),
            4: ((self.data_watches, PERSISTENT), (self.child_watches, PERSISTENT)),
            5: ((self.data_watches, RECURSIVE),),
        }[kind]
        if not remove:
            return any(table.has(path, watcher, modes) for table, modes in wanted)
        found = False
        for table, modes in wanted:
            found = table.remove(path, watcher, modes) or found
        return found

    def remove_watcher(self, watcher: Watcher) -> None:
        self.data_watches.remove_watcher(watcher)
        self.child_watches.remove_watcher(watcher)

    def set_watches(
        self,
        relative_zxid: int,
        data: Iterable[str],
        exist: Iterable[str],
        child: Iterable[str],
        watcher: Watcher,
        *,
        persistent: Iterable[str] = (),
        recursive: Iterable[str] = (),
    ) -> None:
        """Re-arm a reconnecting client's watches; fire at once for what changed after
        `relative_zxid` (the last zxid the client saw). Persistent ones are just re-added."""
        for path in persistent:
            self.add_watch(path, watcher, 0)
        for path in recursive:
            self.add_watch(path, watcher, 1)
        for path in data:
            node = self.nodes.get(path)
            if node is None:
                watcher.process(EventType.NODE_DELETED, path)
            elif node.mzxid > relative_zxid:
                watcher.process(EventType.NODE_DATA_CHANGED, path)
            else:
                self.data_watches.add(path, watcher)
        for path in exist:
            if path in self.nodes:
                watcher.process(EventType.NODE_CREATED, path)
            else:
                self.data_watches.add(path, watcher)
        for path in child:
            node = self.nodes.get(path)
            if node is None:
                watcher.process(EventType.NODE_DELETED, path)
            elif node.pzxid > relative_zxid:
                watcher.process(EventType.NODE_CHILDREN_CHANGED, path)
            else:
                self.child_watches.add(path, watcher)

    # --- writes (applied from txns only) ---------------------------------------------------

    def create_node(
        self,
        path: str,
        data: bytes | None,
        acl: tuple[ACL, ...],
        *,
        ephemeral_owner: int,
        parent_cversion: int,
        zxid: int,
        time: int,
    ) -> DataNode:
        parent_path = parent_of(path)
        parent = self.nodes.get(parent_path)
        if parent is None:
            raise KeeperError(Code.NONODE, path)
        if path in self.nodes:
            raise KeeperError(Code.NODEEXISTS, path)
        if parent_cversion == -1:
            parent_cversion = parent.cversion + 1
        # A replayed txn may already be reflected in a fuzzy snapshot; never move back.
        if parent_cversion > parent.cversion:
            parent.cversion = parent_cversion
            parent.pzxid = zxid
        node = DataNode(data, acl, zxid, time, ephemeral_owner)
        parent.children[path[len(parent_path) + 1 if parent_path != "/" else 1 :]] = None
        self.nodes[path] = node
        if is_session_owner(ephemeral_owner):
            self.ephemerals.setdefault(ephemeral_owner, set()).add(path)
        elif ephemeral_owner == CONTAINER_OWNER:
            self.containers.add(path)
        self.data_watches.trigger(path, EventType.NODE_CREATED)
        self.child_watches.trigger(parent_path, EventType.NODE_CHILDREN_CHANGED)
        return node

    def delete_node(self, path: str, zxid: int) -> None:
        node = self.nodes.pop(path, None)
        if node is None:
            raise KeeperError(Code.NONODE, path)
        parent_path = parent_of(path)
        parent = self.nodes.get(parent_path)
        if parent is not None:
            parent.children.pop(path[len(parent_path) + 1 if parent_path != "/" else 1 :], None)
            parent.pzxid = max(parent.pzxid, zxid)
        owner = node.ephemeral_owner
        self.containers.discard(path)
        if owner:
            paths = self.ephemerals.get(owner)
            if paths is not None:
                paths.discard(path)
                if not paths:
                    del self.ephemerals[owner]
        fired = self.data_watches.trigger(path, EventType.NODE_DELETED)
        self.child_watches.trigger(path, EventType.NODE_DELETED, fired)
        self.child_watches.trigger(parent_path, EventType.NODE_CHILDREN_CHANGED)

    def set_data(
        self, path: str, data: bytes | None, version: int, zxid: int, time: int
    ) -> DataNode:
        node = self.node_or_raise(path)
        node.data = data
        node.version = version
        node.mzxid = zxid
        node.mtime = time
        self.data_watches.trigger(path, EventType.NODE_DATA_CHANGED)
        return node

    def set_acl(self, path: str, acl: tuple[ACL, ...], version: int) -> DataNode:
        node = self.node_or_raise(path)
        node.acl = acl
        node.aversion = version
        return node

    def kill_session(self, session_id: int, zxid: int, paths: Iterable[str] = ()) -> None:
        """Delete a closed/expired session's ephemerals (those the txn lists, and any the
        tree still knows of)."""
        todo = set(paths) | set(self.ephemerals.get(session_id, ()))
        for path in sorted(todo, reverse=True):
            node = self.nodes.get(path)
            if node is not None and node.ephemeral_owner == session_id:
                self.delete_node(path, zxid)
        self.ephemerals.pop(session_id, None)

    # --- txn application ------------------------------------------------------------------

    def process_txn(self, hdr: TxnHeader, txn: TxnRecord | None) -> TxnResult:
        """Apply one txn (live or during replay). Errors are reported in the result, not
        raised: a replayed txn may already be in a fuzzy snapshot."""
        result = TxnResult(hdr.type)
        try:
            self._apply(hdr, txn, result)
        except KeeperError as exc:
            result.err = exc.code
        self.last_processed_zxid = max(self.last_processed_zxid, hdr.zxid)
        return result

    def _apply(self, hdr: TxnHeader, txn: TxnRecord | None, result: TxnResult) -> None:
        if isinstance(txn, CreateTxn | CreateContainerTxn | CreateTTLTxn):
            # ephemeralOwner doubles as the container / TTL marker, as in ZooKeeper.
            if isinstance(txn, CreateTxn):
                owner = hdr.client_id if txn.ephemeral else 0
            elif isinstance(txn, CreateContainerTxn):
                owner = CONTAINER_OWNER
            else:
                owner = ttl_owner(txn.ttl)
            node = self.create_node(
                txn.path,
                txn.data,
                txn.acl,
                ephemeral_owner=owner,
                parent_cversion=txn.parent_cversion,
                zxid=hdr.zxid,
                time=hdr.time,
            )
            result.path = txn.path
            result.stat = node.stat()
        elif isinstance(txn, DeleteTxn):
            result.path = txn.path
            self.delete_node(txn.path, hdr.zxid)
        elif isinstance(txn, SetDataTxn):
            result.path = txn.path
            result.stat = self.set_data(txn.path, txn.data, txn.version, hdr.zxid, hdr.time).stat()
        elif isinstance(txn, SetACLTxn):
            result.path = txn.path
            result.stat = self.set_acl(txn.path, txn.acl, txn.version).stat()
        elif isinstance(txn, CheckVersionTxn):
            result.path = txn.path
        elif isinstance(txn, ErrorTxn):
            result.err = txn.err
        elif isinstance(txn, CloseSessionTxn) or (txn is None and hdr.type == OpCode.CLOSE_SESSION):
            paths = txn.paths_to_delete if isinstance(txn, CloseSessionTxn) else ()
            self.kill_session(hdr.client_id, hdr.zxid, paths)
        elif isinstance(txn, MultiTxn):
            self._apply_multi(hdr, txn, result)
        elif isinstance(txn, CreateSessionTxn):
            pass  # sessions live in ZKDatabase, not in the tree

    def _apply_multi(self, hdr: TxnHeader, txn: MultiTxn, result: TxnResult) -> None:
        # A failed multi is logged with ErrorTxns: ops before the failure report OK (rolled
        # back), the failing op its code, later ops RUNTIMEINCONSISTENCY.
        failed = any(op == OpCode.ERROR for op, _ in txn.txns)
        post_failed = False
        for op, sub in txn.txns:
            sub_op = op
            sub_txn: TxnRecord = sub
            if op == OpCode.ERROR:
                post_failed = True
            elif failed:
                sub_op = OpCode.ERROR
                code = Code.RUNTIMEINCONSISTENCY if post_failed else Code.OK
                sub_txn = ErrorTxn(code)
            sub_hdr = TxnHeader(hdr.client_id, hdr.cxid, hdr.zxid, hdr.time, sub_op)
            sub_result = TxnResult(sub_op)
            try:
                self._apply(sub_hdr, sub_txn, sub_result)
            except KeeperError as exc:
                sub_result.err = exc.code
            result.multi.append(sub_result)
            if sub_result.err and not result.err:
                result.err = sub_result.err
