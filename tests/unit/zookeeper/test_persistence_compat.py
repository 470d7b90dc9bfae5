"""The persistence format against Apache ZooKeeper itself (Debian's `zookeeper` package).

ZooKeeper's TxnLogToolkit prints a log written by FileTxnLog; ZooKeeper's server loads it, and
after it has written its own log and snapshot into the same data dir, FileTxnLog and FileSnap
read those and ZooKeeper loads a txn appended by FileTxnLog on top. PurgeTxnLog and
FileSnap.purge leave the same files behind.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from kcli.testing.apache_zookeeper import (
    ApacheZooKeeper,
    java_path,
    unavailable_reason,
    zookeeper_jar,
)
from kcli.zookeeper.persistence import FileSnap, FileTxnLog

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]

OP_CREATE = 1
OP_CREATE_SESSION = -10
SESSION = 0x1_0000_0042


def jstring(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


def txn_header(zxid: int, op: int, cxid: int = 0) -> bytes:
    """TxnHeader: clientId int64, cxid int32, zxid int64, time int64, type int32."""
    return struct.pack(">qiqqi", SESSION, cxid, zxid, int(time.time() * 1000), op)


def create_txn(zxid: int, path: str, data: bytes) -> bytes:
    """TxnHeader + CreateTxn: path ustring, data buffer, acl vector<ACL>, ephemeral bool,
    parentCVersion int32. ACL = perms int32 + Id(scheme ustring, id ustring)."""
    world_anyone = struct.pack(">ii", 1, 31) + jstring(b"world") + jstring(b"anyone")
    record = jstring(path.encode()) + jstring(data) + world_anyone + b"\x00" + struct.pack(">i", 1)
    return txn_header(zxid, OP_CREATE, cxid=zxid) + record


def create_session_txn(zxid: int, timeout_ms: int = 30_000) -> bytes:
    return txn_header(zxid, OP_CREATE_SESSION) + struct.pack(">i", timeout_ms)


def java_tool(main_class: str, *args: str) -> subprocess.CompletedProcess[str]:
    jar, java = zookeeper_jar(), java_path()
    assert jar is not None and java is not None
    return subprocess.run(
        [java, "-cp", str(jar), main_class, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_txnlogtoolkit_prints_our_log(tmp_path: Path) -> None:
    log = FileTxnLog(tmp_path)
    log.append(1, create_session_txn(1))
    log.append(2, create_txn(2, "/kcli-made", b"hello"))
    log.commit()
    log.roll()
    log.append(3, create_txn(3, "/kcli-made/child", b"x" * 300))
    log.close()
    first = java_tool(
        "org.apache.zookeeper.server.persistence.TxnLogToolkit",
        str(tmp_path / "version-2" / "log.1"),
    )
    assert first.returncode == 0, first.stderr
    assert "txnlog format version 2" in first.stdout
    assert f"session {SESSION:#x} cxid 0x0 zxid 0x1 createSession 30000" in first.stdout
    assert "zxid 0x2 create /kcli-made,hello,[31,s{'world,'anyone}" in first.stdout
    assert "EOF reached after 2 txns." in first.stdout
    second = java_tool(
        "org.apache.zookeeper.server.persistence.TxnLogToolkit",
        str(tmp_path / "version-2" / "log.3"),
    )
    assert "zxid 0x3 create /kcli-made/child," in second.stdout
    assert "EOF reached after 1 txns." in second.stdout


class TrustingZooKeeper(ApacheZooKeeper):
    """ZooKeeper refuses txn logs without any snapshot unless told to trust that state."""

    def argv(self) -> list[str]:
        argv = super().argv()
        return [argv[0], "-Dzookeeper.snapshot.trust.empty=true", *argv[1:]]


def test_zookeeper_and_kcli_read_each_others_data_dir(tmp_path: Path) -> None:
    from kazoo.client import KazooClient

    zk = TrustingZooKeeper(tmp_path / "zk")
    data_dir = zk.data_dir
    log = FileTxnLog(data_dir)
    log.append(1, create_session_txn(1))
    log.append(2, create_txn(2, "/kcli-made", b"hello"))
    log.close()

    def session(check: list[str]) -> None:
        client = KazooClient(hosts=zk.connect_string, timeout=10.0)
        client.start(timeout=15)
        try:
            assert client.get("/kcli-made")[0] == b"hello"  # ZooKeeper replayed our log
            for path in check:
                assert client.exists(path), path
            if "/from-zookeeper" not in check:
                client.create("/from-zookeeper", b"written by ZooKeeper")
        finally:
            client.stop()
            client.close()

    try:
        zk.start()
        session([])
    finally:
        zk.stop()

    # ZooKeeper wrote a snapshot on start and a new, preallocated log: both read back here.
    snapshot = FileSnap(data_dir).latest()
    assert snapshot is not None
    assert snapshot[0] >= 2 and b"/kcli-made" in snapshot[1]
    log = FileTxnLog(data_dir)
    txns = list(log.read_from(0))
    zxids = [z for z, _ in txns]
    assert zxids == sorted(zxids) and zxids[:2] == [1, 2] and len(zxids) > 3
    created = [t for _, t in txns if struct.unpack_from(">i", t, 28)[0] == OP_CREATE]
    assert any(b"/from-zookeeper" in t for t in created)
    # ...and a txn appended here is replayed by ZooKeeper on its next start
    nxt = log.last_zxid + 1
    log.append(nxt, create_txn(nxt, "/kcli-after", b"again"))
    log.close()
    try:
        zk.start()
        session(["/from-zookeeper", "/kcli-after"])
    finally:
        zk.stop()


@pytest.mark.parametrize("damaged", [False, True])
def test_purge_matches_zookeepers_purgetxnlog(tmp_path: Path, damaged: bool) -> None:
    from tests.unit.zookeeper.test_persistence_snap import build_history

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    build_history(ours, [0x28, 0x5A, 0x78, 0xA0], 0xAA, rolls={0x28, 0x78, 0xA0})
    if damaged:
        newest = ours / "version-2" / "snapshot.a0"
        newest.write_bytes(newest.read_bytes()[:40])  # fails ZooKeeper's check too
        (ours / "version-2" / "snapshot.3.tmp").write_bytes(b"left by a crash")
    shutil.copytree(ours, theirs)
    FileSnap(ours).purge(3)
    res = java_tool("org.apache.zookeeper.server.PurgeTxnLog", str(theirs), str(theirs), "-n", "3")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (ours / "version-2").iterdir()) == sorted(
        p.name for p in (theirs / "version-2").iterdir()
    )
