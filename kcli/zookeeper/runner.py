"""Running the server as a process: foreground run with signal handling, `-daemon` start,
pid files and `zookeeper-stop`.

Pid files live in one run directory (`$KCLI_RUN_DIR`, default `/tmp/kcli-<uid>`), one per
server, named `zookeeper-<clientPort>.pid`, so `zookeeper-stop` finds the servers kcli started;
a pid is signalled only if /proc shows it is still a kcli zookeeper-start process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kcli.errors import TerseError
from kcli.zookeeper.config import ZooKeeperConfig
from kcli.zookeeper.jute import JuteError

log = logging.getLogger("org.apache.zookeeper.server.ZooKeeperServerMain")

LOG_FORMAT = "[%(asctime)s] %(levelname)s %(message)s (%(name)s)"


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=LOG_FORMAT, stream=sys.stdout
    )


def run_dir() -> Path:
    return Path(os.environ.get("KCLI_RUN_DIR") or f"/tmp/kcli-{os.getuid()}")


def pid_file_for(port: int) -> Path:
    return run_dir() / f"zookeeper-{port}.pid"


def run(config: ZooKeeperConfig) -> int:
    """Serve in the foreground until SIGTERM/SIGINT; returns the exit status."""
    from kcli.zookeeper.server import ZooKeeperServer

    server = ZooKeeperServer(config)
    try:
        server.load()
    except JuteError as exc:
        raise TerseError(f"cannot load ZooKeeper data from {config.data_dir}: {exc}") from None
    except OSError as exc:
        raise TerseError(f"cannot use ZooKeeper data dir {config.data_dir}: {exc}") from None
    return asyncio.run(_serve(server))


async def _serve(server: object) -> int:
    from kcli.zookeeper.server import ZooKeeperServer

    assert isinstance(server, ZooKeeperServer)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    pid_file: Path | None = None
    try:
        await server.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        pid_file = _write_pid_file(server.port)
        stopping = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(server.stopped.wait())
        await asyncio.wait({stopping, failed}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        failed.cancel()
        if stop.is_set():
            log.info("Received shutdown signal, shutting down")
    finally:
        await server.stop()
        if pid_file is not None:
            with contextlib.suppress(OSError):
                if pid_file.read_text().strip() == str(os.getpid()):
                    pid_file.unlink()
    return 1 if server.failed else 0


def _write_pid_file(port: int) -> Path | None:
    path = pid_file_for(port)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(f"{os.getpid()}\n")
        tmp.replace(path)
    except OSError as exc:
        log.warning("Cannot write pid file %s: %s", path, exc)
        return None
    return path


def is_kcli_zookeeper(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"zookeeper-start" in argv and any(b"kcli" in a for a in argv)


def start_daemon(argv: list[str], port: int, log_dir: Path, timeout: float = 15.0) -> int:
    """Start `argv` (a foreground zookeeper-start) detached, output in
    `log_dir/zookeeper.out`; wait until it serves (its pid file appears)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out = log_dir / "zookeeper.out"
    pid_file = pid_file_for(port)
    with open(out, "ab") as f:
        proc = subprocess.Popen(
            argv,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            lines = [ln for ln in out.read_text(errors="replace").splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit status {code}"
            raise TerseError(f"ZooKeeper did not start: {last.removeprefix('Error: ')}")
        with contextlib.suppress(OSError, ValueError):
            if int(pid_file.read_text().strip()) == proc.pid:
                return proc.pid
        time.sleep(0.05)
    raise TerseError(f"ZooKeeper did not start within {timeout:.0f}s; see {out}")


def stop_servers(port: int | None, timeout: float = 30.0) -> list[int]:
    """SIGTERM the kcli ZooKeeper(s) recorded in pid files (one port, or all); wait for them
    to exit. Returns the pids stopped."""
    files = [pid_file_for(port)] if port is not None else sorted(run_dir().glob("zookeeper-*.pid"))
    pids: list[int] = []
    for path in files:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if not is_kcli_zookeeper(pid):
            with contextlib.suppress(OSError):
                path.unlink()  # stale: the process is gone or is something else now
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            pids.append(pid)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while is_kcli_zookeeper(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    return pids
