"""Interactive `kcli zookeeper-shell` on a pseudo-terminal: prompt, history, completion, watches."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def spawn(zk: Any, home: Path) -> Any:
    env = {
        "HOME": str(home),
        "TERM": "xterm",
        "PATH": "/usr/bin:/bin",
        # pexpect's terminal does not answer cursor-position requests.
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kcli", "zookeeper-shell", zk.connect_string],
        env=env,
        encoding="utf-8",
        timeout=15,
        dimensions=(40, 200),
    )
    return child


def prompt(child: Any, number: int, state: str = "CONNECTED") -> None:
    # prompt-toolkit draws the trailing space with cursor moves, so match up to the bracket.
    child.expect_exact(f"({state}) {number}]")


def finish(child: Any) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


UP = "\x1b[A"


def test_prompt_commands_history_and_completion(zk: Any, home: Path) -> None:
    child = spawn(zk, home)
    try:
        prompt(child, 0)
        assert f"[zk: {zk.connect_string}" in child.before + child.after
        child.sendline("create /interactive hello")
        child.expect_exact("Created /interactive")
        prompt(child, 1)
        # Tab completes a znode path fetched from the server.
        child.send("get /interac\t")
        child.expect_exact("tive")
        child.sendline("")
        child.expect_exact("hello")
        prompt(child, 2)
        # Up-arrow recalls the previous line.
        child.send(UP)
        child.expect_exact("get /interactive")
        child.sendline("")
        child.expect_exact("hello")
        prompt(child, 3)
        # Errors are printed and the shell carries on.
        child.sendline("get /not-there")
        child.expect_exact("Node does not exist: /not-there")
        prompt(child, 4)
        child.sendline("set /interactive changed")
        prompt(child, 5)
        child.sendline("get /interactive")
        child.expect_exact("changed")
        prompt(child, 6)
        finish(child)
    finally:
        child.close(force=True)
    history = (home / ".kcli" / "zookeeper_shell_history").read_text()
    assert "+create /interactive hello" in history

    # A new shell starts with the old history: two up-arrows go back past `quit`.
    again = spawn(zk, home)
    try:
        prompt(again, 0)
        again.send(UP)
        again.expect_exact("quit")
        again.send(UP)
        again.expect_exact("get /interactive")
        again.sendline("")
        again.expect_exact("changed")
        prompt(again, 1)
        finish(again)
    finally:
        again.close(force=True)


def test_command_completion_watch_close_and_keys(zk: Any, home: Path) -> None:
    child = spawn(zk, home)
    try:
        prompt(child, 0)
        child.send("dele\t")
        child.expect_exact("delete")  # common prefix of delete/deleteall
        child.send("\x15")  # Ctrl-U: clear the line
        child.sendline("create /watched v1")
        prompt(child, 1)
        child.sendline("get -w /watched")
        child.expect_exact("v1")
        prompt(child, 2)
        child.sendline("set /watched v2")
        child.expect_exact("WatchedEvent state:SyncConnected type:NodeDataChanged path:/watched")
        prompt(child, 3)
        child.sendline("close")
        prompt(child, 4, "CLOSED")
        child.sendline("ls /")
        child.expect_exact("Not connected")
        child.sendline(f"connect {zk.connect_string}")
        prompt(child, 6)
        child.sendline("deleteall /watched")
        prompt(child, 7)
        child.send("ls /half-typed")
        child.sendcontrol("c")  # Ctrl-C drops the line, not the shell
        # A complete command after Ctrl-C syncs with the fresh prompt: the prompt text alone
        # also appears in redraws while typing, so matching it could race ahead of Ctrl-C.
        child.sendline("stat /zookeeper")
        child.expect_exact("cZxid = ")
        prompt(child, 8)
        child.sendcontrol("d")  # Ctrl-D on an empty line leaves
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
    finally:
        child.close(force=True)
