"""`kcli zookeeper-shell`: Kafka's zookeeper-shell.sh (zkCli.sh's ZooKeeperMain) on kazoo."""

from __future__ import annotations

import sys

import click

from kcli.commands._run import format_option

EPILOG = """\b
Examples:
  kcli zookeeper-shell localhost:2181 ls /
  kcli zookeeper-shell localhost:2181 create /lab hello
  kcli zookeeper-shell localhost:2181 create -e -s /lab/worker- busy
  kcli zookeeper-shell localhost:2181 get -s /lab
  kcli zookeeper-shell localhost:2181 set /lab world
  kcli zookeeper-shell localhost:2181 deleteall /lab
  kcli zookeeper-shell --format json localhost:2181/brokers ls /ids
  kcli zookeeper-shell localhost:2181          (interactive; `help` lists commands)
  printf 'ls /\\nget /lab\\n' | kcli zookeeper-shell localhost:2181

\b
Commands: ls [-s] [-w] [-R] path | get [-s] [-w] path | stat path |
  create [-s] [-e] path [data] | set [-v version] path data | delete [-v version] path |
  deleteall path (rmr) | getAcl path | sync path | connect host:port | close | history |
  help | quit"""


@click.command(
    epilog=EPILOG,
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.argument("zookeeper_connect", metavar="HOST:PORT[/CHROOT]")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the connection and for each request.",
)
@format_option
@click.pass_context
def command(
    ctx: click.Context,
    zookeeper_connect: str,
    command: tuple[str, ...],
    timeout: float,
    output_format: str,
) -> None:
    """Run one ZooKeeper command, or an interactive shell when none is given.

    Speaks to the bundled ZooKeeper or any Apache ZooKeeper, with zkCli.sh's commands and
    output. A failed one-shot command prints zkCli's message on stderr and exits 1.
    """
    from kcli.admin.zk_repl import run_interactive
    from kcli.admin.zk_session import quiet_kazoo
    from kcli.admin.zk_shell import QuitShell, ZkShell

    quiet_kazoo(verbose=bool(ctx.obj and ctx.obj.get("verbose")))
    shell = ZkShell(
        zookeeper_connect,
        out=click.echo,
        err=lambda line: click.echo(line, err=True),
        timeout=timeout,
        output_format=output_format,
    )
    interactive = not command
    if interactive and sys.stdin.isatty():
        click.echo(f"Connecting to {zookeeper_connect}", err=True)
    shell.open()
    try:
        status = run_interactive(shell) if interactive else (0 if shell.run(list(command)) else 1)
    except QuitShell:
        status = 0
    finally:
        shell.close()
    # sys.exit rather than ctx.exit: in non-standalone mode click returns ctx.exit's code
    # instead of raising it, and the root command would turn it into 0.
    sys.exit(status)
