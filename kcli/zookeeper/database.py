"""ZKDatabase: the data tree plus the session table, and their snapshot serialisation.

Snapshot body (what FileSnap stores between its file header and checksum), as ZooKeeper's
SerializeUtils.serializeSnapshot writes it:

    count int, { sessionId long, timeout int }*                  sessions
    map int, { aclId long, acls vector<ACL> }*                    ACL cache
    { path ustring, DataNode }* in pre-order, the root as ""      nodes
    "/" ustring                                                   end of nodes

    DataNode = data buffer, acl long (id in the ACL cache, -1 = open), StatPersisted
    StatPersisted = czxid mzxid ctime mtime long, version cversion aversion int,
                    ephemeralOwner pzxid long

A snapshot may be fuzzy: recovery loads the newest one and replays every logged txn after its
zxid; applying a txn twice is harmless (DataTree reports and skips what is already there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.datatree import (
    CONTAINER_OWNER,
    DataNode,
    DataTree,
    TxnResult,
    is_session_owner,
    parent_of,
)
from kcli.zookeeper.jute import (
    ACL,
    OPEN_ACL_UNSAFE,
    STAT_PERSISTED,
    JuteError,
    JuteReader,
    JuteWriter,
    read_acls,
    write_acls,
)
from kcli.zookeeper.txn import CreateSessionTxn, TxnHeader, TxnRecord, decode_txn

log = logging.getLogger("kcli.zookeeper.ZKDatabase")


class ZKDatabase:
    def __init__(self) -> None:
        self.tree = DataTree()
        self.sessions: dict[int, int] = {}  # session id -> negotiated timeout (ms)

    @property
    def last_zxid(self) -> int:
        return self.tree.last_processed_zxid

    def process_txn(self, hdr: TxnHeader, txn: TxnRecord | None) -> TxnResult:
        if hdr.type == OpCode.CREATE_SESSION and isinstance(txn, CreateSessionTxn):
            self.sessions[hdr.client_id] = txn.timeout
        elif hdr.type == OpCode.CLOSE_SESSION:
            self.sessions.pop(hdr.client_id, None)
        return self.tree.process_txn(hdr, txn)

    def replay(self, txns: Iterable[tuple[int, bytes]]) -> int:
        """Apply logged txns after the current zxid; returns how many were applied."""
        applied = 0
        for zxid, data in txns:
            if zxid <= self.tree.last_processed_zxid:
                continue
            hdr, txn = decode_txn(data)
            self.process_txn(hdr, txn)
            applied += 1
        return applied

    # --- snapshots ------------------------------------------------------------------------

    def serialize_snapshot(self) -> bytes:
        w = JuteWriter()
        w.int32(len(self.sessions))
        for sid, timeout in self.sessions.items():
            w.int64(sid).int32(timeout)
        acl_ids: dict[tuple[ACL, ...], int] = {}
        for node in self.tree.nodes.values():
            if node.acl not in acl_ids:
                acl_ids[node.acl] = len(acl_ids) + 1
        w.int32(len(acl_ids))
        for acls, acl_id in acl_ids.items():
            w.int64(acl_id)
            write_acls(w, acls)
        nodes = self.tree.nodes
        stack = [("", nodes["/"])]
        pack = STAT_PERSISTED.pack
        while stack:
            path, node = stack.pop()
            w.ustring(path).buffer(node.data).int64(acl_ids[node.acl])
            w.raw(
                pack(
                    node.czxid,
                    node.mzxid,
                    node.ctime,
                    node.mtime,
                    node.version,
                    node.cversion,
                    node.aversion,
                    node.ephemeral_owner,
                    node.pzxid,
                )
            )
            for child in reversed(list(node.children)):
                child_path = f"{path}/{child}"
                stack.append((child_path, nodes[child_path]))
        w.ustring("/")
        return w.to_bytes()

    @classmethod
    def from_snapshot(cls, data: bytes, zxid: int) -> ZKDatabase:
        """Rebuild from a snapshot body; JuteError if it is not one."""
        db = cls()
        r = JuteReader(data)
        for _ in range(max(r.vector_len(), 0)):
            sid = r.int64()
            db.sessions[sid] = r.int32()
        acl_cache: dict[int, tuple[ACL, ...]] = {-1: OPEN_ACL_UNSAFE}
        for _ in range(max(r.vector_len(), 0)):
            acl_id = r.int64()
            acl_cache[acl_id] = tuple(read_acls(r))
        tree = db.tree
        tree.nodes = {}
        while True:
            path = r.string()
            if path == "/":
                break
            node_data = r.buffer()
            acl = acl_cache.get(r.int64(), OPEN_ACL_UNSAFE)
            if r.remaining() < STAT_PERSISTED.size:
                raise JuteError("truncated snapshot node")
            values = STAT_PERSISTED.unpack_from(r.buf, r.pos)
            r.pos += STAT_PERSISTED.size
            node = DataNode(node_data, acl)
            (
                node.czxid,
                node.mzxid,
                node.ctime,
                node.mtime,
                node.version,
                node.cversion,
                node.aversion,
                node.ephemeral_owner,
                node.pzxid,
            ) = values
            key = path or "/"
            if key != "/":
                parent = tree.nodes.get(parent_of(key))
                if parent is None:
                    raise JuteError(f"snapshot node {key} has no parent")
                parent.children[key.rsplit("/", 1)[1]] = None
            tree.nodes[key] = node
            if is_session_owner(node.ephemeral_owner):
                tree.ephemerals.setdefault(node.ephemeral_owner, set()).add(key)
            elif node.ephemeral_owner == CONTAINER_OWNER:
                tree.containers.add(key)
        if "/" not in tree.nodes:
            raise JuteError("snapshot has no root node")
        tree.last_processed_zxid = zxid
        return db
