"""A real Apache ZooKeeper (Debian's `zookeeper` package) for compatibility tests and benchmarks.

Runs `org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg` on a free loopback port with its
data in a directory we own, as a `ManagedProcess` (stopped and killed by its own PID only).
Readiness is checked by opening a real client session, because the four-letter words are off
by default in ZooKeeper 3.5+. The AdminServer (Jetty on port 8080) is disabled so that parallel
runs never collide. Durability is ZooKeeper's default: `forceSync=yes`, one fsync per commit
of the transaction log (group commit batches concurrent writes).

Locations can be overridden with `KCLI_ZOOKEEPER_JAR` (the server jar; its manifest names the
other jars) and `KCLI_ZKCLI` (the zkCli.sh script).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from kcli.testing.process import ManagedProcess, free_port, port_open

DEBIAN_JAR = Path("/usr/share/java/zookeeper.jar")
DEBIAN_ZKCLI = Path("/usr/share/zookeeper/bin/zkCli.sh")
# kazoo warns on every refused attempt while the JVM starts; those are expected here.
_PROBE_LOG = logging.getLogger("kcli.testing.apache_zookeeper.probe")
_PROBE_LOG.setLevel(logging.CRITICAL)


def java_path() -> str | None:
    return shutil.which("java")


def zookeeper_jar() -> Path | None:
    candidate = Path(os.environ.get("KCLI_ZOOKEEPER_JAR", str(DEBIAN_JAR)))
    return candidate if candidate.is_file() else None


def zkcli_path() -> str | None:
    """ZooKeeper's own zkCli.sh, or None if it (or the Java it needs) is missing."""
    candidate = Path(os.environ.get("KCLI_ZKCLI", str(DEBIAN_ZKCLI)))
    if not candidate.is_file() or java_path() is None:
        return None
    return str(candidate)


def unavailable_reason() -> str | None:
    """Why a real Apache ZooKeeper cannot run here (for pytest.skip), or None if it can."""
    if java_path() is None:
        return "java is not installed (Debian: apt-get install zookeeper)"
    if zookeeper_jar() is None:
        return f"Apache ZooKeeper jar not found at {DEBIAN_JAR} (Debian: apt-get install zookeeper)"
    return None


class ApacheZooKeeper:
    """One standalone Apache ZooKeeper server in `workdir`; `connect_string` once started."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        tick_time: int = 2000,
        force_sync: bool = True,
        heap: str = "256m",
    ) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise RuntimeError(reason)
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.tick_time = tick_time
        self.force_sync = force_sync
        self.heap = heap
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "zoo.cfg"
        self.process: ManagedProcess | None = None

    @property
    def connect_string(self) -> str:
        return f"{self.host}:{self.port}"

    def write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"dataDir={self.data_dir}",
            f"clientPort={self.port}",
            f"clientPortAddress={self.host}",
            f"tickTime={self.tick_time}",
            "maxClientCnxns=0",
            f"forceSync={'yes' if self.force_sync else 'no'}",
            "admin.enableServer=false",
            "4lw.commands.whitelist=ruok,stat,srvr,mntr,conf",
            "autopurge.purgeInterval=0",
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
        return self.config_path

    def argv(self) -> list[str]:
        jar = zookeeper_jar()
        java = java_path()
        assert jar is not None and java is not None
        return [
            java,
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-Dzookeeper.admin.enableServer=false",
            "-Dzookeeper.jmx.log4j.disable=true",
            "-cp",
            str(jar),
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            str(self.write_config()),
        ]

    def start(self, timeout: float = 60.0) -> ApacheZooKeeper:
        if port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        self.process = ManagedProcess(self.argv(), self.workdir / "zookeeper.log").start()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        """Until a client session can be opened (the JVM takes a moment to start)."""
        from kazoo.client import KazooClient

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and not self.process.alive():
                raise RuntimeError(f"Apache ZooKeeper exited early:\n{self.process.log()[-2000:]}")
            if port_open(self.host, self.port):
                client = KazooClient(hosts=self.connect_string, timeout=10.0, logger=_PROBE_LOG)
                try:
                    client.start(timeout=max(1.0, min(5.0, deadline - time.monotonic())))
                    return
                except Exception:  # noqa: BLE001 - not ready yet, any failure means retry
                    pass
                finally:
                    client.stop()
                    client.close()
            time.sleep(0.1)
        raise TimeoutError(f"Apache ZooKeeper on {self.connect_string} not ready in {timeout}s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def restart(self, timeout: float = 60.0) -> ApacheZooKeeper:
        self.stop()
        return self.start(timeout)

    def __enter__(self) -> ApacheZooKeeper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
