"""Shared helpers for the storage tests: valid v2 batches and a log factory."""

from __future__ import annotations

from pathlib import Path

from kcli.clock import MockClock
from kcli.protocol.batch import iter_headers
from kcli.protocol.records import Record, build_batch, iter_records
from kcli.storage.config import LogConfig
from kcli.storage.log import Log

T0 = 1_700_000_000_000


def batch(
    n: int = 1, *, ts: int = T0, value_size: int = 20, key: bytes = b"k", base_offset: int = 0
) -> bytearray:
    """A valid uncompressed batch of `n` records, timestamps ts, ts+1, ..."""
    records = [
        Record(key + b"%d" % i, bytes([65 + i % 26]) * value_size, timestamp=ts + i)
        for i in range(n)
    ]
    return bytearray(build_batch(records, base_offset))


def open_log(
    path: Path, clock: MockClock | None = None, clean: bool = True, **config: object
) -> Log:
    cfg = LogConfig(**config)  # type: ignore[arg-type]
    return Log.open(path, cfg, clock=clock or MockClock(T0), clean_shutdown=clean)


def read_all(
    log: Log, start: int | None = None
) -> list[tuple[int, bytes | None, bytes | None, int]]:
    """(offset, key, value, timestamp) of every record from `start`, via Log.read."""
    out: list[tuple[int, bytes | None, bytes | None, int]] = []
    offset = log.log_start_offset if start is None else start
    for _ in range(100_000):
        if offset >= log.log_end_offset:
            break
        data = log.read(offset, 1 << 20).to_bytes()
        if not data:
            break
        whole = data[: _whole_prefix(data)]
        out.extend(
            (rec.offset, rec.key, rec.value, rec.timestamp)
            for rec in iter_records(whole)
            if rec.offset >= offset
        )
        last = iter_headers(whole)[-1][1]
        offset = last.next_offset
    return out


def _whole_prefix(data: bytes) -> int:
    """Length of the prefix of `data` made of whole batches."""
    pos = 0
    while pos + 12 <= len(data):
        size = int.from_bytes(data[pos + 8 : pos + 12], "big") + 12
        if pos + size > len(data):
            break
        pos += size
    return pos
