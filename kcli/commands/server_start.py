"""`kcli server-start`: kafka-server-start.sh for kcli's Kafka-compatible broker."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import click

from kcli.commands import _pidfiles
from kcli.errors import ConfigError, TerseError
from kcli.properties import load_properties, parse_override

EPILOG = """\b
Examples:
  kcli server-start config/server.properties
  kcli server-start server.properties --override broker.id=1 \\
      --override listeners=PLAINTEXT://:9093 --override log.dirs=/tmp/kafka-logs-1
  kcli server-start -daemon server.properties     # background; logs in $LOG_DIR/kafkaServer.out
  kcli server-stop

\b
With no file, kcli's packaged default is used (broker.id=0, PLAINTEXT://:9092,
log.dirs=/tmp/kafka-logs, zookeeper.connect=localhost:2181). Ready when it logs
  [KafkaServer id=0] started (kafka.server.KafkaServer)"""

READY_LINE = "started (kafka.server.KafkaServer)"
DAEMON_LOG = "kafkaServer.out"
log = logging.getLogger("kafka.Kafka")


def default_config_path() -> Path:
    return Path(str(files("kcli").joinpath("config/server.properties")))


@click.command(epilog=EPILOG, context_settings={"ignore_unknown_options": False})
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.option("-daemon", "--daemon", "daemon", is_flag=True, help="Run in the background.")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="PROPERTY=VALUE",
    help="Override a property of the file (repeatable).",
)
@click.pass_context
def command(
    ctx: click.Context, config_file: str | None, daemon: bool, overrides: tuple[str, ...]
) -> None:
    """Start a Kafka-compatible broker from a server.properties file.

    \b
    USAGE: kcli server-start [-daemon] server.properties [--override property=value]*
    """
    props = _load(config_file, overrides)
    if daemon:
        _start_daemon(config_file, overrides)
        return
    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    _run_foreground(props, config_file, verbose)


def _load(config_file: str | None, overrides: tuple[str, ...]) -> dict[str, str]:
    path = Path(config_file) if config_file else default_config_path()
    props = load_properties(path)
    for item in overrides:
        key, value = parse_override(item)
        props[key] = value
    return props


def _run_foreground(props: dict[str, str], config_file: str | None, verbose: bool) -> None:
    import asyncio

    from kcli.broker.config import from_properties
    from kcli.broker.config_defs import IGNORED
    from kcli.broker.server import configure_logging, serve

    configure_logging(verbose)
    if config_file is None:
        log.info("No server.properties given; using kcli's packaged default %s",
                 default_config_path())  # fmt: skip
    config = from_properties(props)
    ignored = sorted(IGNORED & props.keys())
    if ignored:
        log.info("Accepted for compatibility, ignored by kcli's single-loop broker: %s",
                 ", ".join(ignored))  # fmt: skip
    pid_path = _pidfiles.write("broker", config.broker_id, config_file or "(default)")
    try:
        asyncio.run(serve(config))
    finally:
        _pidfiles.remove(pid_path)


def _start_daemon(config_file: str | None, overrides: tuple[str, ...]) -> None:
    """Re-run this command detached, output to $LOG_DIR/kafkaServer.out; wait until ready."""
    log_dir = Path(os.environ.get("LOG_DIR", "logs"))
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path = log_dir / DAEMON_LOG
    argv = [sys.executable, "-m", "kcli", "server-start"]
    if config_file:
        argv.append(str(Path(config_file).resolve()))
    for item in overrides:
        argv += ["--override", item]
    start_offset = out_path.stat().st_size if out_path.exists() else 0
    with open(out_path, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = _read_from(out_path, start_offset)
        if READY_LINE in text:
            click.echo(f"Broker started in the background (pid {proc.pid}); log: {out_path}")
            return
        if proc.poll() is not None:
            last = [line for line in text.splitlines() if line.strip()]
            raise TerseError(last[-1].removeprefix("Error: ") if last else "broker exited")
        time.sleep(0.1)
    raise TerseError(f"broker (pid {proc.pid}) not ready after 60s; see {out_path}")


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


__all__ = ["ConfigError", "command"]
