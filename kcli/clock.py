"""Injected time (Kafka's Time/MockTime): code reads time only through a Clock so tests can
advance a fake clock instead of sleeping."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time_ms(self) -> int:
        """Wall-clock milliseconds since the epoch (timestamps, retention)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back (timeouts, deadlines)."""
        ...


class SystemClock:
    def time_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()


class MockClock:
    """A clock that moves only when told to."""

    def __init__(self, time_ms: int = 1_700_000_000_000, monotonic: float = 1000.0) -> None:
        self._time_ms = time_ms
        self._monotonic = monotonic

    def time_ms(self) -> int:
        return self._time_ms

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, ms: int) -> None:
        self._time_ms += ms
        self._monotonic += ms / 1000.0


SYSTEM_CLOCK = SystemClock()
