"""Restarts: every acknowledged write survives a clean stop and a SIGKILL; snapshots bound the
log; sessions come back and expire normally when their clients do not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import KazooException

from kcli.testing.process import wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper

pytestmark = pytest.mark.integration

Factory = Callable[..., KazooClient]


def test_clean_restart_keeps_everything(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory
) -> None:
    zk = own_zk_server.start()
    c = kazoo_factory(zk.connect_string)
    c.create("/keep/a", b"1", makepath=True)
    c.create("/keep/b", b"2")
    c.set("/keep/a", b"11")
    c.delete("/keep/b")
    seq = c.create("/keep/s-", sequence=True)
    before = c.exists("/keep")
    c.stop()
    assert zk.stop() == 0
    zk.start()
    d = kazoo_factory(zk.connect_string)
    assert d.get("/keep/a")[0] == b"11"
    assert d.exists("/keep/b") is None
    assert sorted(d.get_children("/keep")) == sorted(["a", seq.rsplit("/", 1)[1]])
    after = d.exists("/keep")
    assert (after.cversion, after.pzxid, after.numChildren) == (
        before.cversion,
        before.pzxid,
        before.numChildren,
    )
    # zxids continue after the restart
    assert d.create("/keep/c") and d.exists("/keep/c").czxid > before.pzxid


def test_sigkill_keeps_every_acknowledged_write(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory
) -> None:
    zk = own_zk_server.start()
    clients = [kazoo_factory(zk.connect_string) for _ in range(3)]
    clients[0].ensure_path("/acked")
    acked: list[list[str]] = [[] for _ in clients]
    stop = threading.Event()

    def writer(i: int, client: KazooClient) -> None:
        n = 0
        while not stop.is_set() and n < 5000:
            path = f"/acked/w{i}-{n}"
            try:
                client.create(path, path.encode())
            except KazooException:
                return
            acked[i].append(path)
            n += 1

    threads = [threading.Thread(target=writer, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    wait_until(lambda: sum(map(len, acked)) >= 300, 30, what="300 acknowledged writes")
    zk.kill()
    stop.set()
    for c in clients:
        c.stop()
    for t in threads:
        t.join(20)
    zk.start()
    check = kazoo_factory(zk.connect_string)
    present = set(check.get_children("/acked"))
    missing = [p for lst in acked for p in lst if p.rsplit("/", 1)[1] not in present]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
    path = acked[0][-1]
    assert check.get(path)[0] == path.encode()


def test_snapshots_bound_the_log_and_restore(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory
) -> None:
    zk = own_zk_server
    zk.properties["snapCount"] = "20"
    zk.start()
    c = kazoo_factory(zk.connect_string)
    c.ensure_path("/snap")
    for i in range(120):
        c.create(f"/snap/n{i}", str(i).encode())
    c.set("/snap/n7", b"seven")
    version_dir = zk.data_dir / "version-2"
    wait_until(lambda: len(list(version_dir.glob("snapshot.*"))) >= 3, 10, what="several snapshots")
    assert len(list(version_dir.glob("log.*"))) >= 3  # the log rolls at each snapshot
    c.stop()
    zk.kill()
    zk.start()
    d = kazoo_factory(zk.connect_string)
    assert len(d.get_children("/snap")) == 120
    assert d.get("/snap/n7")[0] == b"seven"
    assert d.get("/snap/n119")[0] == b"119"


def test_sessions_survive_restart_and_expire_if_clients_stay_away(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory
) -> None:
    zk = own_zk_server
    zk.properties["tickTime"] = "200"  # sessions between 0.4 and 4 s
    zk.start()
    loyal = kazoo_factory(zk.connect_string, timeout=4.0)
    gone = kazoo_factory(zk.connect_string, timeout=2.0)
    loyal.create("/sess/loyal", ephemeral=True, makepath=True)
    gone.create("/sess/gone", ephemeral=True)
    loyal_session = loyal.client_id[0]
    zk.kill()
    gone.stop()  # cannot reach the server: its session stays open on disk
    zk.start()
    restarted = time.monotonic()
    observer = kazoo_factory(zk.connect_string)
    assert observer.exists("/sess/gone") is not None  # restored with its session
    wait_until(lambda: observer.exists("/sess/gone") is None, 15, what="the session to expire")
    # Past the loyal session's own timeout: it reconnected and kept its session.
    time.sleep(max(0.0, restarted + 4.6 - time.monotonic()))
    assert loyal.client_id[0] == loyal_session
    assert observer.exists("/sess/loyal") is not None


def _mntr(zk: EmbeddedZooKeeper) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in zk.four_letter_word("mntr").splitlines())


def test_concurrent_writes_share_fsyncs(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory
) -> None:
    zk = own_zk_server.start()
    clients = [kazoo_factory(zk.connect_string) for _ in range(3)]
    clients[0].ensure_path("/group")
    before = int(_mntr(zk)["zk_cnt_fsynctime"])
    pending = [
        c.create_async(f"/group/c{i}-{n}", b"x") for n in range(200) for i, c in enumerate(clients)
    ]
    for p in pending:
        p.get(timeout=30)
    fsyncs = int(_mntr(zk)["zk_cnt_fsynctime"]) - before
    assert 0 < fsyncs < len(pending) / 2, f"{fsyncs} fsyncs for {len(pending)} writes"
    assert len(clients[1].get_children("/group")) == len(pending)


def test_separate_data_log_dir(own_zk_server: EmbeddedZooKeeper, kazoo_factory: Factory) -> None:
    zk = own_zk_server
    log_dir = zk.workdir / "txnlogs"
    zk.properties.update({"dataLogDir": str(log_dir), "snapCount": "10"})
    zk.start()
    c = kazoo_factory(zk.connect_string)
    for i in range(30):
        c.create(f"/sep{i}")
    c.stop()
    zk.kill()
    assert list((log_dir / "version-2").glob("log.*"))
    assert not list((zk.data_dir / "version-2").glob("log.*"))
    zk.start()
    assert kazoo_factory(zk.connect_string).exists("/sep29") is not None
