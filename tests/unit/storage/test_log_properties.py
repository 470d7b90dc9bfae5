"""Property tests: random appends of random batches round-trip through read, across segment
rolls and clean and unclean restarts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kcli.clock import MockClock
from kcli.protocol.batch import Compression, iter_headers, parse_header
from kcli.protocol.records import Record, build_batch
from kcli.storage.config import LogConfig
from kcli.storage.log import Log
from kcli.storage.segment import whole_batches_size

from .helpers import T0, read_all

records_st = st.lists(
    st.tuples(
        st.one_of(st.none(), st.binary(max_size=8)),
        st.one_of(st.none(), st.binary(max_size=100)),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=6,
)
append_st = st.tuples(
    st.just("append"),
    st.lists(records_st, min_size=1, max_size=3),
    st.sampled_from([Compression.NONE, Compression.GZIP, Compression.LZ4]),
)
reopen_st = st.tuples(st.sampled_from(["clean", "unclean", "advance"]))
ops_st = st.lists(st.one_of(append_st, append_st, append_st, reopen_st), min_size=1, max_size=25)
config_st = st.builds(
    LogConfig,
    segment_bytes=st.integers(min_value=2500, max_value=6000),
    index_interval_bytes=st.integers(min_value=0, max_value=600),
    segment_index_bytes=st.sampled_from([40, 120, 4096]),
    segment_ms=st.sampled_from([1000, 604_800_000]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops_st, config=config_st)
def test_appends_round_trip_across_rolls_and_restarts(ops: list[tuple], config: LogConfig) -> None:
    clock = MockClock(T0)
    model: list[tuple[int, bytes | None, bytes | None, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t-0"
        log = Log.open(path, config, clock=clock)
        try:
            for op in ops:
                if op[0] == "append":
                    _, batches, codec = op
                    buf = bytearray()
                    for recs in batches:
                        now = clock.time_ms()
                        built = [Record(k, v, timestamp=now + dt) for k, v, dt in recs]
                        buf += build_batch(built, compression=codec)
                    info = log.append(buf, leader_epoch=1)
                    offset = info.first_offset
                    assert offset == (model[-1][0] + 1 if model else 0)
                    for recs in batches:
                        for k, v, dt in recs:
                            model.append((offset, k, v, clock.time_ms() + dt))
                            offset += 1
                    assert log.log_end_offset == offset
                elif op[0] == "advance":
                    clock.advance(700)
                else:
                    log.close()
                    log = Log.open(path, config, clock=clock, clean_shutdown=op[0] == "clean")
                    assert log.log_end_offset == (model[-1][0] + 1 if model else 0)
                    assert read_all(log) == model
            assert read_all(log) == model
            for offset, *_ in model[:: max(1, len(model) // 10)]:
                data = log.read(offset, 1).to_bytes()
                header = parse_header(data)
                assert header.base_offset <= offset <= header.last_offset
                assert len(data) == header.size
            event(f"segments: {min(len(log.segments), 5)}")
            event(f"restarts: {min(sum(1 for op in ops if op[0] in ('clean', 'unclean')), 3)}")
            for seg in log.segments[:-1]:
                assert seg.size <= config.segment_bytes
        finally:
            log.close()


follower_ops_st = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 4), st.integers(0, 3)),  # records, gap
        st.tuples(st.just("truncate"), st.floats(0, 1)),
        st.tuples(st.just("delete_records"), st.floats(0, 1)),
        st.tuples(st.sampled_from(["clean", "unclean"])),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=follower_ops_st)
def test_follower_appends_truncation_and_log_start(ops: list[tuple]) -> None:
    """Offsets kept (with gaps), truncations at batch boundaries, DeleteRecords and restarts:
    the log always reads back as the model says and reads honour max_offset."""
    config = LogConfig(segment_bytes=400, index_interval_bytes=50, file_delete_delay_ms=0)
    batches: list[tuple[int, int]] = []  # (base offset, record count) in the log
    start = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t-0"
        log = Log.open(path, config, clock=MockClock(T0))
        try:
            for op in ops:
                end = log.log_end_offset
                assert end >= (batches[-1][0] + batches[-1][1] if batches else 0)
                if op[0] == "append":
                    _, count, gap = op
                    base = end + gap
                    recs = [Record(b"k", b"v" * 10, T0 + i) for i in range(count)]
                    log.append(bytearray(build_batch(recs, base)), assign_offsets=False)
                    batches.append((base, count))
                elif op[0] == "truncate" and batches:
                    keep = int(op[1] * len(batches))
                    target = batches[keep][0] if keep < len(batches) else end
                    log.truncate_to(target)
                    del batches[keep:]
                    data_end = batches[-1][0] + batches[-1][1] if batches else 0
                    # the end of what is left, or the base of an emptied last segment
                    assert data_end <= log.log_end_offset <= target
                    start = min(start, log.log_end_offset)
                elif op[0] == "delete_records" and batches:
                    target = max(start, batches[int(op[1] * (len(batches) - 1))][0])
                    start = log.delete_records(target)
                    assert start == target
                elif op[0] in ("clean", "unclean"):
                    rp, ls = log.recovery_point, log.log_start_offset
                    if op[0] == "clean":
                        log.close()
                    else:
                        log.close_handles()
                    log = Log.open(
                        path,
                        config,
                        clock=MockClock(T0),
                        clean_shutdown=op[0] == "clean",
                        recovery_point=rp,
                        log_start_offset=ls,
                    )
                expected = [
                    o for b, c in batches for o in range(b, b + c) if b + c > start and o >= start
                ]
                got = [r[0] for r in read_all(log)]
                assert got == expected
                assert log.log_start_offset == start
                bounds = [b for b, _ in batches if b > start]
                if expected and bounds:  # a consumer's read stops before the high watermark
                    hw = bounds[len(bounds) // 2]
                    data = log.read(start, 1 << 20, max_offset=hw).to_bytes()
                    first = next(b + c - 1 for b, c in batches if b + c > start)
                    assert bool(data) == (first < hw)
                    assert whole_batches_size(data) == len(data)
                    headers = iter_headers(data)
                    assert all(start <= h.last_offset < hw for _, h in headers)
        finally:
            log.close()
