"""`kcli zookeeper-stop`: zookeeper-server-stop.sh for servers kcli started."""

from __future__ import annotations

import click

EPILOG = """\b
Examples:
  kcli zookeeper-stop                      # every bundled ZooKeeper kcli started
  kcli zookeeper-stop zookeeper.properties # only the one on that file's clientPort"""


@click.command(epilog=EPILOG)
@click.argument("properties", required=False, type=click.Path(dir_okay=False))
def command(properties: str | None) -> None:
    """Stop bundled ZooKeeper servers (SIGTERM, clean shutdown)."""
    from kcli.errors import TerseError
    from kcli.zookeeper.runner import stop_servers

    port: int | None = None
    if properties is not None:
        from kcli.properties import load_properties
        from kcli.zookeeper.config import ZooKeeperConfig

        port = ZooKeeperConfig.from_props(load_properties(properties)).client_port
    pids = stop_servers(port)
    if not pids:
        where = f" on port {port}" if port is not None else ""
        raise TerseError(f"No zookeeper server{where} to stop")
    for pid in pids:
        click.echo(f"Stopped ZooKeeper (pid {pid})")
