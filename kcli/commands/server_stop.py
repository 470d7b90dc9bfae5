"""`kcli server-stop`: kafka-server-stop.sh for the brokers kcli started."""

from __future__ import annotations

import os
import signal
import time

import click

from kcli.commands import _pidfiles
from kcli.errors import TerseError

EPILOG = """\b
Examples:
  kcli server-start -daemon config/server.properties
  kcli server-stop                 # SIGTERM to every broker kcli started; waits for each
  kcli server-stop --node-id 1     # only broker 1

\b
Brokers are found by their pid files (in $KCLI_RUN_DIR, default /tmp/kcli-<uid>), and a pid is
signalled only while it still runs `kcli server-start`."""


@click.command(epilog=EPILOG)
@click.option("--node-id", type=int, default=None, help="Stop only the broker with this id.")
@click.option(
    "--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for each."
)
def command(node_id: int | None, timeout: float) -> None:
    """Stop brokers started with `kcli server-start` (clean shutdown, like SIGTERM)."""
    brokers = _pidfiles.running("broker", "server-start")
    if node_id is not None:
        brokers = [b for b in brokers if b.node_id == node_id]
    if not brokers:
        raise TerseError("No kafka server to stop")
    for broker in brokers:
        os.kill(broker.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    waiting = list(brokers)
    while waiting and time.monotonic() < deadline:
        waiting = [b for b in waiting if _pidfiles.is_ours(b.pid, "server-start")]
        if waiting:
            time.sleep(0.1)
    for broker in brokers:
        if broker not in waiting:
            _pidfiles.remove(broker.path)
            click.echo(f"Stopped broker {broker.node_id} (pid {broker.pid})")
    if waiting:
        pids = ", ".join(str(b.pid) for b in waiting)
        raise TerseError(f"broker(s) still running after {timeout:g}s: pid {pids}")
