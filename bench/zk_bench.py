"""Time ZooKeeper create/get/set/delete with one kazoo client: kcli's server vs Apache ZooKeeper.

Both servers are started in this run, on loopback, with their data on the same file system and
durability on: Apache ZooKeeper with `forceSync=yes` (its default: fsync the transaction log
before acknowledging), kcli's with its transaction log fsynced before acknowledging (its only
mode). Each operation runs `--ops` times on one client, one request at a time by default
(latency-bound, what a single kazoo user sees) or with `--inflight N` requests outstanding
(throughput, where group commit of fsyncs helps). Each phase stops early at `--max-seconds`.
Rounds alternate between the servers; the best of `--rounds` is kept per server and operation.

    python bench/zk_bench.py                      # both servers, defaults
    python bench/zk_bench.py --ops 500 --rounds 1 # quick
    python bench/zk_bench.py --inflight 32        # pipelined requests
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kazoo.client import KazooClient

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.zookeeper import EmbeddedZooKeeper

OPS = ("create", "get", "set", "delete")
logging.getLogger("kazoo").setLevel(logging.CRITICAL)


def start_embedded(workdir: Path) -> tuple[Any, str]:
    server = EmbeddedZooKeeper(workdir).start()
    return server, "transaction log fsynced before each acknowledgement (group commit)"


def start_apache(workdir: Path) -> tuple[Any, str]:
    server = ApacheZooKeeper(workdir, force_sync=True).start()
    return server, "forceSync=yes: transaction log fsynced before each acknowledgement"


def run_phase(
    client: KazooClient, op: str, paths: list[str], args: argparse.Namespace
) -> tuple[int, float]:
    """Run `op` over `paths`; returns (operations done, seconds)."""
    value = b"v" * args.value_size
    calls: dict[str, Callable[[str], Any]] = {
        "create": lambda p: client.create_async(p, value),
        "get": client.get_async,
        "set": lambda p: client.set_async(p, value),
        "delete": client.delete_async,
    }
    call = calls[op]
    inflight = args.inflight
    deadline = time.perf_counter() + args.max_seconds
    started = time.perf_counter()
    done = 0
    window: list[Any] = []
    for path in paths:
        window.append(call(path))
        if len(window) >= inflight:
            window.pop(0).get(timeout=30)
            done += 1
            if time.perf_counter() > deadline:
                break
    for pending in window:
        pending.get(timeout=30)
        done += 1
    return done, time.perf_counter() - started


def bench_round(client: KazooClient, round_no: int, args: argparse.Namespace) -> dict[str, float]:
    """ops/s of each operation in one round on a fresh subtree."""
    base = f"/bench/r{round_no}"
    client.ensure_path(base)
    paths = [f"{base}/n{i:07d}" for i in range(args.ops)]
    created = paths
    rates: dict[str, float] = {}
    for op in OPS:
        # get/set/delete only touch nodes the create phase really made.
        todo = paths if op == "create" else created
        done, seconds = run_phase(client, op, todo, args)
        if op == "create":
            created = paths[:done]
        rates[op] = done / seconds if seconds > 0 else 0.0
    client.delete(base, recursive=True)
    return rates


def warm_up(connect: str) -> None:
    """A few hundred requests so the JVM's JIT and Python's caches are not timed."""
    client = KazooClient(hosts=connect, timeout=30.0)
    client.start(timeout=30)
    try:
        client.ensure_path("/warmup")
        for i in range(300):
            client.create(f"/warmup/n{i}", b"x")
            client.get(f"/warmup/n{i}")
        client.delete("/warmup", recursive=True)
    finally:
        client.stop()
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000, help="operations per phase (2000)")
    parser.add_argument("--max-seconds", type=float, default=15.0, help="cap per phase (15)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; the best is kept (2)")
    parser.add_argument("--inflight", type=int, default=1, help="requests outstanding (1)")
    parser.add_argument("--value-size", type=int, default=100, help="bytes per znode (100)")
    parser.add_argument("--dir", type=Path, default=None, help="where data dirs go (a temp dir)")
    args = parser.parse_args(argv)
    args.ops = max(1, min(args.ops, 100_000))
    args.inflight = max(1, min(args.inflight, 1000))
    args.rounds = max(1, min(args.rounds, 10))

    reason = unavailable_reason()
    if reason:
        print(f"cannot run Apache ZooKeeper: {reason}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="zk-bench-", dir=args.dir))
    servers: dict[str, Any] = {}
    clients: dict[str, KazooClient] = {}
    notes: dict[str, str] = {}
    best = {name: dict.fromkeys(OPS, 0.0) for name in ("kcli", "apache")}
    try:
        servers["apache"], notes["apache"] = start_apache(workdir / "apache")
        servers["kcli"], notes["kcli"] = start_embedded(workdir / "kcli")
        for name, server in servers.items():
            warm_up(server.connect_string)
            clients[name] = KazooClient(hosts=server.connect_string, timeout=30.0)
            clients[name].start(timeout=30)
        # Rounds alternate between the servers (and which goes first), so a burst of load
        # from elsewhere on the machine does not land on one server only.
        for round_no in range(args.rounds):
            order = ["kcli", "apache"] if round_no % 2 == 0 else ["apache", "kcli"]
            for name in order:
                rates = bench_round(clients[name], round_no, args)
                for op, rate in rates.items():
                    best[name][op] = max(best[name][op], rate)
    finally:
        for client in clients.values():
            client.stop()
            client.close()
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"ZooKeeper ops/s, one kazoo client, {args.ops} ops per phase, "
        f"{args.inflight} in flight, {args.value_size}-byte values, best of {args.rounds}"
    )
    print(f"data dirs under {workdir.parent} (same file system for both)")
    for name, note in notes.items():
        print(f"  durability {name}: {note}")
    print(f"{'op':<8}{'kcli':>12}{'apache':>12}{'kcli/apache':>14}")
    for op in OPS:
        ours, theirs = best["kcli"][op], best["apache"][op]
        print(f"{op:<8}{ours:>12.0f}{theirs:>12.0f}{ours / theirs:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
