"""kazoo against the bundled ZooKeeper: CRUD, versions, errors, ephemerals, sequential nodes,
watches, multi and kazoo's recipes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadArgumentsError,
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType, WatchedEvent
from kazoo.security import make_digest_acl

from kcli.testing.process import wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper

pytestmark = pytest.mark.integration

Factory = Callable[..., KazooClient]


def expire_session(client: KazooClient, hosts: str, factory: Factory) -> None:
    """kazoo's test-harness technique: a second client on the same session id + password
    closes the session; the first sees LOST, then CONNECTED on a new session."""
    lost, back = threading.Event(), threading.Event()

    def listener(state: KazooState) -> None:
        if state == KazooState.LOST:
            lost.set()
        elif state == KazooState.CONNECTED and lost.is_set():
            back.set()

    client.add_listener(listener)
    other = factory(hosts, client_id=client.client_id)
    other.stop()
    assert lost.wait(15), "first client never saw its session expire"
    assert back.wait(15), "first client did not get a new session"


def test_crud_with_versions(kazoo: KazooClient) -> None:
    assert kazoo.create("/crud", b"one") == "/crud"
    data, stat = kazoo.get("/crud")
    assert data == b"one"
    assert (stat.version, stat.czxid == stat.mzxid, stat.dataLength) == (0, True, 3)
    stat2 = kazoo.set("/crud", b"two", version=0)
    assert stat2.version == 1 and stat2.mzxid > stat.mzxid
    with pytest.raises(BadVersionError):
        kazoo.set("/crud", b"three", version=0)
    with pytest.raises(BadVersionError):
        kazoo.delete("/crud", version=7)
    assert kazoo.get("/crud")[0] == b"two"
    kazoo.set_acls("/crud", [make_digest_acl("u", "p", all=True)])
    acls, acl_stat = kazoo.get_acls("/crud")
    assert acls[0].id.scheme == "digest" and acl_stat.aversion == 1
    kazoo.delete("/crud", version=1)
    assert kazoo.exists("/crud") is None
    with pytest.raises(NoNodeError):
        kazoo.get("/crud")


def test_errors_and_stat_bookkeeping(kazoo: KazooClient) -> None:
    kazoo.create("/errs/a", makepath=True)
    with pytest.raises(NodeExistsError):
        kazoo.create("/errs/a")
    with pytest.raises(NoNodeError):
        kazoo.create("/errs/missing/child")
    with pytest.raises(NotEmptyError):
        kazoo.delete("/errs")
    with pytest.raises(BadArgumentsError):
        kazoo.delete("/zookeeper")
    kazoo.create("/errs/eph", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        kazoo.create("/errs/eph/child")
    parent = kazoo.exists("/errs")
    # cversion counts child creates and deletes; pzxid is the last child change.
    assert (parent.numChildren, parent.cversion) == (2, 2)
    kazoo.delete("/errs/a")
    after = kazoo.exists("/errs")
    assert (after.numChildren, after.cversion) == (1, 3) and after.pzxid > parent.pzxid
    children, stat = kazoo.get_children("/errs", include_data=True)
    assert children == ["eph"] and stat.numChildren == 1


def test_sequential_names(kazoo: KazooClient) -> None:
    kazoo.create("/seq")
    names = [kazoo.create("/seq/n-", sequence=True) for _ in range(3)]
    assert names == ["/seq/n-0000000000", "/seq/n-0000000001", "/seq/n-0000000002"]
    kazoo.delete(names[2])
    # The counter is the parent's create count: it never reuses a suffix.
    assert kazoo.create("/seq/e-", ephemeral=True, sequence=True) == "/seq/e-0000000003"
    assert kazoo.create("/seq/", sequence=True) == "/seq/0000000004"


def test_ephemeral_removed_on_close(zk_server: EmbeddedZooKeeper, factory_kazoo: Factory) -> None:
    owner = factory_kazoo(zk_server.connect_string)
    watcher = factory_kazoo(zk_server.connect_string)
    owner.create("/eph-close", ephemeral=True)
    assert watcher.exists("/eph-close").ephemeralOwner == owner.client_id[0]
    owner.stop()
    assert watcher.exists("/eph-close") is None


def test_ephemeral_removed_on_session_expiry(
    zk_server: EmbeddedZooKeeper, factory_kazoo: Factory
) -> None:
    client = factory_kazoo(zk_server.connect_string)
    other = factory_kazoo(zk_server.connect_string)
    client.create("/eph-expire", b"x", ephemeral=True)
    old_session = client.client_id[0]
    expire_session(client, zk_server.connect_string, factory_kazoo)
    assert client.client_id[0] != old_session
    assert other.exists("/eph-expire") is None
    client.create("/eph-expire", ephemeral=True)  # the new session works


def test_each_watch_fires_once(kazoo: KazooClient, factory_kazoo: Factory) -> None:
    events: dict[str, list[WatchedEvent]] = {"data": [], "child": [], "exists": []}
    kazoo.create("/w/n", b"0", makepath=True)
    kazoo.get("/w/n", watch=events["data"].append)
    kazoo.get_children("/w", watch=events["child"].append)
    kazoo.exists("/w/later", watch=events["exists"].append)
    for i in range(3):
        kazoo.set("/w/n", str(i).encode())
    kazoo.create("/w/later")
    kazoo.create("/w/more")
    kazoo.delete("/w/later")
    wait_until(lambda: all(events.values()), 5, what="watch events")
    time.sleep(0.3)  # a second (wrong) delivery would arrive by now
    assert [e.type for e in events["data"]] == [EventType.CHANGED]
    assert [e.type for e in events["child"]] == [EventType.CHILD]
    assert [(e.type, e.path) for e in events["exists"]] == [(EventType.CREATED, "/w/later")]


def test_delete_fires_data_and_child_watches(kazoo: KazooClient) -> None:
    seen: list[WatchedEvent] = []
    kazoo.create("/wd/x", makepath=True)
    kazoo.get("/wd/x", watch=seen.append)
    kazoo.get_children("/wd", watch=seen.append)
    kazoo.delete("/wd/x")
    wait_until(lambda: len(seen) == 2, 5, what="two events")
    assert {(e.type, e.path) for e in seen} == {
        (EventType.DELETED, "/wd/x"),
        (EventType.CHILD, "/wd"),
    }


def test_multi_is_atomic(kazoo: KazooClient) -> None:
    kazoo.create("/multi", b"v")
    tx = kazoo.transaction()
    tx.create("/multi/a")
    tx.create("/multi/b")
    tx.check("/multi", 5)
    tx.set_data("/multi", b"never")
    results = tx.commit()
    assert [type(r) for r in results] == [
        RolledBackError,
        RolledBackError,
        BadVersionError,
        RuntimeInconsistency,
    ]
    assert kazoo.get_children("/multi") == []
    assert kazoo.get("/multi")[0] == b"v"
    tx = kazoo.transaction()
    tx.create("/multi/a")
    tx.check("/multi", 0)
    tx.set_data("/multi", b"done")
    tx.delete("/multi/a")
    results = tx.commit()
    assert results[0] == "/multi/a" and results[1] is True and results[3] is True
    assert results[2].version == 1
    assert kazoo.get("/multi")[0] == b"done" and kazoo.get_children("/multi") == []


def test_lock_recipe(zk_server: EmbeddedZooKeeper, factory_kazoo: Factory) -> None:
    a = factory_kazoo(zk_server.connect_string)
    b = factory_kazoo(zk_server.connect_string)
    lock_a, lock_b = a.Lock("/recipes/lock", "a"), b.Lock("/recipes/lock", "b")
    assert lock_a.acquire(timeout=5)
    assert not lock_b.acquire(blocking=False)
    assert lock_b.contenders() == ["a"]
    got = threading.Event()

    def take() -> None:
        if lock_b.acquire(timeout=10):
            got.set()

    t = threading.Thread(target=take)
    t.start()
    time.sleep(0.2)
    assert not got.is_set()
    lock_a.release()
    t.join(15)
    assert got.is_set()
    lock_b.release()


def test_election_recipe(zk_server: EmbeddedZooKeeper, factory_kazoo: Factory) -> None:
    a = factory_kazoo(zk_server.connect_string)
    b = factory_kazoo(zk_server.connect_string)
    leaders: list[str] = []
    release = threading.Event()

    def lead(name: str) -> Callable[[], None]:
        def run() -> None:
            leaders.append(name)
            release.wait(10)

        return run

    ea, eb = a.Election("/recipes/election", "a"), b.Election("/recipes/election", "b")
    ta = threading.Thread(target=ea.run, args=(lead("a"),))
    ta.start()
    wait_until(lambda: leaders == ["a"], 5, what="a to lead")
    tb = threading.Thread(target=eb.run, args=(lead("b"),))
    tb.start()
    wait_until(lambda: len(eb.contenders()) == 2, 5, what="b to contend")
    assert leaders == ["a"]
    release.set()  # a's term ends; b takes over
    wait_until(lambda: leaders == ["a", "b"], 10, what="b to lead")
    ta.join(10)
    tb.join(10)


def test_counter_recipe(zk_server: EmbeddedZooKeeper, factory_kazoo: Factory) -> None:
    clients = [factory_kazoo(zk_server.connect_string) for _ in range(3)]

    def bump(client: KazooClient) -> None:
        counter = client.Counter("/recipes/counter")
        for _ in range(15):
            counter += 1

    threads = [threading.Thread(target=bump, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert clients[0].Counter("/recipes/counter").value == 45


@pytest.fixture
def factory_kazoo(kazoo_factory: Factory) -> Factory:
    return kazoo_factory


def test_create2_sync_and_acl_round_trip(kazoo: KazooClient) -> None:
    path, stat = kazoo.create("/c2", b"data", include_data=True)  # create2 returns a Stat
    assert path == "/c2" and stat.dataLength == 4 and stat.czxid == stat.mzxid
    assert kazoo.sync("/c2") == "/c2"
    assert kazoo.get("/c2")[1] == stat
