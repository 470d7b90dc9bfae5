"""FileSnap (save, latest, damaged snapshots skipped), purge as PurgeTxnLog, data dir checks."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kcli.errors import ConfigError
from kcli.zookeeper.persistence import (
    DataDirLock,
    FileSnap,
    FileTxnLog,
    check_data_dir,
    unseal,
)
from kcli.zookeeper.persistence.snap import DamagedSnapshotError

SEAL = b"\x00\x00\x00\x01/"


def names(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "version-2").iterdir()}


def test_save_writes_zookeepers_layout(tmp_path: Path) -> None:
    path = FileSnap(tmp_path).save(0x2000000A3, b"tree-bytes")
    assert path == tmp_path / "version-2" / "snapshot.2000000a3"
    raw = path.read_bytes()
    header = b"ZKSN" + struct.pack(">iq", 2, 0)
    body = header + b"tree-bytes"
    # ZooKeeper's checksum runs over the header too (one CheckedOutputStream for the file)
    assert raw == body + struct.pack(">q", zlib.adler32(body)) + SEAL
    assert names(tmp_path) == {"snapshot.2000000a3"}  # no temp file left behind


def test_latest_is_the_newest_that_verifies(tmp_path: Path) -> None:
    snap = FileSnap(tmp_path)
    assert snap.latest() is None
    snap.save(5, b"five")
    snap.save(0x10, b"sixteen")
    assert snap.latest() == (0x10, b"sixteen")
    newest = snap.save(0x20, b"thirty-two")
    raw = bytearray(newest.read_bytes())
    raw[20] ^= 0x40
    newest.write_bytes(bytes(raw))
    assert snap.latest() == (0x10, b"sixteen")


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],  # torn: seal incomplete
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"",
        lambda raw: b"ZKLG" + raw[4:],  # wrong magic
        lambda raw: raw[:4] + struct.pack(">i", 3) + raw[8:],  # unknown version
        lambda raw: raw[:-13] + bytes(8) + raw[-5:],  # checksum zeroed
        lambda raw: raw + b"trailing",
    ],
)
def test_damaged_snapshots_are_skipped(tmp_path: Path, damage: object) -> None:
    snap = FileSnap(tmp_path)
    snap.save(1, b"good")
    bad = snap.save(2, b"will be damaged")
    assert callable(damage)
    bad.write_bytes(damage(bad.read_bytes()))
    assert snap.latest() == (1, b"good")


def test_leftover_temp_file_is_ignored(tmp_path: Path) -> None:
    snap = FileSnap(tmp_path)
    snap.save(1, b"one")
    (tmp_path / "version-2" / "snapshot.2.tmp").write_bytes(b"ZKSN half written")
    assert snap.latest() == (1, b"one")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.binary(max_size=40), st.just(SEAL), st.just(bytes(8) + SEAL)), max_size=8)
)
def test_payload_round_trips_even_when_it_looks_like_a_seal(parts: list[bytes]) -> None:
    payload = b"".join(parts)
    header = b"ZKSN" + struct.pack(">iq", 2, 0)
    body = header + payload
    assert unseal(body + struct.pack(">q", zlib.adler32(body)) + SEAL) == payload


def test_reads_zookeeper_36_digest_after_the_first_seal() -> None:
    header = b"ZKSN" + struct.pack(">iq", 2, 0)
    stream = header + b"sessions and tree"
    stream += struct.pack(">q", zlib.adler32(stream)) + SEAL
    stream += struct.pack(">qiq", 0x42, 2, 123456789)  # ZxidDigest: zxid, version, digest
    stream += struct.pack(">q", zlib.adler32(stream)) + SEAL
    assert unseal(stream) == b"sessions and tree"
    broken = bytearray(stream)
    broken[-20] ^= 1  # inside the digest: only the second seal catches it
    with pytest.raises(DamagedSnapshotError, match="checksum"):
        unseal(bytes(broken))


# -- purge -----------------------------------------------------------------------------------


def txn(zxid: int) -> bytes:
    return struct.pack(">qiqqi", 1, 1, zxid, 0, 5) + b"x"


def build_history(data_dir: Path, snapshots: list[int], last: int, rolls: set[int]) -> None:
    """Txns 1..`last`; a snapshot at each zxid in `snapshots`, a log roll after those in `rolls`."""
    log = FileTxnLog(data_dir, prealloc_size=0)
    snap = FileSnap(data_dir)
    for zxid in range(1, last + 1):
        log.append(zxid, txn(zxid))
        if zxid in snapshots:
            log.commit()
            snap.save(zxid, f"tree at {zxid}".encode())
            if zxid in rolls:
                log.roll()
    log.close()


def test_purge_keeps_what_zookeeper_keeps(tmp_path: Path) -> None:
    # the snapshot at 0x5a came without a roll, so log.29 runs on past it to 0x78
    build_history(tmp_path, [0x28, 0x5A, 0x78, 0xA0], 0xAA, rolls={0x28, 0x78, 0xA0})
    assert names(tmp_path) == {
        "log.1",
        "log.29",
        "log.79",
        "log.a1",
        "snapshot.28",
        "snapshot.5a",
        "snapshot.78",
        "snapshot.a0",
    }
    snap = FileSnap(tmp_path)
    deleted = snap.purge(3)
    # the oldest kept snapshot is 0x5a; log.29 is the newest log named at or below it: kept
    assert sorted(p.name for p in deleted) == ["log.1", "snapshot.28"]
    assert names(tmp_path) == {
        "log.29",
        "log.79",
        "log.a1",
        "snapshot.5a",
        "snapshot.78",
        "snapshot.a0",
    }
    # everything after the oldest kept snapshot still replays
    assert [z for z, _ in FileTxnLog(tmp_path).read_from(0x5B)] == list(range(0x5B, 0xAB))
    assert snap.purge(3) == []


def test_purge_does_not_count_damaged_snapshots(tmp_path: Path) -> None:
    build_history(tmp_path, [3, 5, 7, 9], 10, rolls={3, 5, 7, 9})
    (tmp_path / "version-2" / "snapshot.9").write_bytes(b"garbage")
    (tmp_path / "version-2" / "snapshot.1.tmp").write_bytes(b"stale")
    deleted = FileSnap(tmp_path).purge(3)
    # 3, 5 and 7 are the valid three, so only the stale temp file is older than all of them
    assert sorted(p.name for p in deleted) == ["snapshot.1.tmp"]
    assert FileSnap(tmp_path).latest() == (7, b"tree at 7")


def test_purge_with_a_separate_data_log_dir(tmp_path: Path) -> None:
    snaps, logs = tmp_path / "data", tmp_path / "datalog"
    log = FileTxnLog(logs, prealloc_size=0)
    snap = FileSnap(snaps, data_log_dir=logs)
    for zxid in range(1, 11):
        log.append(zxid, txn(zxid))
        if zxid % 2 == 0:
            log.commit()
            snap.save(zxid, b"tree")
            log.roll()
    log.close()
    deleted = snap.purge(3)
    # kept snapshots 6, 8, 10; log.5 (newest at or below 6) stays
    assert sorted(p.name for p in deleted) == ["log.1", "log.3", "snapshot.2", "snapshot.4"]
    assert {p.parent for p in deleted} == {snaps / "version-2", logs / "version-2"}
    assert names(logs) == {"log.5", "log.7", "log.9"}


def test_purge_refuses_fewer_than_three(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        FileSnap(tmp_path).purge(2)


# -- data dir --------------------------------------------------------------------------------


def test_data_dir_is_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert check_data_dir(target) == target
    assert (target / "version-2").is_dir()
    assert list((target / "version-2").iterdir()) == []


def test_data_dir_under_a_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a dir")
    with pytest.raises(ConfigError) as err:
        check_data_dir(tmp_path / "file" / "zk")
    assert err.value.message == (
        f"cannot write ZooKeeper data dir {tmp_path / 'file' / 'zk'}: not a directory"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any directory")
def test_unwritable_data_dir_is_a_config_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(
            ConfigError, match=r"cannot write ZooKeeper data dir .*permission denied"
        ):
            check_data_dir(locked)
    finally:
        locked.chmod(0o700)


def test_second_server_on_the_same_dir_is_refused(tmp_path: Path) -> None:
    with DataDirLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(ConfigError, match="is in use by another server"):
            DataDirLock(tmp_path).acquire()
    with DataDirLock(tmp_path):  # released on exit
        pass
