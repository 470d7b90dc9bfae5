"""`zookeeper-shell` commands: zkCli.sh's syntax and output on top of a `ZkSession`.

Each command takes zkCli 3.5+'s options (`ls [-s] [-w] [-R] path`, `set [-s] [-v version] path
data`, ...) and also the 3.4 forms Kafka's older zookeeper-shell accepted (`set path data
[version]`, `delete path [version]`, `rmr path`, `ls2 path`). Output goes through two callables so
the same code serves one-shot runs, piped input and the interactive prompt. A failed command
prints zkCli's one-line message on the error stream and returns False. One deliberate
difference: `Created /x` goes to the output stream (zkCli 3.5+ prints it on stderr), so a
script can capture the name a sequential create was given.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kcli.admin.zk_format import (
    data_to_json,
    format_acl,
    format_children,
    format_data,
    format_stat,
    stat_to_dict,
    validate_path,
)
from kcli.admin.zk_session import ZkCommandError, ZkSession
from kcli.errors import TerseError

Writer = Callable[[str], None]


@dataclass(frozen=True)
class CommandSpec:
    usage: str
    flags: str = ""  # single-letter boolean options
    valued: str = ""  # single-letter options taking a value
    min_args: int = 1
    max_args: int = 1


SPECS: dict[str, CommandSpec] = {
    "ls": CommandSpec("ls [-s] [-w] [-R] path", flags="swR"),
    "ls2": CommandSpec("ls2 path [watch]", max_args=2),
    "get": CommandSpec("get [-s] [-w] path", flags="sw"),
    "stat": CommandSpec("stat [-w] path", flags="w"),
    "create": CommandSpec("create [-s] [-e] path [data]", flags="se", max_args=2),
    "set": CommandSpec("set [-s] [-v version] path data", flags="s", valued="v", max_args=3),
    "delete": CommandSpec("delete [-v version] path", valued="v", max_args=2),
    "deleteall": CommandSpec("deleteall path"),
    "getAcl": CommandSpec("getAcl [-s] path", flags="s"),
    "sync": CommandSpec("sync path"),
    "connect": CommandSpec("connect host:port[/chroot]"),
    "close": CommandSpec("close", min_args=0, max_args=0),
    "history": CommandSpec("history", min_args=0, max_args=0),
    "help": CommandSpec("help", min_args=0, max_args=1),
    "quit": CommandSpec("quit", min_args=0, max_args=0),
}
ALIASES = {"exit": "quit", "rmr": "deleteall"}
# Commands whose arguments are znode paths (for tab completion).
PATH_COMMANDS = frozenset(
    {"ls", "ls2", "get", "stat", "create", "set", "delete", "deleteall", "rmr", "sync", "getAcl"}
)


class QuitShell(Exception):
    """Raised by `quit`; the interactive loop ends on it."""


@dataclass
class Parsed:
    name: str
    flags: set[str]
    values: dict[str, str]
    args: list[str]


def parse_command(words: list[str]) -> Parsed:
    """Split `words` into command, options and positionals; ZkCommandError on bad syntax."""
    name = words[0]
    spec = SPECS.get(name)
    if spec is None:
        raise ZkCommandError(f"Command not found: {name} (type help for the list)")
    flags: set[str] = set()
    values: dict[str, str] = {}
    args: list[str] = []
    rest = iter(words[1:])
    for word in rest:
        letter = word[1:] if len(word) == 2 and word.startswith("-") else ""
        if len(word) > 1 and word[0] == "-" and spec.flags and set(word[1:]) <= set(spec.flags):
            flags.update(word[1:])  # `-s`, or grouped as `-es`
        elif letter and letter in spec.valued:
            value = next(rest, None)
            if value is None:
                raise ZkCommandError(spec.usage)
            values[letter] = value
        else:
            args.append(word)
    if not spec.min_args <= len(args) <= spec.max_args:
        raise ZkCommandError(spec.usage)
    return Parsed(name, flags, values, args)


def _version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ZkCommandError(f"version {text} is not a number") from None


def _path(path: str, sequential: bool = False) -> str:
    problem = validate_path(path, sequential)
    if problem is not None:
        raise ZkCommandError(problem)
    return path


@dataclass
class ZkShell:
    """Runs zkCli-style commands against one session at a time."""

    connect_string: str
    out: Writer
    err: Writer
    timeout: float = 10.0
    output_format: str = "text"
    session: ZkSession | None = None
    history: list[str] = field(default_factory=list)

    # -- session ------------------------------------------------------------------------------

    def open(self, connect_string: str | None = None) -> None:
        """Connect (raises TerseError with a one-line reason if that fails)."""
        if connect_string is not None:
            self.connect_string = connect_string
        self.close()
        session = ZkSession(self.connect_string, timeout=self.timeout, on_watch=self._watch_fired)
        session.open()
        self.session = session

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    @property
    def state(self) -> str:
        return self.session.state if self.session is not None else "CLOSED"

    def prompt(self) -> str:
        return f"[zk: {self.connect_string}({self.state}) {len(self.history)}] "

    def _watch_fired(self, text: str) -> None:
        self.out(text)

    def _session(self) -> ZkSession:
        if self.session is None:
            raise ZkCommandError("Not connected")
        return self.session

    # -- running commands ---------------------------------------------------------------------

    def run_line(self, line: str) -> bool:
        """One input line; blank lines and `#` comments succeed without doing anything."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        self.history.append(line)
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        return self.run(words)

    def run(self, words: list[str]) -> bool:
        """Run one command; False (after printing zkCli's message) if it failed."""
        if not words:
            return True
        words = [ALIASES.get(words[0], words[0]), *words[1:]]
        try:
            parsed = parse_command(words)
            handler: Callable[[Parsed], None] = getattr(self, f"_cmd_{parsed.name}")
            handler(parsed)
        except ZkCommandError as exc:
            self.err(exc.message)
            return False
        except TerseError as exc:  # `connect` to a server that is not there
            self.err(f"Error: {exc.message}")
            return False
        return True

    def _emit(self, text: str, json_data: Any) -> None:
        if self.output_format == "json":
            self.out(json.dumps(json_data, indent=2))
        else:
            self.out(text)

    # -- commands -----------------------------------------------------------------------------

    def _cmd_ls(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        session = self._session()
        if "R" in cmd.flags:
            paths = session.subtree(path)
            self._emit("\n".join(paths), {"path": path, "paths": paths})
            return
        children, stat = session.children(path, watch="w" in cmd.flags)
        lines = [format_children(children)]
        doc: dict[str, Any] = {"path": path, "children": sorted(children)}
        if "s" in cmd.flags:
            lines += format_stat(stat)
            doc["stat"] = stat_to_dict(stat)
        self._emit("\n".join(lines), doc)

    def _cmd_ls2(self, cmd: Parsed) -> None:
        flags = {"s"} | ({"w"} if len(cmd.args) > 1 else set())
        self._cmd_ls(Parsed("ls", flags, {}, cmd.args[:1]))

    def _cmd_get(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        data, stat = self._session().get(path, watch="w" in cmd.flags)
        lines = [format_data(data)]
        doc: dict[str, Any] = {"path": path, "data": data_to_json(data)}
        if "s" in cmd.flags:
            lines += format_stat(stat)
            doc["stat"] = stat_to_dict(stat)
        self._emit("\n".join(lines), doc)

    def _cmd_stat(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        stat = self._session().stat(path, watch="w" in cmd.flags)
        self._emit("\n".join(format_stat(stat)), {"path": path, "stat": stat_to_dict(stat)})

    def _cmd_create(self, cmd: Parsed) -> None:
        sequential = "s" in cmd.flags
        path = _path(cmd.args[0], sequential)
        data = cmd.args[1].encode() if len(cmd.args) > 1 else None
        created = self._session().create(path, data, "e" in cmd.flags, sequential)
        self.out(f"Created {created}")

    def _cmd_set(self, cmd: Parsed) -> None:
        if len(cmd.args) < 2:
            raise ZkCommandError(SPECS["set"].usage)
        path = _path(cmd.args[0])
        # zkCli 3.5+: -v version; zkCli 3.4 (older Kafka): a trailing version argument.
        version_text = cmd.values.get("v", cmd.args[2] if len(cmd.args) > 2 else "-1")
        stat = self._session().set(path, cmd.args[1].encode(), _version(version_text))
        if "s" in cmd.flags:
            self.out("\n".join(format_stat(stat)))

    def _cmd_delete(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        version_text = cmd.values.get("v", cmd.args[1] if len(cmd.args) > 1 else "-1")
        self._session().delete(path, _version(version_text))

    def _cmd_deleteall(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        if path == "/":
            raise ZkCommandError("Deleting the root node is not allowed")
        self._session().delete_all(path)

    def _cmd_getAcl(self, cmd: Parsed) -> None:  # zkCli's camel-case command name
        path = _path(cmd.args[0])
        acls, stat = self._session().acls(path)
        lines = [line for acl in acls for line in format_acl(*acl)]
        if "s" in cmd.flags:
            lines += format_stat(stat)
        self.out("\n".join(lines))

    def _cmd_sync(self, cmd: Parsed) -> None:
        path = _path(cmd.args[0])
        self._session().sync(path)
        self.out("Sync is OK")

    def _cmd_connect(self, cmd: Parsed) -> None:
        self.open(cmd.args[0])

    def _cmd_close(self, cmd: Parsed) -> None:
        self.close()

    def _cmd_history(self, cmd: Parsed) -> None:
        start = max(0, len(self.history) - 11)
        for number in range(start, len(self.history)):
            self.out(f"{number} - {self.history[number]}")

    def _cmd_help(self, cmd: Parsed) -> None:
        self.out("kcli zookeeper-shell host:port[/chroot] [command args...]")
        for name in sorted(SPECS):
            self.out(f"\t{SPECS[name].usage}")
        aliases = ", ".join(f"{alias} = {name}" for alias, name in sorted(ALIASES.items()))
        self.out(f"aliases: {aliases}")

    def _cmd_quit(self, cmd: Parsed) -> None:
        raise QuitShell

    # -- completion support -------------------------------------------------------------------

    def children_for_completion(self, path: str) -> list[str]:
        """Children of `path` for tab completion; [] on any problem (never raises)."""
        if self.session is None or self.session.state != "CONNECTED":
            return []
        try:
            children, _ = self.session.children(path)
        except ZkCommandError:
            return []
        return sorted(children)
