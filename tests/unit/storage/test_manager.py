"""LogManager across two log dirs: placement, restart (clean and unclean), checkpoints,
deletion, passes and the dir lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kcli.clock import MockClock
from kcli.storage import files
from kcli.storage.checkpoint import OffsetCheckpointFile
from kcli.storage.errors import LogDirLockedError
from kcli.storage.files import TopicPartition
from kcli.storage.log import Log
from kcli.storage.manager import LogManager

from .helpers import T0, batch, read_all

BROKER = {
    "log.segment.bytes": "600",
    "log.retention.hours": "1",
    "log.segment.delete.delay.ms": "0",
}


def _manager(tmp_path: Path, clock: MockClock) -> LogManager:
    m = LogManager([tmp_path / "d1", tmp_path / "d2"], BROKER, clock=clock)
    m.startup()
    return m


def test_two_dirs_restart_and_checkpoints(tmp_path: Path) -> None:
    clock = MockClock(T0)
    m = _manager(tmp_path, clock)
    tps = [TopicPartition("orders", p) for p in range(4)] + [TopicPartition("logs", 0)]
    for tp in tps:
        log = m.get_or_create_log(tp)
        for _ in range(10):
            log.append(batch(2))
    dirs = {tp: m.log_dir_of(tp) for tp in tps}
    assert sorted(sum(1 for d in dirs.values() if d == tmp_path / n) for n in ("d1", "d2")) == [
        2,
        3,
    ]
    assert m.get_or_create_log(tps[0]) is m.get_log(tps[0])
    m.get_log(tps[0]).delete_records(5)  # type: ignore[union-attr]
    m.checkpoint_high_watermarks(dict.fromkeys(tps, 20))
    m.shutdown()
    for d in ("d1", "d2"):
        assert (tmp_path / d / files.CLEAN_SHUTDOWN_FILE).exists()
        assert (tmp_path / d / "replication-offset-checkpoint").exists()
    d0 = dirs[tps[0]]
    assert d0 is not None
    assert OffsetCheckpointFile(d0 / files.LOG_START_OFFSET_CHECKPOINT).read() == {tps[0]: 5}
    recovery = OffsetCheckpointFile(d0 / files.RECOVERY_POINT_CHECKPOINT).read()
    assert recovery[tps[0]] == 20

    m = _manager(tmp_path, clock)
    assert m.had_clean_shutdown == {tmp_path / "d1": True, tmp_path / "d2": True}
    assert not (tmp_path / "d1" / files.CLEAN_SHUTDOWN_FILE).exists()  # removed once loaded
    assert sorted(m.partitions()) == sorted(tps)
    assert m.get_log(tps[0]).log_start_offset == 5  # type: ignore[union-attr]
    assert m.read_high_watermarks() == dict.fromkeys(tps, 20)
    for tp in tps:
        log = m.get_log(tp)
        assert log is not None and log.log_end_offset == 20
        assert m.log_dir_of(tp) == dirs[tp]
    # crash: no shutdown; tear the tail of one log
    victim = m.get_log(tps[1])
    assert victim is not None
    victim.append(batch(3))
    tail = victim.active_segment.log_path
    for lg in m.all_logs().values():
        lg.close_handles()
    for fd in m._locks.values():
        os.close(fd)
    with open(tail, "r+b") as f:
        f.truncate(f.seek(0, 2) - 7)
    m = _manager(tmp_path, clock)
    assert m.had_clean_shutdown[tmp_path / "d1"] is False
    log = m.get_log(tps[1])
    assert log is not None and log.log_end_offset == 20
    assert log.last_recovery.truncated_bytes > 0
    assert [r[0] for r in read_all(log)] == list(range(20))
    m.shutdown()


def test_delete_log_renames_then_removes(tmp_path: Path) -> None:
    clock = MockClock(T0)
    m = LogManager([tmp_path / "d1"], {"log.segment.delete.delay.ms": "5000"}, clock=clock)
    m.startup()
    tp = TopicPartition("gone", 0)
    m.get_or_create_log(tp).append(batch(2))
    data = m.get_log(tp).read(0, 1000)  # type: ignore[union-attr]
    assert m.delete_log(tp)
    assert m.get_log(tp) is None and not m.delete_log(tp)
    [moved] = [p for p in (tmp_path / "d1").iterdir() if p.is_dir()]
    assert files.is_delete_dir_name(moved.name)
    assert data.to_bytes()  # a read handed out before the delete still works
    m.remove_deleted()
    assert moved.exists()
    clock.advance(5000)
    m.remove_deleted()
    assert not moved.exists()
    again = m.get_or_create_log(tp)  # a topic re-created under the same name starts empty
    assert (again.log_start_offset, again.log_end_offset) == (0, 0)
    assert again.append(batch(1)).first_offset == 0
    m.shutdown()
    # a leftover -delete dir from a crash is removed at start-up
    (tmp_path / "d1" / files.delete_dir_name(tp)).mkdir()
    m = LogManager([tmp_path / "d1"], clock=clock)
    m.startup()
    assert [p.name for p in (tmp_path / "d1").iterdir() if p.is_dir()] == ["gone-0"]
    m.shutdown()


def test_topic_config_retention_and_cleaner_pass(tmp_path: Path) -> None:
    clock = MockClock(T0)
    m = _manager(tmp_path, clock)
    a, b = TopicPartition("a", 0), TopicPartition("b", 0)
    for tp in (a, b):
        for _ in range(10):
            m.get_or_create_log(tp).append(batch(2, ts=clock.time_ms()))
    m.set_topic_config("b", {"retention.ms": "-1", "cleanup.policy": "compact,delete"})
    assert m.config_for("b").retention_ms == -1 and m.config_for("a").retention_ms == 3_600_000
    clock.advance(2 * 3_600_000)
    segments_of_a = len(m.get_log(a).segments)  # type: ignore[union-attr]
    assert m.run_retention_pass() == segments_of_a - 1
    assert len(m.get_log(a).segments) == 1  # type: ignore[union-attr]
    assert len(m.get_log(b).segments) > 1  # type: ignore[union-attr]

    seen: list[tuple[str, int]] = []

    class Recorder:
        def clean_log(self, log: Log, now_ms: int) -> object:
            seen.append((log.dir.name, now_ms))
            return "nothing to do"

    assert m.run_cleaner_pass(Recorder()) == {b: "nothing to do"}
    assert seen == [("b-0", clock.time_ms())]
    assert m.flush_dirty_logs() == 0  # flush.ms defaults to never
    m.shutdown()


def test_flush_policy(tmp_path: Path) -> None:
    clock = MockClock(T0)
    m = LogManager(
        [tmp_path / "d"],
        {"log.flush.interval.messages": "3", "log.flush.interval.ms": "100"},
        clock=clock,
    )
    m.startup()
    log = m.get_or_create_log(TopicPartition("t", 0))
    log.append(batch(2))
    assert log.recovery_point == 0
    log.append(batch(1))
    assert log.recovery_point == 3  # flush.messages reached
    log.append(batch(1))
    assert m.flush_dirty_logs() == 0
    clock.advance(100)
    assert m.flush_dirty_logs() == 1 and log.recovery_point == 4
    m.shutdown()


def test_log_dir_lock(tmp_path: Path) -> None:
    m = LogManager([tmp_path / "d"])
    m.startup()
    other = LogManager([tmp_path / "d"])
    with pytest.raises(LogDirLockedError, match="Failed to acquire lock"):
        other.startup()
    m.shutdown()
