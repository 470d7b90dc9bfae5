"""End-to-end latency of kcli's broker, acks=all, single broker (RF 1) and three brokers (RF 3).

Starts the bundled ZooKeeper, a 1-broker cluster and a 3-broker cluster (own chroots, temp
dirs, real segment files), then for each setup and each fetch.wait.max.ms runs
`bench/kafka_clients.py latency`: a confluent-kafka producer sends `--rate` records/s for
`--seconds` (+1 s warm-up discarded), acks=all, linger 0, into a fresh 1-partition topic; a
consumer in *another process*, assigned at the end offsets, times every record from its
*scheduled* send time (CLOCK_MONOTONIC), so a stall counts instead of hiding (no coordinated
omission). RF 3 topics have min.insync.replicas 2. Goal (spec/targets.md): p50 <= 5 ms,
p99 <= 25 ms.

    python bench/latency_bench.py                       # 1,000 msg/s x 10 s, fetch wait 500/100
    python bench/latency_bench.py --seconds 3 --setups rf3 --fetch-waits 100

Numbers are printed (and appended to --json FILE), never asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replication_bench import brokers, create

from kcli.testing.zookeeper import EmbeddedZooKeeper

CLIENTS = Path(__file__).resolve().parent / "kafka_clients.py"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=1000, help="records per second")
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds")
    p.add_argument("--fetch-waits", default="500,100", help="consumer fetch.wait.max.ms values")
    p.add_argument("--setups", default="rf1,rf3", help="rf1 (1 broker), rf3 (3 brokers)")
    p.add_argument("--json", type=Path, help="append raw results to this file")
    return p.parse_args(argv)


def run_latency(bootstrap: str, topic: str, rate: int, seconds: float, fetch_wait: int) -> Any:
    argv = [
        sys.executable, str(CLIENTS), "latency", "--bootstrap", bootstrap, "--topic", topic,
        "--rate", str(rate), "--duration", str(seconds), "--fetch-wait", str(fetch_wait),
    ]  # fmt: skip
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=seconds + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"latency client failed: {done.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def fmt(summary: dict[str, Any]) -> str:
    def ms(key: str) -> str:
        value = summary.get(key + "_ms")
        return f"{value:8.2f}" if isinstance(value, (int, float)) else "       -"

    return f"p50 {ms('p50')}  p99 {ms('p99')}  p99.9 {ms('p999')}  max {ms('max')}"


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    waits = [int(w) for w in a.fetch_waits.split(",") if w]
    setups = [s for s in a.setups.split(",") if s]
    workdir = Path(tempfile.mkdtemp(prefix="kcli-latency-bench-"))
    zk = EmbeddedZooKeeper(workdir / "zk")
    zk.start()
    rows: list[tuple[str, int, Any]] = []
    try:
        for setup in setups:
            size = 3 if setup == "rf3" else 1
            with brokers(zk, workdir / setup, "/" + setup, size) as bootstrap:
                for wait in waits:
                    topic = f"lat-{setup}-{wait}"
                    create(bootstrap, topic, 1, size)
                    result = run_latency(bootstrap, topic, a.rate, a.seconds, wait)
                    result["setup"] = setup
                    rows.append((setup, wait, result))
                    print(f"  {setup} fetch.wait.max.ms {wait}: e2e {fmt(result['e2e'])}",
                          flush=True)  # fmt: skip
                    if a.json is not None:
                        with a.json.open("a") as f:
                            f.write(json.dumps(result) + "\n")
    finally:
        zk.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"end-to-end latency, ms ({a.rate} msg/s for {a.seconds:g} s, acks=all, linger 0, "
          "1 partition; goal p50 <= 5, p99 <= 25)")  # fmt: skip
    for setup, wait, r in rows:
        label = "1 broker RF 1 " if setup == "rf1" else "3 brokers RF 3"
        lost = r.get("sent", 0) - r.get("received", 0)
        print(f"  {label} wait {wait:4d}  e2e {fmt(r['e2e'])}   ack {fmt(r['ack'])}"
              f"   lost {lost} errors {r.get('errors', 0)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
