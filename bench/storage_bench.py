"""Storage throughput: `Log.append` vs plain file writes, `Log.read` + sendfile vs plain reads.

    python bench/storage_bench.py [--mib 256] [--batch-kib 16] [--rounds 3]

Append: the same 16 KiB record batch (v2, uncompressed) is appended through `Log.append`
(validation, CRC-32C, offset patching, indexing, one write each) and, as the peer, written with
one `write` per batch to a plain file in the same directory. Goal: >= 0.8x the plain file.

Read: the log is read back in 1 MiB fetches with `Log.read` and each region is sent with
`os.sendfile` into a socket pair (what the broker's Fetch path does), against reading the plain
file with `readinto` and `sendall` (the copying path), and raw `os.sendfile` of the plain file.
A thread drains the other end of the socket pair. Append figures are the median of `--rounds`
(default 5; the order of the two writers alternates), read figures the best.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kcli.clock import SYSTEM_CLOCK
from kcli.protocol.records import Record, build_batch
from kcli.storage.config import LogConfig
from kcli.storage.log import Log


def make_batch(batch_kib: int) -> bytearray:
    value_size = 1000
    overhead = 61
    count = max(1, (batch_kib * 1024 - overhead) // (value_size + 20))
    now = SYSTEM_CLOCK.time_ms()
    records = [Record(b"key-%06d" % i, os.urandom(value_size), timestamp=now) for i in range(count)]
    return bytearray(build_batch(records))


def best(rounds: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(rounds))


def _time_log(directory: Path, buf: bytearray, n: int) -> tuple[float, float]:
    log = Log.open(directory / "bench-0", LogConfig(), clock=SYSTEM_CLOCK)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        log.append(buf, 0)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    log.close()
    return elapsed, cpu


def _time_plain(directory: Path, buf: bytearray, n: int) -> tuple[float, float]:
    with open(directory / "plain.bin", "wb", buffering=0) as f:
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            f.write(buf)
        return time.perf_counter() - start, time.process_time() - cpu


def bench_append(
    directory: Path, buf: bytearray, n: int, log_first: bool
) -> tuple[tuple[float, float], tuple[float, float]]:
    """((wall, cpu) seconds for Log.append, (wall, cpu) for plain writes) of n batches; the
    order alternates between rounds so page-cache writeback pressure falls on both alike."""
    if log_first:
        log_t = _time_log(directory, buf, n)
        plain_t = _time_plain(directory, buf, n)
    else:
        plain_t = _time_plain(directory, buf, n)
        log_t = _time_log(directory, buf, n)
    return log_t, plain_t


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


class Drain:
    """Reads everything sent to one end of a socket pair, on a thread."""

    def __init__(self) -> None:
        self.send, self.recv = socket.socketpair()
        self.send.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.recv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.received = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buf = bytearray(1 << 20)
        while True:
            n = self.recv.recv_into(buf)
            if n == 0:
                return
            self.received += n

    def close(self) -> int:
        self.send.shutdown(socket.SHUT_WR)
        self._thread.join(timeout=60)
        self.send.close()
        self.recv.close()
        return self.received


def _sendfile_all(sock: socket.socket, fd: int, position: int, size: int) -> None:
    sent = 0
    while sent < size:
        sent += os.sendfile(sock.fileno(), fd, position + sent, size - sent)


def read_log_sendfile(log: Log, batch_size: int, records_per_batch: int, fetch: int) -> float:
    per_fetch = max(1, fetch // batch_size)
    drain = Drain()
    start = time.perf_counter()
    offset = 0
    while offset < log.log_end_offset:
        data = log.read(offset, per_fetch * batch_size)
        _sendfile_all(drain.send, data.fd, data.position, data.size)
        offset += (data.size // batch_size) * records_per_batch
    elapsed = time.perf_counter() - start
    drain.close()
    return elapsed


def read_plain_copy(path: Path, fetch: int) -> float:
    drain = Drain()
    buf = bytearray(fetch)
    view = memoryview(buf)
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            drain.send.sendall(view[:n])
    elapsed = time.perf_counter() - start
    drain.close()
    return elapsed


def read_plain_sendfile(path: Path, fetch: int) -> float:
    drain = Drain()
    size = path.stat().st_size
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        pos = 0
        while pos < size:
            chunk = min(fetch, size - pos)
            _sendfile_all(drain.send, f.fileno(), pos, chunk)
            pos += chunk
    elapsed = time.perf_counter() - start
    drain.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mib", type=int, default=256, help="data per round (default 256 MiB)")
    parser.add_argument("--batch-kib", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write (default: a temp dir)"
    )
    args = parser.parse_args()

    buf = make_batch(args.batch_kib)
    records = int.from_bytes(buf[57:61], "big")
    n = max(1, args.mib * 1024 * 1024 // len(buf))
    mib = n * len(buf) / (1024 * 1024)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        log_times: list[tuple[float, float]] = []
        plain_times: list[tuple[float, float]] = []
        for r in range(args.rounds):
            d = root / f"append-{r}"
            d.mkdir()
            log_t, plain_t = bench_append(d, buf, n, log_first=r % 2 == 1)
            log_times.append(log_t)
            plain_times.append(plain_t)
            if r < args.rounds - 1:
                for p in sorted(d.rglob("*"), reverse=True):
                    p.unlink() if p.is_file() else p.rmdir()
        log_s, plain_s = median([t[0] for t in log_times]), median([t[0] for t in plain_times])
        log_cpu, plain_cpu = median([t[1] for t in log_times]), median([t[1] for t in plain_times])
        print(
            f"append: {n} batches of {len(buf)} B ({records} records each), {mib:.0f} MiB per round"
        )
        print(f"  Log.append        {mib / log_s:9.1f} MB/s  ({n / log_s:,.0f} batches/s)")
        print(f"  plain file write  {mib / plain_s:9.1f} MB/s")
        print(f"  ratio log/plain   {plain_s / log_s:9.2f}x   (goal >= 0.8x)")
        print(
            f"  CPU per batch: Log.append {log_cpu / n * 1e6:.1f} us, plain write "
            f"{plain_cpu / n * 1e6:.1f} us (ratio {plain_cpu / log_cpu:.2f}x, steadier when busy)"
        )

        d = root / f"append-{args.rounds - 1}"
        log = Log.open(d / "bench-0", LogConfig(), clock=SYSTEM_CLOCK)
        plain = d / "plain.bin"
        fetch = 1 << 20
        t_log = best(args.rounds, lambda: read_log_sendfile(log, len(buf), records, fetch))
        t_copy = best(args.rounds, lambda: read_plain_copy(plain, fetch))
        t_raw = best(args.rounds, lambda: read_plain_sendfile(plain, fetch))
        log.close()
        print(f"read: {mib:.0f} MiB in 1 MiB fetches into a socket pair")
        print(f"  Log.read+sendfile {mib / t_log:9.1f} MB/s")
        print(f"  plain read+send   {mib / t_copy:9.1f} MB/s")
        print(f"  plain sendfile    {mib / t_raw:9.1f} MB/s")
        print(
            f"  ratio log/read+send {t_copy / t_log:7.2f}x   log/raw sendfile {t_raw / t_log:.2f}x"
        )


if __name__ == "__main__":
    main()
