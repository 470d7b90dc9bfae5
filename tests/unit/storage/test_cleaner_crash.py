"""Crash safety of the cleaner's swap: the partition directory is copied after every file step of
a cleaning (as a crash there would leave it), and each copy must load, through the storage core's
recovery, to either the old or the new state, with every key's latest value intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kcli.clock import MockClock
from kcli.protocol.records import Record, build_batch
from kcli.storage import files
from kcli.storage.cleaner import LogCleaner
from kcli.storage.log import Log
from kcli.storage.segment import LogSegment
from tests.unit.storage.helpers import T0, open_log, read_all

KEYS = [f"K{i % 5}" for i in range(30)]


def _build(path: Path, clock: MockClock, delete_delay_ms: int) -> Log:
    lg = open_log(
        path,
        clock,
        cleanup_policy=("compact",),
        segment_index_bytes=4096,
        file_delete_delay_ms=delete_delay_ms,
    )
    for i, key in enumerate(KEYS):
        rec = Record(key.encode(), f"v{i}".encode(), T0 + i, offset=i)
        lg.append(bytearray(build_batch([rec], i)), assign_offsets=False)
        if i % 10 == 9:
            lg.roll()  # three full segments, then an empty active one
    return lg


def _state(lg: Log) -> list[tuple[int, bytes | None, bytes | None]]:
    return [(o, k, v) for o, k, v, _ in read_all(lg)]


@pytest.mark.parametrize("delete_delay_ms", [0, 60_000])
def test_crash_at_every_swap_step_recovers_old_or_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delete_delay_ms: int
) -> None:
    clock = MockClock(T0 + 1000)
    part = tmp_path / "dir" / "t-0"
    lg = _build(part, clock, delete_delay_ms)
    old_state = _state(lg)
    latest = {k: (o, v) for o, k, v in old_state}
    snapshots: list[tuple[str, Path]] = []

    def snapshot(step: str) -> None:
        dest = tmp_path / f"snap{len(snapshots)}" / "t-0"
        shutil.copytree(part, dest)
        snapshots.append((step, dest))

    real_change_suffix = LogSegment.change_suffix

    def change_suffix(self: LogSegment, new_suffix: str) -> None:
        real_change_suffix(self, new_suffix)
        snapshot(f"{self.base_offset}->{new_suffix or 'live'}")

    monkeypatch.setattr(LogSegment, "change_suffix", change_suffix)
    stats = LogCleaner(clock, fault=snapshot).clean_log(lg)
    monkeypatch.undo()
    assert stats.cleaned
    new_state = _state(lg)
    assert new_state != old_state
    assert {k: (o, v) for o, k, v in new_state} == latest
    steps = [s for s, _ in snapshots]
    assert steps[0] == "cleaned" and "0->.swap" in steps and steps[-1] == "0->live"
    assert len(steps) == 2 + 1 + 3  # .cleaned written, ->.swap, 3 olds ->.deleted, ->live

    outcomes = []
    for step, snap in snapshots:
        reopened = Log.open(snap, lg.config, clock=clock, clean_shutdown=False)
        state = _state(reopened)
        names = sorted(p.name for p in snap.iterdir())
        reopened.close()
        assert state in (old_state, new_state), step
        assert {k: (o, v) for o, k, v in state} == latest, step
        assert not [n for n in names if n.endswith((files.CLEANED_SUFFIX, files.SWAP_SUFFIX))]
        outcomes.append("old" if state == old_state else "new")
    # Before the .swap rename the old segments win; from it on the swap is completed.
    assert outcomes == ["old"] + ["new"] * (len(snapshots) - 1)
    lg.close()


def test_leftover_cleaned_files_are_ignored_and_recleaned(tmp_path: Path) -> None:
    clock = MockClock(T0 + 1000)
    part = tmp_path / "t-0"
    lg = _build(part, clock, 0)
    before = _state(lg)

    def crash(step: str) -> None:
        raise RuntimeError(f"simulated crash at {step}")

    with pytest.raises(RuntimeError):
        LogCleaner(clock, fault=crash).clean_log(lg)
    assert list(part.glob("*.log.cleaned"))
    lg.close_handles()
    reopened = Log.open(part, lg.config, clock=clock, clean_shutdown=False)
    assert _state(reopened) == before
    assert not list(part.glob("*.cleaned"))
    assert LogCleaner(clock).clean_log(reopened).cleaned
    assert len(_state(reopened)) == 5
    reopened.close()
