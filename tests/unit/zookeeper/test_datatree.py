"""Data tree, prep and snapshots without sockets: requests become txns, txns change the tree,
watches fire once, a snapshot plus the log rebuilds the same tree."""

from __future__ import annotations

import pytest

from kcli.zookeeper.codes import Code, EventType, KeeperError, OpCode
from kcli.zookeeper.database import ZKDatabase
from kcli.zookeeper.datatree import DataTree, TxnResult
from kcli.zookeeper.jute import ACL, OPEN_ACL_UNSAFE, Id, JuteError, JuteReader, Stat
from kcli.zookeeper.prep import empty_containers, prep_close_session, prep_request, validate_path
from kcli.zookeeper.records import (
    CheckVersionRequest,
    CreateRequest,
    DeleteRequest,
    MultiRequest,
    SetACLRequest,
    SetDataRequest,
    WriteOp,
)
from kcli.zookeeper.txn import CreateSessionTxn, DeleteTxn, TxnHeader, TxnRecord, encode_txn

OPEN = list(OPEN_ACL_UNSAFE)
SESSION = 0x1000


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []

    def process(self, event_type: int, path: str) -> None:
        self.events.append((event_type, path))


class Server:
    """Prep + apply, as the server does, with a log of the txn bytes."""

    def __init__(self) -> None:
        self.db = ZKDatabase()
        self.zxid = 0
        self.log: list[tuple[int, bytes]] = []

    def txn(self, op: int, record: TxnRecord, session: int = SESSION) -> TxnResult:
        self.zxid += 1
        hdr = TxnHeader(session, 1, self.zxid, 1_000 + self.zxid, op)
        self.log.append((self.zxid, encode_txn(hdr, record)))
        return self.db.process_txn(hdr, record)

    def write(self, op: int, req: WriteOp | MultiRequest, session: int = SESSION) -> TxnResult:
        txn_op, txn = prep_request(self.db.tree, op, req, session, [])
        return self.txn(txn_op, txn, session)

    def create(self, path: str, data: bytes | None = b"", flags: int = 0) -> TxnResult:
        return self.write(OpCode.CREATE, CreateRequest(path, data, OPEN, flags))

    def stat(self, path: str) -> Stat:
        node = self.db.tree.get_node(path)
        assert node is not None
        return Stat.read(JuteReader(node.stat()))


@pytest.fixture
def srv() -> Server:
    return Server()


def test_fresh_tree_looks_like_zookeepers() -> None:
    tree = DataTree()
    assert list(tree.nodes["/"].children) == ["zookeeper"]
    assert Stat.read(JuteReader(tree.nodes["/"].stat())).cversion == -1
    assert tree.node_count() == 5  # ZooKeeper counts the root twice


def test_create_set_delete_and_stat(srv: Server) -> None:
    assert srv.create("/a", b"x").path == "/a"
    assert srv.create("/a/b").err == 0
    a = srv.stat("/a")
    assert (a.czxid, a.mzxid, a.pzxid, a.cversion, a.num_children, a.data_length) == (
        1,
        1,
        2,
        1,
        1,
        1,
    )
    res = srv.write(OpCode.SET_DATA, SetDataRequest("/a", b"yy", 0))
    assert res.err == 0 and srv.stat("/a").version == 1 and srv.stat("/a").mzxid == 3
    assert srv.write(OpCode.SET_DATA, SetDataRequest("/a", b"z", 0)).err == Code.BADVERSION
    assert srv.write(OpCode.DELETE, DeleteRequest("/a", -1)).err == Code.NOTEMPTY
    assert srv.write(OpCode.DELETE, DeleteRequest("/a/b", 3)).err == Code.BADVERSION
    assert srv.write(OpCode.DELETE, DeleteRequest("/a/b", 0)).err == 0
    a = srv.stat("/a")
    assert (a.cversion, a.num_children, a.pzxid) == (2, 0, 7)  # creates + deletes


def test_error_codes(srv: Server) -> None:
    srv.create("/e", flags=1)
    assert srv.create("/e").err == Code.NODEEXISTS
    assert srv.create("/missing/x").err == Code.NONODE
    assert srv.create("/e/child").err == Code.NOCHILDRENFOREPHEMERALS
    assert srv.create("bad").err == Code.BADARGUMENTS
    assert srv.create("/x", flags=9).err == Code.BADARGUMENTS
    assert srv.create("/ttl", flags=5).err == Code.UNIMPLEMENTED
    assert srv.write(OpCode.DELETE, DeleteRequest("/zookeeper", -1)).err == Code.BADARGUMENTS
    assert srv.write(OpCode.DELETE, DeleteRequest("/", -1)).err == Code.BADARGUMENTS
    assert srv.write(OpCode.SET_DATA, SetDataRequest("/nope", b"", -1)).err == Code.NONODE
    bad_acl = CreateRequest("/acl", b"", [], 0)
    assert srv.write(OpCode.CREATE, bad_acl).err == Code.INVALIDACL
    auth_acl = CreateRequest("/acl", b"", [ACL(31, Id("auth", ""))], 0)
    assert srv.write(OpCode.CREATE, auth_acl).err == Code.INVALIDACL  # no authenticated ids


@pytest.mark.parametrize(
    "path", ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/..", "/a\x00b", "/a\x01"]
)
def test_invalid_paths(path: str) -> None:
    with pytest.raises(KeeperError) as err:
        validate_path(path)
    assert err.value.code == Code.BADARGUMENTS


def test_sequential_suffix_from_parent_create_count(srv: Server) -> None:
    srv.create("/q")
    assert srv.create("/q/n-", flags=2).path == "/q/n-0000000000"
    srv.write(OpCode.DELETE, DeleteRequest("/q/n-0000000000", -1))
    assert srv.create("/q/n-", flags=3).path == "/q/n-0000000001"
    assert srv.create("/q/", flags=2).path == "/q/0000000002"


def test_acl_and_aversion(srv: Server) -> None:
    srv.create("/acl")
    digest = [ACL(1, Id("digest", "user:abc"))]
    assert srv.write(OpCode.SET_ACL, SetACLRequest("/acl", digest, 0)).err == 0
    node = srv.db.tree.get_node("/acl")
    assert node is not None and node.acl == tuple(digest) and node.aversion == 1
    assert srv.write(OpCode.SET_ACL, SetACLRequest("/acl", OPEN, 0)).err == Code.BADVERSION


def test_watches_fire_once_and_in_zookeepers_tables(srv: Server) -> None:
    tree = srv.db.tree
    w = Recorder()
    srv.create("/w")
    tree.add_data_watch("/w", w)
    tree.add_child_watch("/w", w)
    tree.add_data_watch("/w/new", w)  # an exists watch on a missing node
    srv.create("/w/new")
    srv.write(OpCode.SET_DATA, SetDataRequest("/w", b"1", -1))
    srv.write(OpCode.SET_DATA, SetDataRequest("/w", b"2", -1))
    srv.create("/w/other")
    assert w.events == [
        (EventType.NODE_CREATED, "/w/new"),
        (EventType.NODE_CHILDREN_CHANGED, "/w"),
        (EventType.NODE_DATA_CHANGED, "/w"),
    ]
    # A watcher holding data and child watches on a deleted node hears NodeDeleted once.
    w.events.clear()
    tree.add_data_watch("/w/other", w)
    tree.add_child_watch("/w/other", w)
    srv.write(OpCode.DELETE, DeleteRequest("/w/other", -1))
    assert w.events == [(EventType.NODE_DELETED, "/w/other")]
    tree.add_data_watch("/w", w)
    tree.remove_watcher(w)
    assert tree.watch_count() == 0


def test_set_watches_fires_for_changes_after_relative_zxid(srv: Server) -> None:
    srv.create("/s")
    srv.create("/s/a")
    seen = srv.zxid
    srv.write(OpCode.SET_DATA, SetDataRequest("/s/a", b"v", -1))
    w = Recorder()
    srv.db.tree.set_watches(seen, ["/s/a", "/s", "/gone"], ["/s/a", "/later"], ["/s"], w)
    assert w.events == [
        (EventType.NODE_DATA_CHANGED, "/s/a"),
        (EventType.NODE_DELETED, "/gone"),
        (EventType.NODE_CREATED, "/s/a"),
    ]
    w.events.clear()
    srv.create("/later")
    srv.create("/s/b")
    assert w.events == [
        (EventType.NODE_CREATED, "/later"),
        (EventType.NODE_CHILDREN_CHANGED, "/s"),
    ]


def test_multi_is_all_or_nothing(srv: Server) -> None:
    srv.create("/m")
    failing = MultiRequest(
        [
            (OpCode.CREATE, CreateRequest("/m/a", b"", OPEN, 0)),
            (OpCode.CHECK, CheckVersionRequest("/m", 3)),
            (OpCode.DELETE, DeleteRequest("/m", -1)),
        ]
    )
    res = srv.write(OpCode.MULTI, failing)
    assert [(r.type, r.err) for r in res.multi] == [
        (OpCode.ERROR, 0),
        (OpCode.ERROR, Code.BADVERSION),
        (OpCode.ERROR, Code.RUNTIMEINCONSISTENCY),
    ]
    assert srv.db.tree.get_node("/m/a") is None
    # Later ops see earlier ones: create then delete the same node, then the parent.
    ok = MultiRequest(
        [
            (OpCode.CREATE, CreateRequest("/m/a", b"", OPEN, 0)),
            (OpCode.DELETE, DeleteRequest("/m/a", 0)),
            (OpCode.DELETE, DeleteRequest("/m", 0)),
        ]
    )
    res = srv.write(OpCode.MULTI, ok)
    assert [r.err for r in res.multi] == [0, 0, 0] and srv.db.tree.get_node("/m") is None


def test_close_session_removes_ephemerals(srv: Server) -> None:
    srv.txn(OpCode.CREATE_SESSION, CreateSessionTxn(4000))
    srv.create("/e1", flags=1)
    srv.create("/e2", flags=3)
    srv.create("/keep")
    w = Recorder()
    srv.db.tree.add_data_watch("/e1", w)
    srv.txn(OpCode.CLOSE_SESSION, prep_close_session(srv.db.tree, SESSION))
    assert sorted(srv.db.tree.nodes["/"].children) == ["keep", "zookeeper"]
    assert SESSION not in srv.db.sessions and srv.db.tree.ephemeral_count() == 0
    assert w.events == [(EventType.NODE_DELETED, "/e1")]


def _shape(db: ZKDatabase) -> dict[str, tuple[bytes | None, bytes, tuple[ACL, ...]]]:
    return {p: (n.data, n.stat(), n.acl) for p, n in db.tree.nodes.items()}


def test_snapshot_plus_log_rebuilds_the_tree(srv: Server) -> None:
    srv.txn(OpCode.CREATE_SESSION, CreateSessionTxn(6000))
    srv.create("/a", b"1")
    srv.create("/a/e", None, flags=1)
    srv.create("/a/s-", flags=2)
    snap_zxid = srv.zxid
    snapshot = srv.db.serialize_snapshot()
    srv.write(OpCode.SET_DATA, SetDataRequest("/a", b"2", -1))
    srv.create("/b")
    srv.write(OpCode.DELETE, DeleteRequest("/a/s-0000000001", -1))

    restored = ZKDatabase.from_snapshot(snapshot, snap_zxid)
    assert restored.sessions == {SESSION: 6000}
    assert restored.replay(srv.log) == 3  # only txns after the snapshot
    assert _shape(restored) == _shape(srv.db)
    assert restored.tree.ephemerals == {SESSION: {"/a/e"}}
    assert restored.last_zxid == srv.zxid
    # Replaying everything again (a fuzzy snapshot) changes nothing.
    restored.tree.last_processed_zxid = 0
    restored.replay(srv.log)
    assert _shape(restored) == _shape(srv.db)


def test_from_log_only_matches(srv: Server) -> None:
    srv.create("/x", b"d")
    srv.create("/x/y")
    fresh = ZKDatabase()
    fresh.replay(srv.log)
    assert _shape(fresh) == _shape(srv.db)


@pytest.mark.parametrize("cut", [0, 3, 10, 30])
def test_truncated_snapshot_is_refused(srv: Server, cut: int) -> None:
    srv.create("/t", b"data")
    with pytest.raises(JuteError):
        ZKDatabase.from_snapshot(srv.db.serialize_snapshot()[:cut], 1)


def test_containers(srv: Server) -> None:
    res = srv.write(OpCode.CREATE_CONTAINER, CreateRequest("/box", b"", OPEN, 0))
    assert res.err == 0 and res.type == OpCode.CREATE_CONTAINER
    assert srv.stat("/box").ephemeral_owner == 0  # the container marker is not shown
    assert empty_containers(srv.db.tree) == []  # never had children: kept
    srv.create("/box/item")  # children are allowed, unlike under ephemerals
    srv.write(OpCode.DELETE, DeleteRequest("/box/item", -1))
    assert empty_containers(srv.db.tree) == [DeleteTxn("/box")]
    # create with the CONTAINER flag but the plain create op: a persistent node
    srv.create("/plain", flags=4)
    srv.create("/plain/x")
    srv.write(OpCode.DELETE, DeleteRequest("/plain/x", -1))
    assert empty_containers(srv.db.tree) == [DeleteTxn("/box")]
    # clients cannot send deleteContainer
    bad = srv.write(OpCode.DELETE_CONTAINER, DeleteRequest("/box", -1))
    assert bad.err == Code.BADARGUMENTS
    # containers stay containers through a snapshot
    restored = ZKDatabase.from_snapshot(srv.db.serialize_snapshot(), srv.zxid)
    assert restored.tree.containers == {"/box"} and not restored.tree.ephemerals
    srv.txn(OpCode.DELETE_CONTAINER, DeleteTxn("/box"), session=0)
    assert srv.db.tree.get_node("/box") is None and not srv.db.tree.containers


def test_persistent_and_recursive_watches(srv: Server) -> None:
    tree = srv.db.tree
    p, r = Recorder(), Recorder()
    tree.add_watch("/p", p, 0)  # persistent, on a node that does not exist yet
    tree.add_watch("/r", r, 1)  # persistent recursive
    srv.create("/p")
    srv.create("/r")
    for _ in range(2):  # they stay armed after firing
        srv.write(OpCode.SET_DATA, SetDataRequest("/p", b"x", -1))
    srv.create("/p/kid")
    srv.write(OpCode.SET_DATA, SetDataRequest("/p/kid", b"x", -1))  # below /p: not seen by p
    srv.create("/r/a")
    srv.create("/r/a/b")
    srv.write(OpCode.SET_DATA, SetDataRequest("/r/a/b", b"x", -1))
    srv.write(OpCode.DELETE, DeleteRequest("/r/a/b", -1))
    assert p.events == [
        (EventType.NODE_CREATED, "/p"),
        (EventType.NODE_DATA_CHANGED, "/p"),
        (EventType.NODE_DATA_CHANGED, "/p"),
        (EventType.NODE_CHILDREN_CHANGED, "/p"),
    ]
    assert r.events == [  # no NodeChildrenChanged for recursive watches
        (EventType.NODE_CREATED, "/r"),
        (EventType.NODE_CREATED, "/r/a"),
        (EventType.NODE_CREATED, "/r/a/b"),
        (EventType.NODE_DATA_CHANGED, "/r/a/b"),
        (EventType.NODE_DELETED, "/r/a/b"),
    ]
    # a one-shot watch on top of a persistent one: one event, the persistent one stays
    p.events.clear()
    tree.add_data_watch("/p", p)
    srv.write(OpCode.SET_DATA, SetDataRequest("/p", b"y", -1))
    srv.write(OpCode.SET_DATA, SetDataRequest("/p", b"z", -1))
    assert p.events == [(EventType.NODE_DATA_CHANGED, "/p")] * 2
    # checkWatches / removeWatches by WatcherType (4 Persistent, 5 PersistentRecursive)
    assert tree.remove_watches("/p", p, 4, remove=False)
    assert not tree.remove_watches("/p", p, 5, remove=False)
    assert tree.remove_watches("/p", p, 4, remove=True)
    assert not tree.remove_watches("/p", p, 3, remove=True)  # nothing left: NOWATCHER
    p.events.clear()
    srv.write(OpCode.SET_DATA, SetDataRequest("/p", b"!", -1))
    assert p.events == []
    tree.remove_watcher(r)
    assert tree.watch_count() == 0 and tree.data_watches._recursive == 0
