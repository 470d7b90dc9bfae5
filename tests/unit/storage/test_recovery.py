"""Recovery on load: torn writes, flipped bytes, garbage tails, corrupt indexes, leftovers."""

from __future__ import annotations

import os
import random
from pathlib import Path

from kcli.protocol.batch import iter_headers, parse_header
from kcli.storage import files
from kcli.storage.config import LogConfig
from kcli.storage.log import Log
from kcli.storage.segment import LogSegment

from .helpers import T0, batch, open_log, read_all

CONFIG: dict[str, int] = {"segment_bytes": 700, "index_interval_bytes": 150}


def _build(path: Path, batches: int = 24) -> list[tuple[int, int]]:
    """A closed log of several segments; returns (base offset, record count) per batch."""
    log = open_log(path, **CONFIG)
    made = []
    rng = random.Random(7)
    i = 0
    while i < batches or sum(1 for _ in log.active_segment.iter_batches()) < 3:
        i += 1
        n = rng.randint(1, 3)
        info = log.append(
            batch(n, ts=T0 + 10 * i, value_size=rng.randint(5, 40)), leader_epoch=i // 6
        )
        made.append((info.first_offset, n))
    assert len(log.segments) >= 2
    log.close()
    return made


def _snapshot(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.iterdir()}


def _restore(path: Path, snap: dict[str, bytes], only: set[str] | None = None) -> None:
    """Put the snapshot back (all files, or just `only` when nothing else can have changed)."""
    for p in path.iterdir():
        if only is None or p.name in only or p.name not in snap:
            p.unlink()
    for name, data in snap.items():
        if only is None or name in only:
            (path / name).write_bytes(data)


def _check_indexes(log: Log) -> None:
    """Every index entry agrees with the log it indexes."""
    for seg in log.segments:
        batches = {b.position: b.header for b in seg.iter_batches()}
        assert sum(h.size for h in batches.values()) == seg.size == os.path.getsize(seg.log_path)
        running_max, max_by_last = -1, {}
        for h in batches.values():
            running_max = max(running_max, h.max_timestamp)
            max_by_last[h.last_offset] = running_max
        for n in range(seg.offset_index.entries):
            off, pos = seg.offset_index.entry(n)
            assert pos in batches and batches[pos].last_offset == off
        for n in range(seg.time_index.entries):
            ts, off = seg.time_index.entry(n)
            assert max_by_last.get(off) == ts


def _expected_end(last_segment: bytes, base: int, cut: int) -> int:
    end = base
    for pos, h in iter_headers(last_segment):
        if pos + h.size <= cut:
            end = h.next_offset
    return end


def test_torn_write_and_flip_sweep(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    _build(path, batches=12)
    snap = _snapshot(path)
    last_name = max(n for n in snap if n.endswith(".log"))
    base = int(last_name[:20])
    data = snap[last_name]
    headers = iter_headers(data)
    assert len(headers) >= 3 and len([n for n in snap if n.endswith(".log")]) >= 2
    first_cut = headers[-3][0]
    all_records = {}
    log = open_log(path, **CONFIG)
    all_records = {r[0]: r for r in read_all(log)}
    log.close()
    _restore(path, snap)

    def expected_bytes(end: int) -> bytes:
        return b"".join(data[p : p + h.size] for p, h in headers if h.next_offset <= end)

    def reopen_and_check(expected_end: int, recovery_point: int, full: bool) -> None:
        lg = Log.open(
            path, LogConfig(**CONFIG), clean_shutdown=False, recovery_point=recovery_point
        )
        try:
            assert lg.log_end_offset == expected_end
            # exactly the longest valid prefix stays, byte for byte
            assert lg.active_segment.read_bytes(0, len(data) + 1) == expected_bytes(expected_end)
            assert os.path.getsize(path / last_name) == lg.active_segment.size
            _check_indexes(lg)
            assert lg.leader_epoch_cache.entries()[-1][1] < max(expected_end, 1)
            if full:  # and every record reads back through the Log
                got = read_all(lg)
                assert got == [all_records[o] for o in sorted(all_records) if o < expected_end]
        finally:
            lg.close_handles()
        # segments before the recovery point are only read: restore just what can change
        _restore(path, snap, None if recovery_point < base else last_files)

    last_files = {n for n in snap if n.startswith(last_name[:20])} | {files.LEADER_EPOCH_CHECKPOINT}
    cases = 0
    for cut in range(first_cut, len(data) + 1):  # cut at every byte of the last three batches
        (path / last_name).write_bytes(data[:cut])
        reopen_and_check(_expected_end(data, base, cut), 0 if cut % 8 == 0 else base, cut % 4 == 0)
        cases += 1
    for pos, h in headers[-3:]:  # flip bytes covered by the length field and the CRC
        for at in [*range(pos + 8, pos + 12), *range(pos + 16, pos + h.size)]:
            flipped = bytearray(data)
            flipped[at] ^= 0xFF
            (path / last_name).write_bytes(flipped)
            reopen_and_check(_expected_end(data, base, pos), base, at % 8 == 0)
            cases += 1
    assert cases > 300


def test_garbage_tail_on_segment_and_index(tmp_path: Path) -> None:
    """Kafka's testCorruptLog: random bytes after the data and after the index entries."""
    rng = random.Random(3)
    for _ in range(5):
        path = tmp_path / f"t-{_}"
        _build(path, batches=rng.randint(10, 30))
        lg = open_log(path, **CONFIG)
        before = read_all(lg)
        active = lg.active_segment
        lg.close()
        for file in (active.log_path, active.offset_index.path):
            with open(file, "ab") as f:
                f.write(rng.randbytes(rng.randint(1, 1024)))
        lg = open_log(path, clean=False, **CONFIG)
        assert read_all(lg) == before
        _check_indexes(lg)
        lg.close()


def test_corrupt_indexes_are_rebuilt_on_a_clean_load(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    _build(path)
    lg = open_log(path, **CONFIG)
    before = read_all(lg)
    lg.close()
    for p in list(path.glob("*.index")) + list(path.glob("*.timeindex")):
        p.write_bytes(b"\x01\x02")
    (path / "00000000000000000000.timeindex").unlink()
    lg = open_log(path, **CONFIG)
    assert len(lg.last_recovery.rebuilt_indexes) == len(lg.segments)
    assert read_all(lg) == before
    _check_indexes(lg)
    assert lg.fetch_offset_by_timestamp(T0 + 100) is not None
    lg.close()


def test_misplaced_index_entries_cost_time_not_data(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    _build(path)
    lg = open_log(path, **CONFIG)
    before = read_all(lg)
    seg = lg.segments[0]
    assert seg.offset_index.entries
    _, pos = seg.offset_index.entry(0)
    lg.close()
    idx = path / "00000000000000000000.index"
    raw = bytearray(idx.read_bytes())
    raw[4:8] = (pos + 3).to_bytes(4, "big")  # point into the middle of a batch
    idx.write_bytes(raw)
    lg = open_log(path, **CONFIG)
    assert read_all(lg) == before


def test_leftover_files_and_swap_completion(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    made = _build(path)
    lg = open_log(path, **CONFIG)
    everything = read_all(lg)
    bases = [s.base_offset for s in lg.segments]
    first, second = lg.segments[0], lg.segments[1]
    keep = list(first.iter_batches())[-1:] + list(second.iter_batches())[-1:]
    kept_bytes = b"".join(first.read_bytes(b.position, b.header.size) for b in keep[:1]) + b"".join(
        second.read_bytes(b.position, b.header.size) for b in keep[1:]
    )
    lg.close()
    # leftovers Kafka would find after crashes at different moments
    (path / "00000000000000000000.log.deleted").write_bytes(b"old")
    (path / "00000000000000000099.index").write_bytes(b"")  # orphan index
    (path / "recovery-point-offset-checkpoint.tmp").write_bytes(b"x")
    cleaned = LogSegment.open(path, 0, suffix=files.CLEANED_SUFFIX)
    cleaned.append_batches(kept_bytes)
    cleaned.close()
    lg = open_log(path, **CONFIG)
    assert read_all(lg) == everything  # .cleaned is dropped: the old segments stay
    assert sorted(lg.last_recovery.removed_files)[:2] == [
        "00000000000000000000.index.cleaned",
        "00000000000000000000.log.cleaned",
    ]
    lg.close()
    assert not [p for p in path.iterdir() if p.name.endswith((".cleaned", ".deleted", ".tmp"))]
    # now a committed swap: the segments it covers are replaced
    swap = LogSegment.open(path, 0, suffix=files.SWAP_SUFFIX)
    swap.append_batches(kept_bytes)
    swap.close()
    lg = open_log(path, **CONFIG)
    assert lg.last_recovery.completed_swaps == [0]
    kept_offsets = set()
    for b in keep:
        kept_offsets.update(range(b.header.base_offset, b.header.next_offset))
    expected = [r for r in everything if r[0] in kept_offsets or r[0] >= bases[2]]
    assert read_all(lg) == expected
    assert [s.base_offset for s in lg.segments] == [0, *bases[2:]]
    _check_indexes(lg)
    lg.close()
    assert made


def test_replace_segments_is_crash_safe_api(tmp_path: Path) -> None:
    path = tmp_path / "t-0"
    _build(path)
    lg = open_log(path, file_delete_delay_ms=0, **CONFIG)
    everything = read_all(lg)
    old = list(lg.segments[:2])
    last_batches = list(old[1].iter_batches())[-1]
    cleaned = LogSegment.open(path, 0, suffix=files.CLEANED_SUFFIX)
    cleaned.append_batches(old[1].read_bytes(last_batches.position, last_batches.header.size))
    lg.replace_segments(cleaned, old)
    kept = set(range(last_batches.header.base_offset, last_batches.header.next_offset))
    expected = [r for r in everything if r[0] in kept or r[0] >= lg.segments[1].base_offset]
    assert read_all(lg) == expected
    assert not [p for p in path.iterdir() if p.suffix in (".swap", ".cleaned", ".deleted")]
    lg.close()
    lg = open_log(path, **CONFIG)
    assert read_all(lg) == expected


def test_header_parse_of_flipped_magic_is_rejected() -> None:
    raw = bytearray(batch(1))
    raw[16] = 1
    try:
        parse_header(raw)
    except ValueError:
        return
    raise AssertionError("magic 1 parsed")
