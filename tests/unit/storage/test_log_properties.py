"""Property tests: random appends of random batches round-trip through read, across segment
rolls and clean and unclean restarts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kcli.clock import MockClock
from kcli.protocol.batch import Compression, parse_header
from kcli.protocol.records import Record, build_batch
from kcli.storage.config import LogConfig
from kcli.storage.log import Log

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
