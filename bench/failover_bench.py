"""Failover time: how long after a broker is stopped (SIGTERM, controlled shutdown) or killed
(SIGKILL, found out by the ZooKeeper session timeout) every partition it led has a new leader.

Starts the bundled ZooKeeper and three kcli brokers (zookeeper.session.timeout.ms 6000), creates
a 13-partition RF 3 topic (min.insync.replicas 2) and keeps an acks=all producer sending ~200
records/s. Each run takes the broker that leads partition 0, stops or kills it, and times:

  znode   until no state znode of the topic names it as leader (the controller's decision)
  client  until a Metadata request to a surviving broker shows no partition led by it
          (what a client sees; UpdateMetadata has reached the brokers)

then restarts it and waits until every ISR is whole again. Goals (issue 5): SIGTERM <= 2 s,
SIGKILL <= session timeout + 2 s.

    python bench/failover_bench.py               # 3 runs of each (~1.5 min)
    python bench/failover_bench.py --runs 1

Numbers are printed, never asserted; on a shared 2-core machine take the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.testing.broker import KcliBroker, bootstrap_servers, cluster
from kcli.testing.zookeeper import EmbeddedZooKeeper

TOPIC = "failover"
PARTITIONS = 13
SESSION_MS = 6000
OVERRIDES = {
    "zookeeper.session.timeout.ms": str(SESSION_MS),
    "min.insync.replicas": "2",
    "auto.leader.rebalance.enable": "false",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs of each kind (median)")
    p.add_argument("--rate", type=int, default=200, help="background records per second")
    return p.parse_args(argv)


class Load(threading.Thread):
    def __init__(self, bootstrap: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                  "linger.ms": 5, "message.timeout.ms": 60000})  # fmt: skip
        self.rate = rate
        self.stopping = threading.Event()
        self.errors = 0

    def _report(self, err: object, _msg: object) -> None:
        if err is not None:
            self.errors += 1

    def run(self) -> None:
        sent, started = 0, time.monotonic()
        while not self.stopping.is_set():
            while sent < int((time.monotonic() - started) * self.rate):
                self.producer.produce(TOPIC, b"x" * 100, on_delivery=self._report)
                sent += 1
            self.producer.poll(0.01)
        self.producer.flush(60)


def leaders(kazoo: KazooClient) -> list[int]:
    return [
        int(json.loads(kazoo.get(f"/brokers/topics/{TOPIC}/partitions/{p}/state")[0])["leader"])
        for p in range(PARTITIONS)
    ]


def full_isrs(kazoo: KazooClient) -> bool:
    states = [json.loads(kazoo.get(f"/brokers/topics/{TOPIC}/partitions/{p}/state")[0])
              for p in range(PARTITIONS)]  # fmt: skip
    return all(len(s["isr"]) == 3 for s in states)


def client_leaders(admin: AdminClient) -> list[int]:
    meta = admin.list_topics(TOPIC, timeout=5).topics[TOPIC]
    return [p.leader for p in meta.partitions.values()]


def wait(predicate: object, timeout: float, step: float = 0.01) -> float:
    """Seconds until predicate() is true (bounded)."""
    started = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"not done in {timeout}s")
        time.sleep(step)
    return time.monotonic() - started


def one_run(brokers: list[KcliBroker], kazoo: KazooClient, hard: bool) -> tuple[float, float]:
    victim = brokers[leaders(kazoo)[0]]
    others = [b for b in brokers if b is not victim]
    admin = AdminClient({"bootstrap.servers": bootstrap_servers(others)})
    client_leaders(admin)  # connected before the clock starts
    started = time.monotonic()
    if hard:
        victim.kill()
    else:
        victim.process.proc.send_signal(15)  # type: ignore[union-attr]
    limit = SESSION_MS / 1000 + 20
    znode = wait(lambda: victim.broker_id not in leaders(kazoo), limit)
    wait(lambda: victim.broker_id not in client_leaders(admin), limit, 0.02)
    znode_s = znode
    client_s = time.monotonic() - started
    victim.wait_exit(30)
    wait(lambda: kazoo.exists(f"/brokers/ids/{victim.broker_id}") is None, 20, 0.05)
    victim.start()
    wait(lambda: full_isrs(kazoo), 60, 0.1)
    return znode_s, max(client_s, znode_s)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedZooKeeper(Path(tmp) / "zk") as zk:
        connect = f"{zk.connect_string}/failover-bench"
        with cluster(Path(tmp), connect, 3, overrides=OVERRIDES) as brokers:
            kazoo = KazooClient(hosts=connect, timeout=10.0)
            kazoo.start(timeout=15)
            admin = AdminClient({"bootstrap.servers": bootstrap_servers(brokers)})
            admin.create_topics([NewTopic(TOPIC, PARTITIONS, 3)])[TOPIC].result(30)
            wait(lambda: full_isrs(kazoo), 30, 0.1)
            load = Load(bootstrap_servers(brokers), args.rate)
            load.start()
            results: dict[str, list[tuple[float, float]]] = {"SIGTERM": [], "SIGKILL": []}
            try:
                for _ in range(args.runs):
                    for kind in ("SIGTERM", "SIGKILL"):
                        results[kind].append(one_run(brokers, kazoo, kind == "SIGKILL"))
                        print(f"  {kind}: znode {results[kind][-1][0]:.2f}s, "
                              f"client {results[kind][-1][1]:.2f}s", flush=True)  # fmt: skip
            finally:
                load.stopping.set()
                load.join(70)
                kazoo.stop()
                kazoo.close()
    goals = {"SIGTERM": 2.0, "SIGKILL": SESSION_MS / 1000 + 2}
    print(f"\nfailover of a 13-partition RF 3 topic, {args.rate} msg/s acks=all background "
          f"load, session timeout {SESSION_MS / 1000:g}s, {args.runs} run(s) each "
          "(median / max):")  # fmt: skip
    for kind, runs in results.items():
        znode = [r[0] for r in runs]
        client = [r[1] for r in runs]
        print(f"  {kind:8} new leaders in ZooKeeper {statistics.median(znode):5.2f} / "
              f"{max(znode):5.2f} s; seen by clients {statistics.median(client):5.2f} / "
              f"{max(client):5.2f} s; goal <= {goals[kind]:g} s "
              f"({'met' if max(client) <= goals[kind] else 'MISSED'})")  # fmt: skip
    print(f"  producer delivery failures during the runs: {load.errors}")


if __name__ == "__main__":
    main()
