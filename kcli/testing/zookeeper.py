"""The bundled ZooKeeper as a real process for tests, labs and benchmarks.

    with EmbeddedZooKeeper(tmp_path) as zk:
        client = KazooClient(hosts=zk.connect_string)

Each instance gets a free loopback port and its own dataDir under `workdir` (a temp dir, removed
when the `with` block ends, if none is given); `stop()` is a clean SIGTERM shutdown, `kill()` a
SIGKILL, `restart()` starts again on the same port and data.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import time
from pathlib import Path

from kcli.testing.process import ManagedProcess, free_port, kcli_argv

HOST = "127.0.0.1"


def four_letter_word(host: str, port: int, word: str, timeout: float = 5.0) -> str:
    """Send a four-letter word (ruok, srvr, stat, mntr, conf) and read the whole answer."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks: list[bytes] = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


class EmbeddedZooKeeper:
    def __init__(
        self,
        workdir: Path | None = None,
        port: int | None = None,
        properties: dict[str, str] | None = None,
        start_timeout: float = 20.0,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="kcli-zookeeper-"))
        self.port = port or free_port(HOST)
        self.data_dir = self.workdir / "zookeeper-data"
        self.properties_file = self.workdir / "zookeeper.properties"
        self.properties = {
            "dataDir": str(self.data_dir),
            "clientPort": str(self.port),
            "clientPortAddress": HOST,
            "maxClientCnxns": "0",
            "tickTime": "2000",
            **(properties or {}),
        }
        self.start_timeout = start_timeout
        self.log_path = self.workdir / "zookeeper.log"
        self.process: ManagedProcess | None = None

    @property
    def host(self) -> str:
        return HOST

    @property
    def connect_string(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> EmbeddedZooKeeper:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text("".join(f"{k}={v}\n" for k, v in self.properties.items()))
        self.process = ManagedProcess(
            kcli_argv("zookeeper-start", str(self.properties_file)),
            self.log_path,
            cwd=self.workdir,
            env={"KCLI_RUN_DIR": str(self.workdir / "run"), "LOG_DIR": str(self.workdir)},
        ).start()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if not self.process.alive():
                raise RuntimeError(
                    f"kcli zookeeper-start exited early; log {self.log_path}:\n"
                    + self.process.log()[-3000:]
                )
            if self.ruok():
                return
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"ZooKeeper on {self.connect_string} did not answer ruok")

    def ruok(self) -> bool:
        """True once the server answers (`imok`, or a refusal if a whitelist omits ruok)."""
        with contextlib.suppress(OSError):
            answer = four_letter_word(HOST, self.port, "ruok", timeout=1.0)
            return answer == "imok" or answer.startswith("ruok is not executed")
        return False

    def four_letter_word(self, word: str) -> str:
        return four_letter_word(HOST, self.port, word)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def log(self) -> str:
        return self.process.log() if self.process is not None else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """Clean shutdown (SIGTERM); returns the exit status."""
        if self.process is None:
            return None
        return self.process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything."""
        if self.process is not None:
            self.process.kill()

    def restart(self, clean: bool = True) -> EmbeddedZooKeeper:
        if clean:
            self.stop()
        else:
            self.kill()
        return self.start()

    def __enter__(self) -> EmbeddedZooKeeper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
