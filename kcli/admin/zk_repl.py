"""The interactive side of `zookeeper-shell`: a prompt with history and completion, or piped input.

On a terminal this is a prompt-toolkit session: line editing, history kept across runs in
`~/.kcli/zookeeper_shell_history` (up-arrow, Ctrl-R, grey hints from it), Tab completing command
names and znode paths (children are fetched from the server when Tab is pressed, then cached
briefly). Without a terminal it reads commands line by line as zkCli does when piped, with no
prompt, and exits with the status of the last command, as zkCli does.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from kcli.admin.zk_format import join_path
from kcli.admin.zk_shell import ALIASES, PATH_COMMANDS, SPECS, QuitShell, ZkShell

HISTORY_FILE = Path("~/.kcli/zookeeper_shell_history")
_CACHE_SECONDS = 2.0


class ZnodeCompleter(Completer):
    """Completes the command word, then znode paths for commands that take one."""

    def __init__(self, shell: ZkShell) -> None:
        self.shell = shell
        self._cache: dict[str, tuple[float, list[str]]] = {}

    def _children(self, parent: str) -> list[str]:
        now = time.monotonic()
        hit = self._cache.get(parent)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
        children = self.shell.children_for_completion(parent)
        self._cache[parent] = (now, children)
        return children

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        words = text.split()
        if not text.strip() or (len(words) == 1 and not text.endswith(" ")):
            prefix = words[0] if words else ""
            for name in sorted({*SPECS, *ALIASES}):
                if name.startswith(prefix):
                    yield Completion(name, start_position=-len(prefix))
            return
        if words[0] not in PATH_COMMANDS:
            return
        word = "" if text.endswith(" ") else words[-1]
        if word.startswith("-"):
            return
        if not word:
            yield Completion("/", start_position=0)
            return
        if not word.startswith("/"):
            return
        parent, _, prefix = word.rpartition("/")
        parent = parent or "/"
        for child in self._children(parent):
            if child.startswith(prefix):
                yield Completion(join_path(parent, child), start_position=-len(word))


def _history() -> History:
    path = HISTORY_FILE.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()  # read-only home: history for this run only
    return FileHistory(str(path))


def run_piped(shell: ZkShell, lines: Iterable[str]) -> int:
    """Commands from a pipe or file: no prompt; exit status of the last command."""
    ok = True
    for line in lines:
        try:
            ok = shell.run_line(line)
        except QuitShell:
            break
    return 0 if ok else 1


def run_terminal(shell: ZkShell) -> int:
    """The interactive prompt; Ctrl-D or `quit` leaves, Ctrl-C abandons the current line."""
    session: PromptSession[str] = PromptSession(
        history=_history(),
        completer=ZnodeCompleter(shell),
        complete_while_typing=False,  # children are fetched on Tab only, not per keystroke
        auto_suggest=AutoSuggestFromHistory(),  # grey hint from history; right-arrow takes it
    )
    ok = True
    with patch_stdout(raw=True):
        while True:
            try:
                line = session.prompt(shell.prompt)
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            try:
                ok = shell.run_line(line)
            except QuitShell:
                break
    return 0 if ok else 1


def run_interactive(shell: ZkShell, stdin: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    if stdin.isatty() and sys.stdout.isatty():
        return run_terminal(shell)
    return run_piped(shell, stdin)
