"""`kcli zookeeper-start`: zookeeper-server-start.sh for the bundled ZooKeeper server."""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path

import click

from kcli.commands._run import stderr

EPILOG = """\b
Examples:
  kcli zookeeper-start config/zookeeper.properties
  kcli zookeeper-start -daemon zookeeper.properties --override clientPort=2182
  kcli zookeeper-start            # the packaged default: dataDir=/tmp/zookeeper, port 2181

\b
Runs in the foreground until Ctrl-C or SIGTERM. With -daemon it runs in the background,
logging to $LOG_DIR/zookeeper.out (LOG_DIR defaults to ./logs); stop it with
`kcli zookeeper-stop`."""


def default_properties() -> Path:
    return Path(str(resources.files("kcli") / "config" / "zookeeper.properties"))


@click.command(epilog=EPILOG)
@click.option("-daemon", "--daemon", "daemon", is_flag=True, help="Run in the background.")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a property of the file (repeatable).",
)
@click.argument("properties", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def command(
    ctx: click.Context, daemon: bool, overrides: tuple[str, ...], properties: str | None
) -> None:
    """Start the bundled ZooKeeper server from a zookeeper.properties file."""
    from kcli.properties import load_properties, parse_override
    from kcli.zookeeper.config import ZooKeeperConfig
    from kcli.zookeeper.runner import configure_logging

    if properties is None:
        properties = str(default_properties())
        stderr(f"No properties file given; using the packaged default {properties}")
    props = load_properties(properties)
    for item in overrides:
        key, value = parse_override(item)
        props[key] = value
    configure_logging(verbose=bool((ctx.obj or {}).get("verbose")))
    config = ZooKeeperConfig.from_props(props)
    if daemon:
        from kcli.zookeeper.runner import start_daemon

        argv = [sys.executable, "-m", "kcli", "zookeeper-start", str(Path(properties).resolve())]
        argv += [f"--override={o}" for o in overrides]
        log_dir = Path(os.environ.get("LOG_DIR") or "logs").resolve()
        pid = start_daemon(argv, config.client_port, log_dir)
        click.echo(f"ZooKeeper started in the background (pid {pid}), log: {log_dir}/zookeeper.out")
        return
    from kcli.zookeeper.runner import run

    code = run(config)
    if code:
        sys.exit(code)
