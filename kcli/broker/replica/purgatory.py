"""Waiting requests (Kafka's DelayedOperationPurgatory): acks=all produce and long-poll fetch.

A request that cannot be answered yet parks here with a completion check and a timeout, watched
under the keys (partitions) whose progress can complete it. Whoever moves a partition (an
append, a high-watermark move, a leadership change) calls `check_and_complete(key)`, which
re-runs the checks of that key's waiters only. Nothing polls: with no waiters a notification
costs one dict lookup.

Deadlines are read from the injected clock; a loop timer fires near each deadline and
`expire_due()` completes (as timed out) the waiters whose deadline has passed, so tests drive
expiry by advancing a MockClock and calling `expire_due()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from kcli.clock import Clock

K = TypeVar("K", bound=Hashable)


class _Waiter:
    __slots__ = ("deadline", "future", "handle", "keys", "try_complete")

    def __init__(
        self,
        future: asyncio.Future[bool],
        try_complete: Callable[[], bool],
        deadline: float,
        keys: Sequence[Any],
    ) -> None:
        self.future = future
        self.try_complete = try_complete
        self.deadline = deadline
        self.keys = keys
        self.handle: asyncio.TimerHandle | None = None


class DelayedOperationPurgatory(Generic[K]):
    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self._watchers: dict[K, list[_Waiter]] = {}
        self._waiters: set[_Waiter] = set()

    def __len__(self) -> int:
        """Requests waiting now."""
        return len(self._waiters)

    def watched(self, key: K) -> int:
        return len(self._watchers.get(key, ()))

    async def wait(
        self, keys: Sequence[K], try_complete: Callable[[], bool], timeout_ms: int
    ) -> bool:
        """True once `try_complete()` returns True (checked now and on each notification of
        one of `keys`); False when `timeout_ms` passes first."""
        if try_complete():
            return True
        if timeout_ms <= 0:
            return False
        loop = asyncio.get_running_loop()
        waiter = _Waiter(
            loop.create_future(), try_complete, self.clock.monotonic() + timeout_ms / 1000, keys
        )
        for key in keys:
            self._watchers.setdefault(key, []).append(waiter)
        self._waiters.add(waiter)
        waiter.handle = loop.call_later(timeout_ms / 1000, self._on_timer, waiter)
        try:
            return await waiter.future
        finally:
            self._forget(waiter)

    def _forget(self, waiter: _Waiter) -> None:
        if waiter.handle is not None:
            waiter.handle.cancel()
        self._waiters.discard(waiter)
        for key in waiter.keys:
            watchers = self._watchers.get(key)
            if watchers is None:
                continue
            with contextlib.suppress(ValueError):
                watchers.remove(waiter)
            if not watchers:
                del self._watchers[key]

    def check_and_complete(self, key: K) -> int:
        """Re-check the waiters watching `key`; returns how many completed."""
        watchers = self._watchers.get(key)
        if not watchers:
            return 0
        done = 0
        for waiter in list(watchers):
            if not waiter.future.done() and waiter.try_complete():
                waiter.future.set_result(True)
                done += 1
        return done

    def expire_due(self) -> int:
        """Time out every waiter whose deadline (by the clock) has passed."""
        now = self.clock.monotonic()
        expired = 0
        for waiter in list(self._waiters):
            if now >= waiter.deadline and not waiter.future.done():
                waiter.future.set_result(False)
                expired += 1
        return expired

    def _on_timer(self, waiter: _Waiter) -> None:
        if waiter.future.done():
            return
        remaining = waiter.deadline - self.clock.monotonic()
        if remaining <= 0.0005:  # timers may fire a hair early
            waiter.future.set_result(False)
        else:
            waiter.handle = asyncio.get_running_loop().call_later(remaining, self._on_timer, waiter)

    def complete_all(self) -> None:
        """Shutdown: run every waiter's check one last time and time out the rest."""
        for waiter in list(self._waiters):
            if not waiter.future.done():
                waiter.future.set_result(waiter.try_complete())
