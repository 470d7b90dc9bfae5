"""Replication cost, same run, same machine: RF 3 acks=all on three kcli brokers against RF 1
acks=1 on one kcli broker (the issue's goal: >= 0.5x), and acks=all produce latency on RF 3.

Starts the bundled ZooKeeper, a 3-broker cluster and a separate 1-broker cluster (own chroots,
temp dirs), then with confluent-kafka:

  throughput  N x 100 B records (default 200k), linger.ms 5, one fresh topic per run with
              3 partitions: RF 3 / min.insync.replicas 2 / acks=all vs RF 1 / acks=1. Time from
              the first send to the last delivery report.
  latency     1,000 msg/s for D seconds (+1 s warm-up), linger.ms 0, each record timed from its
              scheduled send to its delivery report: acks=all on RF 3, acks=1 on RF 1.

    python bench/replication_bench.py                  # 200k records, 10 s latency (~1-2 min)
    python bench/replication_bench.py --count 50000 --seconds 3 --runs 1

Numbers are printed, never asserted; on a shared 2-core machine take the median of a few runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import bootstrap_servers, cluster
from kcli.testing.zookeeper import EmbeddedZooKeeper

VALUE = b"x" * 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=200_000, help="records per throughput run")
    p.add_argument("--runs", type=int, default=3, help="throughput runs per setup (median)")
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--rate", type=int, default=1000, help="latency: records per second")
    p.add_argument("--seconds", type=float, default=10.0, help="latency: measured seconds")
    return p.parse_args(argv)


@contextmanager
def brokers(zk: EmbeddedZooKeeper, workdir: Path, chroot: str, size: int) -> Iterator[str]:
    outside = KazooClient(hosts=zk.connect_string, timeout=10.0)
    outside.start(timeout=15)
    try:
        outside.ensure_path(chroot)
    finally:
        outside.stop()
        outside.close()
    overrides = {"log.flush.interval.messages": "9223372036854775807"}
    with cluster(workdir, zk.connect_string + chroot, size, overrides) as started:
        yield bootstrap_servers(started)


def create(bootstrap: str, name: str, partitions: int, rf: int) -> None:
    client = AdminClient({"bootstrap.servers": bootstrap})
    config = {"min.insync.replicas": "2"} if rf >= 3 else {}
    topic = NewTopic(name, partitions, rf, config=config)
    client.create_topics([topic], request_timeout=30)[name].result()
    producer = Producer({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # leaders known to the client before timing starts
        md = producer.list_topics(name, timeout=5).topics.get(name)
        if (
            md is not None
            and md.error is None
            and len(md.partitions) == partitions
            and all(p.leader >= 0 for p in md.partitions.values())
        ):
            break
        time.sleep(0.1)
    else:
        raise TimeoutError(f"no leaders for {name}")
    # One acknowledged record per partition first: followers have started fetching (a new
    # leader's high watermark waits for every ISR member's first fetch).
    warm = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for p in range(partitions):
        warm.produce(name, VALUE, partition=p)
    if warm.flush(30) != 0:
        raise TimeoutError(f"warm-up records for {name} not acknowledged")


def throughput(bootstrap: str, topic: str, count: int, acks: str) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5,
                         "queue.buffering.max.messages": 1_000_000,
                         "queue.buffering.max.kbytes": 1_048_576})  # fmt: skip
    failed = 0

    def report(err: KafkaError | None, _msg: Any) -> None:
        nonlocal failed
        if err is not None:
            failed += 1

    start = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, VALUE, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError("records left unsent")
    elapsed = time.perf_counter() - start
    if failed:
        raise RuntimeError(f"{failed} records failed")
    return count / elapsed


def latency(bootstrap: str, topic: str, acks: str, rate: int, seconds: float) -> list[float]:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 0})
    samples: list[float] = []
    warmup = int(rate)
    total = warmup + int(rate * seconds)
    start = time.perf_counter()

    def report_for(i: int, scheduled: float) -> Any:
        def report(err: KafkaError | None, _msg: Any) -> None:
            if err is None and i >= warmup:
                samples.append((time.perf_counter() - scheduled) * 1000)

        return report

    for i in range(total):
        scheduled = start + i / rate
        while (now := time.perf_counter()) < scheduled:
            producer.poll(min(scheduled - now, 0.001))
        producer.produce(topic, VALUE, on_delivery=report_for(i, scheduled))
        producer.poll(0)
    producer.flush(60)
    return sorted(samples)


def pct(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kcli-replication-bench-"))
    zk = EmbeddedZooKeeper(workdir / "zk")
    zk.start()
    try:
        with (
            brokers(zk, workdir / "rf3", "/rf3", 3) as three,
            brokers(zk, workdir / "rf1", "/rf1", 1) as one,
        ):
            rates: dict[str, list[float]] = {"rf3": [], "rf1": []}
            for run in range(a.runs):  # interleaved, so machine noise hits both alike
                for key, bootstrap, rf, acks in (("rf3", three, 3, "all"), ("rf1", one, 1, "1")):
                    topic = f"tp-{key}-{run}"
                    create(bootstrap, topic, a.partitions, rf)
                    rates[key].append(throughput(bootstrap, topic, a.count, acks))
                    print(f"  run {run + 1} {key}: {rates[key][-1]:,.0f} records/s", flush=True)
            create(three, "lat-rf3", a.partitions, 3)
            create(one, "lat-rf1", a.partitions, 1)
            lat3 = latency(three, "lat-rf3", "all", a.rate, a.seconds)
            lat1 = latency(one, "lat-rf1", "1", a.rate, a.seconds)
    finally:
        zk.stop()
    rf3, rf1 = statistics.median(rates["rf3"]), statistics.median(rates["rf1"])
    print()
    print(f"throughput ({a.count:,} x 100 B, linger 5, {a.partitions} partitions, median of "
          f"{a.runs})")  # fmt: skip
    print(f"  RF 3 acks=all (3 brokers)  {rf3:12,.0f} records/s  {rf3 * 100 / 1e6:6.1f} MB/s")
    print(f"  RF 1 acks=1   (1 broker)   {rf1:12,.0f} records/s  {rf1 * 100 / 1e6:6.1f} MB/s")
    print(f"  ratio RF3/RF1              {rf3 / rf1:12.2f}x   (goal >= 0.5x)")
    print(f"latency ({a.rate} msg/s for {a.seconds:g} s, linger 0, send -> delivery report, ms)")
    for name, s in (("RF 3 acks=all", lat3), ("RF 1 acks=1  ", lat1)):
        print(f"  {name}  p50 {pct(s, 0.5):7.2f}  p99 {pct(s, 0.99):7.2f}  "
              f"max {pct(s, 1.0):7.2f}  n={len(s)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
