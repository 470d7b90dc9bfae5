"""Pid files for the servers kcli starts, so the `*-stop` commands stop only those.

One JSON file per running server in the run directory (`$KCLI_RUN_DIR`, default
`<tmp>/kcli-<uid>`), under a sub-directory per kind (`broker`, `zookeeper`). A stop command
trusts a pid only while /proc shows the same process still running kcli, so a recycled pid
is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


def run_dir(kind: str) -> Path:
    base = os.environ.get("KCLI_RUN_DIR") or os.path.join(
        tempfile.gettempdir(), f"kcli-{os.getuid()}"
    )
    return Path(base) / kind


@dataclass(frozen=True, slots=True)
class PidFile:
    path: Path
    pid: int
    node_id: int | None
    config: str


def write(kind: str, node_id: int | None, config: str) -> Path:
    directory = run_dir(kind)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}.pid"
    path.write_text(json.dumps({"pid": os.getpid(), "node_id": node_id, "config": config}))
    return path


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_ours(pid: int, command: str) -> bool:
    """True while `pid` is a live kcli process running `command` (e.g. server-start)."""
    argv = _cmdline(pid)
    return command in argv and any("kcli" in part for part in argv)


def running(kind: str, command: str) -> list[PidFile]:
    """Live servers of this kind; stale pid files are removed on the way."""
    found: list[PidFile] = []
    directory = run_dir(kind)
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.pid")):
        try:
            data = json.loads(path.read_text())
            entry = PidFile(path, int(data["pid"]), data.get("node_id"), str(data.get("config")))
        except (OSError, ValueError, KeyError, TypeError):
            remove(path)
            continue
        if is_ours(entry.pid, command):
            found.append(entry)
        else:
            remove(path)
    return found
