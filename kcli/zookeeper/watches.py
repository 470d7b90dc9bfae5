"""Watches (ZooKeeper's WatchManager): path -> watchers and back, so a trigger reaches each
watcher once and a closed connection drops all of its watches. Pure.

A watcher holds, per path, a one-shot STANDARD watch (getData/exists/getChildren with
watch=true; removed when it fires) and/or one persistent mode from addWatch (ZooKeeper 3.6+):
PERSISTENT stays after firing; PERSISTENT_RECURSIVE also fires for every descendant, and is
kept only in the data table, so it never hears NodeChildrenChanged. As in ZooKeeper, a new
persistent mode replaces the previous one on that path.
"""

from __future__ import annotations

from typing import Protocol

STANDARD = 1
PERSISTENT = 2
RECURSIVE = 4
_PERSISTENT_MODES = PERSISTENT | RECURSIVE


class Watcher(Protocol):
    def process(self, event_type: int, path: str) -> None: ...


def _ancestors(path: str) -> list[str]:
    out = []
    while path != "/":
        i = path.rfind("/")
        path = path[:i] if i > 0 else "/"
        out.append(path)
    return out


class WatchManager:
    def __init__(self) -> None:
        self.by_path: dict[str, dict[Watcher, int]] = {}
        self.by_watcher: dict[Watcher, set[str]] = {}
        self._recursive = 0  # how many recursive watches exist (skip ancestor walks if none)

    def add(self, path: str, watcher: Watcher, mode: int = STANDARD) -> None:
        table = self.by_path.setdefault(path, {})
        old = table.get(watcher, 0)
        new = old | mode if mode == STANDARD else (old & STANDARD) | mode
        table[watcher] = new
        self._recursive += bool(new & RECURSIVE) - bool(old & RECURSIVE)
        self.by_watcher.setdefault(watcher, set()).add(path)

    def has(self, path: str, watcher: Watcher, modes: int) -> bool:
        return bool(self.by_path.get(path, {}).get(watcher, 0) & modes)

    def remove(self, path: str, watcher: Watcher, modes: int) -> bool:
        """Drop these modes of `watcher` on `path`; False if it had none of them."""
        table = self.by_path.get(path)
        old = table.get(watcher, 0) if table else 0
        if not old & modes:
            return False
        assert table is not None
        self._set(path, table, watcher, old, old & ~modes)
        return True

    def _set(self, path: str, table: dict[Watcher, int], w: Watcher, old: int, new: int) -> None:
        self._recursive += bool(new & RECURSIVE) - bool(old & RECURSIVE)
        if new:
            table[w] = new
            return
        del table[w]
        if not table:
            del self.by_path[path]
        paths = self.by_watcher.get(w)
        if paths is not None:
            paths.discard(path)
            if not paths:
                del self.by_watcher[w]

    def trigger(
        self, path: str, event_type: int, suppress: set[Watcher] | None = None
    ) -> set[Watcher]:
        """Fire `event_type` for `path` at its watchers (and recursive ones above it), each
        once; one-shot watches are consumed. Returns every watcher that matched."""
        fired: set[Watcher] = set()
        table = self.by_path.get(path)
        if table:
            for w, mode in list(table.items()):
                if mode & STANDARD:
                    self._set(path, table, w, mode, mode & ~STANDARD)
                fired.add(w)
        if self._recursive:
            for parent in _ancestors(path):
                for w, mode in self.by_path.get(parent, {}).items():
                    if mode & RECURSIVE:
                        fired.add(w)
        for w in fired:
            if suppress is None or w not in suppress:
                w.process(event_type, path)
        return fired

    def remove_watcher(self, watcher: Watcher) -> None:
        for path in list(self.by_watcher.get(watcher, ())):
            table = self.by_path.get(path)
            if table is not None and watcher in table:
                self._set(path, table, watcher, table[watcher], 0)
        self.by_watcher.pop(watcher, None)

    def count(self) -> int:
        return sum(len(ws) for ws in self.by_path.values())


PERSISTENT_MODES = _PERSISTENT_MODES
