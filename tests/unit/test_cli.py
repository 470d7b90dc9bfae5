"""The root command: version, help without importing subcommands, terse errors."""

from __future__ import annotations

import subprocess
import sys

from kcli import __version__
from kcli.testing.process import kcli_argv


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(kcli_argv(*args), capture_output=True, text=True, timeout=60)


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0
    assert __version__ in res.stdout


def test_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys\n"
        "from kcli.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m.startswith(('kcli.commands.zoo', 'kcli.broker',"
        " 'kcli.zookeeper', 'kazoo', 'confluent_kafka'))]\n"
        "print('LOADED', loaded)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "zookeeper-start" in res.stdout
    assert "LOADED []" in res.stdout


def test_unknown_command_is_a_usage_error() -> None:
    res = run("no-such-command")
    assert res.returncode == 2
    assert "No such command" in res.stderr
    assert "Traceback" not in res.stderr


def test_exit_code_of_ctx_exit_is_kept() -> None:
    import click

    from kcli.cli import main, root

    @root.command("exit-three", hidden=True)
    @click.pass_context
    def exit_three(ctx: click.Context) -> None:
        ctx.exit(3)

    try:
        try:
            main(["exit-three"])
        except SystemExit as exc:
            assert exc.code == 3
        else:
            raise AssertionError("main() did not exit")
    finally:
        root.commands.pop("exit-three", None)


def test_verbose_is_a_global_option_only() -> None:
    from kcli.cli import _global_verbose

    assert _global_verbose(["-v", "topics", "--list"])
    assert not _global_verbose(["zookeeper-shell", "localhost:2181", "delete", "-v", "3", "/x"])
