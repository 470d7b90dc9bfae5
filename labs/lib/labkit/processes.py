"""Processes and ports for labkit: what a lab starts, and how it knows a port is free."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kcli.testing.process import free_port, port_open, wait_until

__all__ = ["Background", "LabFailed", "Port", "Refused", "free_port", "port_in_use", "wait_for"]


@dataclass(frozen=True)
class Port:
    env: str  # environment variable the scripts read (ZK_PORT)
    default: int


class LabFailed(Exception):
    """A check failed; the message says what was expected."""


class Refused(Exception):
    """The lab cannot start (a port is taken); the message says why and what to do."""


def port_in_use(port: int) -> bool:
    """True if something listens on `port`, on loopback or on any address."""
    if port_open("127.0.0.1", port):
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bind:
        bind.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            bind.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """kcli.testing's wait_until, failing the lab's step instead of raising TimeoutError."""
    try:
        wait_until(predicate, timeout, interval=0.1, what=what)
    except TimeoutError as exc:
        raise LabFailed(str(exc)) from None


@dataclass
class Background:
    """A process the lab started and will stop: a server, or a shell fed from the lab."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    stdin: IO[bytes] | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def send_line(self, line: str) -> None:
        assert self.stdin is not None, f"{self.name} was not started with stdin=True"
        self.stdin.write(line.encode() + b"\n")
        self.stdin.flush()

    def close_stdin(self, timeout: float = 15.0) -> int:
        """End of input, as Ctrl-D: the process finishes on its own."""
        if self.stdin is not None and not self.stdin.closed:
            self.stdin.close()
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM (what Ctrl-C in its own terminal amounts to), SIGKILL if it lingers."""
        if self.stdin is not None and not self.stdin.closed:
            self.stdin.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode
