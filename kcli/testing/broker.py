"""kcli brokers as real processes for tests, labs and benchmarks.

`KcliBroker` runs `kcli server-start` (through `kcli_argv`) on a free loopback port with its log
dir in a directory we own, waits for Kafka's ready line, and stops, kills or restarts that
process by its own PID. `cluster()` starts N of them against one ZooKeeper.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from kcli.testing.process import ManagedProcess, free_port, kcli_argv

READY_LINE = "started (kafka.server.KafkaServer)"


class KcliBroker:
    def __init__(
        self,
        workdir: Path,
        zookeeper_connect: str,
        broker_id: int = 0,
        *,
        port: int | None = None,
        overrides: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.zookeeper_connect = zookeeper_connect
        self.broker_id = broker_id
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log_dir = self.workdir / f"kafka-logs-{broker_id}"
        self.log_path = self.workdir / f"broker-{broker_id}.log"
        self.overrides = dict(overrides or {})
        self.env = {"KCLI_RUN_DIR": str(self.workdir / "run"), **(env or {})}
        self.process: ManagedProcess | None = None
        self._log_offset = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def properties(self) -> dict[str, str]:
        props = {
            "broker.id": str(self.broker_id),
            "listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "log.dirs": str(self.log_dir),
            "zookeeper.connect": self.zookeeper_connect,
            "zookeeper.connection.timeout.ms": "10000",
            "zookeeper.session.timeout.ms": "6000",
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # A retry of controlled shutdown after 1 s, not Kafka's 5 s, keeps stops short.
            "controlled.shutdown.retry.backoff.ms": "1000",
        }
        props.update(self.overrides)
        return props

    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"server-{self.broker_id}.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in self.properties().items()))
        return path

    def argv(self) -> list[str]:
        return kcli_argv("server-start", str(self.write_config()))

    def start(self, timeout: float = 30.0, wait: bool = True) -> KcliBroker:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.process = ManagedProcess(self.argv(), self.log_path, env=self.env).start()
        if wait:
            self.wait_ready(timeout)
        return self

    def new_log(self) -> str:
        """Output written since the latest start."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.new_log():
                return
            if self.process is not None and not self.process.alive():
                raise RuntimeError(f"kcli broker exited early:\n{self.new_log()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"kcli broker {self.broker_id} not ready in {timeout}s:\n"
                           f"{self.new_log()[-3000:]}")  # fmt: skip

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.process is not None and self.process.proc is not None
        return self.process.proc.wait(timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM (clean shutdown), SIGKILL after `timeout`.

        The timeout covers every controlled-shutdown attempt (3 x 5 s plus back-off) on a
        loaded machine: a SIGKILL here would leave /brokers/ids/N behind until the session
        expires, so a restart right after would be refused as a duplicate broker id.
        """
        return self.process.stop(timeout) if self.process is not None else None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout: float = 30.0) -> KcliBroker:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> KcliBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def cluster(
    workdir: Path,
    zookeeper_connect: str,
    size: int = 1,
    overrides: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[list[KcliBroker]]:
    """N brokers (ids 0..N-1) against one ZooKeeper; all stopped on exit, whatever happens."""
    brokers = [
        KcliBroker(Path(workdir), zookeeper_connect, broker_id=i, overrides=overrides)
        for i in range(size)
    ]
    try:
        for broker in brokers:  # start all, then wait: the JVM-free start-up overlaps
            broker.start(wait=False)
        for broker in brokers:
            broker.wait_ready(timeout)
        yield brokers
    finally:
        for broker in brokers:
            broker.stop()


def bootstrap_servers(brokers: list[KcliBroker]) -> str:
    return ",".join(b.bootstrap for b in brokers)


__all__ = ["KcliBroker", "bootstrap_servers", "cluster"]
