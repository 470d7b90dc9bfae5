"""FileTxnLog: round trips across rolls and restarts, group commit hand-off, crash recovery."""

from __future__ import annotations

import os
import shutil
import struct
import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kcli.zookeeper.persistence import CorruptLogError, FileTxnLog

SMALL_PREALLOC = 4096  # keeps the crash sweeps' copies small


def txn(zxid: int, body: bytes = b"") -> bytes:
    """A txn as the server logs it: jute TxnHeader (clientId, cxid, zxid, time, type) + record."""
    return struct.pack(">qiqqi", 0x1_0000_0001, zxid & 0x7FFF, zxid, 1_700_000_000_000, 5) + body


def entries(n: int, first: int = 1, size: int = 40) -> list[tuple[int, bytes]]:
    return [(z, txn(z, bytes([z % 251]) * (size + z % 7))) for z in range(first, first + n)]


def read_all(data_dir: Path, zxid: int = 0) -> list[tuple[int, bytes]]:
    log = FileTxnLog(data_dir, prealloc_size=SMALL_PREALLOC)
    try:
        return list(log.read_from(zxid))
    finally:
        log.close()


def write(log: FileTxnLog, items: list[tuple[int, bytes]]) -> None:
    for zxid, data in items:
        log.append(zxid, data)
    log.commit()


def log_files(data_dir: Path) -> list[str]:
    return sorted(
        (p.name for p in (data_dir / "version-2").glob("log.*")), key=lambda n: int(n[4:], 16)
    )


def test_round_trip_across_rolls_and_reopen(tmp_path: Path) -> None:
    items = entries(40)
    log = FileTxnLog(tmp_path)
    write(log, items[:10])
    log.roll()
    write(log, items[10:25])
    log.roll()
    log.roll()  # a second roll with nothing appended changes nothing
    write(log, items[25:26])
    log.close()
    log = FileTxnLog(tmp_path)
    assert log.last_zxid == 26
    write(log, items[26:])  # a restart begins a new file, as ZooKeeper does
    assert log_files(tmp_path) == ["log.1", "log.b", "log.1a", "log.1b"]
    assert list(log.read_from(0)) == items
    assert list(log.read_from(17)) == items[16:]
    assert list(log.read_from(26)) == items[25:]
    assert list(log.read_from(41)) == []
    log.close()
    assert read_all(tmp_path, 11) == items[10:]


def test_file_layout_is_zookeepers(tmp_path: Path) -> None:
    data = txn(0x100000001, b"payload")
    log = FileTxnLog(tmp_path)
    log.append(0x100000001, data)
    log.commit()
    path = tmp_path / "version-2" / "log.100000001"
    assert path.stat().st_size >= 64 * 1024 * 1024  # preallocated (sparse), like ZooKeeper
    log.close()
    raw = path.read_bytes()
    expected_entry = struct.pack(">qi", zlib.adler32(data), len(data)) + data + b"B"
    assert raw == b"ZKLG" + struct.pack(">iq", 2, 0) + expected_entry  # close trims the padding


def test_commit_without_appends_writes_nothing(tmp_path: Path) -> None:
    log = FileTxnLog(tmp_path)
    log.commit()
    log.roll()
    log.commit()
    log.close()
    assert log_files(tmp_path) == []
    assert FileTxnLog(tmp_path).last_zxid == 0


def test_entries_appended_before_roll_stay_in_the_old_file(tmp_path: Path) -> None:
    items = entries(3)
    log = FileTxnLog(tmp_path)
    log.append(*items[0])
    log.append(*items[1])
    log.roll()
    log.append(*items[2])
    log.commit()  # one commit spanning the roll
    log.close()
    assert log_files(tmp_path) == ["log.1", "log.3"]
    assert list(FileTxnLog(tmp_path).read_from(3)) == items[2:]


def test_append_rejects_what_read_from_could_not_order(tmp_path: Path) -> None:
    log = FileTxnLog(tmp_path)
    with pytest.raises(ValueError, match="TxnHeader"):
        log.append(1, b"short")
    with pytest.raises(ValueError, match="differs"):
        log.append(2, txn(3))
    log.append(5, txn(5))
    with pytest.raises(ValueError, match="not after"):
        log.append(5, txn(5))
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.append(6, txn(6))
    assert read_all(tmp_path) == [(5, txn(5))]  # close committed the buffered entry


def test_failed_write_poisons_the_log(tmp_path: Path) -> None:
    log = FileTxnLog(tmp_path)
    write(log, entries(1))
    assert log._fd is not None
    os.close(log._fd)  # the next write fails as on a dead disk
    log.append(*entries(1, first=2)[0])
    with pytest.raises(OSError):
        log.commit()
    with pytest.raises(OSError, match="failed earlier"):
        log.append(*entries(1, first=3)[0])
    log._fd = None
    log.close()


def test_group_commit_from_a_worker_thread(tmp_path: Path) -> None:
    items = entries(2000, size=200)
    log = FileTxnLog(tmp_path)
    done = threading.Event()
    errors: list[BaseException] = []

    def committer() -> None:
        try:
            while not done.is_set():
                log.commit()
            log.commit()
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=committer)
    worker.start()
    try:
        for i, (zxid, data) in enumerate(items):
            log.append(zxid, data)
            if i % 500 == 499:
                log.roll()
    finally:
        done.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
    assert errors == []
    assert list(log.read_from(0)) == items
    log.close()
    assert len(log_files(tmp_path)) == 4


# -- crash recovery ------------------------------------------------------------------------


def make_crash_fixture(base: Path) -> tuple[Path, list[tuple[int, bytes]], list[int]]:
    """Two log files; returns (last file, all entries, byte offset of each last-file entry)."""
    items = entries(12)
    log = FileTxnLog(base, prealloc_size=SMALL_PREALLOC)
    write(log, items[:6])
    log.roll()
    write(log, items[6:])
    log.close()
    last = base / "version-2" / "log.7"
    offsets, pos = [], 16
    for _, data in items[6:]:
        offsets.append(pos)
        pos += 13 + len(data)
    assert last.stat().st_size == pos
    return last, items, offsets


def survivors(items: list[tuple[int, bytes]], offsets: list[int], damaged_at: int) -> int:
    """How many entries survive damage at `damaged_at`: every one wholly before it."""
    return 6 + sum(
        1 for i, start in enumerate(offsets) if start + 13 + len(items[6 + i][1]) <= damaged_at
    )


def check_recovered(data_dir: Path, expected: list[tuple[int, bytes]]) -> None:
    log = FileTxnLog(data_dir, prealloc_size=SMALL_PREALLOC)
    assert log.last_zxid == expected[-1][0]
    assert list(log.read_from(0)) == expected
    nxt = expected[-1][0] + 1
    log.append(nxt, txn(nxt, b"after-crash"))
    log.commit()
    log.close()
    assert read_all(data_dir) == [*expected, (nxt, txn(nxt, b"after-crash"))]


def test_torn_tail_cut_at_every_byte_of_the_last_two_entries(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    last, items, offsets = make_crash_fixture(pristine)
    size = last.stat().st_size
    for cut in range(offsets[-2], size):
        work = tmp_path / f"cut{cut}"
        shutil.copytree(pristine, work)
        os.truncate(work / "version-2" / last.name, cut)
        kept = survivors(items, offsets, cut)
        check_recovered(work, items[:kept])
        shutil.rmtree(work)


def test_flipped_byte_in_the_last_two_entries(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    last, items, offsets = make_crash_fixture(pristine)
    size = last.stat().st_size
    for at in range(offsets[-2], size):
        work = tmp_path / f"flip{at}"
        shutil.copytree(pristine, work)
        path = work / "version-2" / last.name
        raw = bytearray(path.read_bytes())
        raw[at] ^= 0xFF
        path.write_bytes(bytes(raw))
        # the entry holding the flipped byte is lost, with everything after it
        kept = survivors(items, offsets, at)
        check_recovered(work, items[:kept])
        shutil.rmtree(work)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    cut=st.integers(min_value=0, max_value=400),
)
def test_random_damage_keeps_the_prefix_before_it(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, cut: int
) -> None:
    base = tmp_path_factory.mktemp("rand")
    last, items, offsets = make_crash_fixture(base)
    path = base / "version-2" / last.name
    raw = bytearray(path.read_bytes())
    start = offsets[0]
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(start, len(raw) - 1), st.integers(1, 255)),
            max_size=4,
            unique_by=lambda flip: flip[0],
        )
    )
    for at, mask in flips:
        raw[at] ^= mask
    end = max(start, len(raw) - cut)
    first_damage = min([end, *(at for at, _ in flips if at < end)])
    path.write_bytes(bytes(raw[:end]))
    check_recovered(base, items[: survivors(items, offsets, first_damage)])
    shutil.rmtree(base)


def test_newest_file_without_a_complete_entry_is_removed(tmp_path: Path) -> None:
    last, items, _ = make_crash_fixture(tmp_path)
    os.truncate(last, 10)  # crash while the header of a fresh file was being written
    FileTxnLog(tmp_path).close()
    assert log_files(tmp_path) == ["log.1"]
    check_recovered(tmp_path, items[:6])


def test_zero_padding_ends_the_log_and_is_left_alone(tmp_path: Path) -> None:
    last, items, _ = make_crash_fixture(tmp_path)
    with open(last, "ab") as f:
        f.write(bytes(100_000))  # ZooKeeper's preallocated files end this way
    size = last.stat().st_size
    log = FileTxnLog(tmp_path)
    assert list(log.read_from(0)) == items
    log.close()
    assert last.stat().st_size == size


def test_damage_in_an_older_file_is_reported(tmp_path: Path) -> None:
    _last, items, _ = make_crash_fixture(tmp_path)
    older = tmp_path / "version-2" / "log.1"
    raw = bytearray(older.read_bytes())
    raw[16 + sum(13 + len(data) for _, data in items[:2]) + 7] ^= 0x01  # entry 3's checksum
    older.write_bytes(bytes(raw))
    log = FileTxnLog(tmp_path)
    assert log.last_zxid == 12  # opening only repairs the newest file
    with pytest.raises(
        CorruptLogError, match=r"log\.1 is damaged at byte \d+ \(checksum mismatch\)"
    ):
        list(log.read_from(0))
    assert list(log.read_from(7)) == items[6:]  # replay that starts past the damage is fine
    log.close()


def test_foreign_file_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "version-2").mkdir()
    (tmp_path / "version-2" / "log.5").write_bytes(b"NOPE" + bytes(40))
    with pytest.raises(CorruptLogError, match="not a ZooKeeper transaction log"):
        FileTxnLog(tmp_path)
