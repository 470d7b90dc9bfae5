"""The `kcli` root command: lazily loaded subcommands, `--version`, `-v` for tracebacks."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from kcli import __version__
from kcli.commands import COMMANDS
from kcli.commands._lazy import LazyGroup
from kcli.errors import ExitStatus, TerseError

EPILOG = """\b
Examples:
  kcli zookeeper-start config/zookeeper.properties
  kcli zookeeper-shell localhost:2181 ls /
  kcli <command> --help

Run `kcli <command> --help` for a command's options and a worked example."""


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, "--version", prog_name="kcli")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def root(ctx: click.Context, verbose: bool) -> None:
    """Kafka's command-line tools, with a bundled ZooKeeper and Kafka broker."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point; turns TerseError into one line on stderr and an exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = _global_verbose(args)
    try:
        # Without standalone mode click returns `ctx.exit(code)` codes instead of exiting.
        rv = root.main(args=args, prog_name="kcli", standalone_mode=False)
    except TerseError as exc:
        if verbose:
            raise
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        sys.exit(ExitStatus.INTERRUPTED)
    except KeyboardInterrupt:
        sys.exit(ExitStatus.INTERRUPTED)
    sys.exit(rv if isinstance(rv, int) else ExitStatus.OK)


def _global_verbose(args: list[str]) -> bool:
    """`-v` counts only before the subcommand (`kcli -v topics ...`), not inside its arguments."""
    for arg in args:
        if arg in ("-v", "--verbose"):
            return True
        if not arg.startswith("-"):
            return False
    return False
