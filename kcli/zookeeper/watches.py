"""One-shot watches (ZooKeeper's WatchManager): path -> watchers and back, so a trigger
reaches each watcher once and a closed connection drops all of its watches. Pure."""

from __future__ import annotations

from typing import Protocol


class Watcher(Protocol):
    def process(self, event_type: int, path: str) -> None: ...


class WatchManager:
    """path -> watchers, and watcher -> paths so a closed connection drops all its watches."""

    def __init__(self) -> None:
        self.by_path: dict[str, set[Watcher]] = {}
        self.by_watcher: dict[Watcher, set[str]] = {}

    def add(self, path: str, watcher: Watcher) -> None:
        self.by_path.setdefault(path, set()).add(watcher)
        self.by_watcher.setdefault(watcher, set()).add(path)

    def trigger(
        self, path: str, event_type: int, suppress: set[Watcher] | None = None
    ) -> set[Watcher]:
        watchers = self.by_path.pop(path, None)
        if not watchers:
            return set()
        for w in watchers:
            paths = self.by_watcher.get(w)
            if paths is not None:
                paths.discard(path)
                if not paths:
                    del self.by_watcher[w]
            if suppress is None or w not in suppress:
                w.process(event_type, path)
        return watchers

    def remove_watcher(self, watcher: Watcher) -> None:
        for path in self.by_watcher.pop(watcher, ()):
            ws = self.by_path.get(path)
            if ws is not None:
                ws.discard(watcher)
                if not ws:
                    del self.by_path[path]

    def count(self) -> int:
        return sum(len(ws) for ws in self.by_path.values())
