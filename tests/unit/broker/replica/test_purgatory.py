"""The purgatory: waiters complete on notification of their keys, expire by the clock."""

from __future__ import annotations

import asyncio

from kcli.broker.replica.purgatory import DelayedOperationPurgatory
from kcli.clock import MockClock


def test_completes_on_notification_of_a_watched_key_only() -> None:
    async def scenario() -> None:
        purgatory: DelayedOperationPurgatory[str] = DelayedOperationPurgatory("t", MockClock())
        ready = {"a": False}
        waiter = asyncio.ensure_future(purgatory.wait(["a", "b"], lambda: ready["a"], 60_000))
        await asyncio.sleep(0)
        assert len(purgatory) == 1 and purgatory.watched("a") == 1
        assert purgatory.check_and_complete("a") == 0  # notified, but not ready yet
        ready["a"] = True
        assert purgatory.check_and_complete("c") == 0  # not a key it watches
        assert not waiter.done()
        assert purgatory.check_and_complete("b") == 1
        assert await waiter is True
        assert len(purgatory) == 0 and purgatory.watched("a") == 0

    asyncio.run(scenario())


def test_already_complete_never_parks() -> None:
    async def scenario() -> None:
        purgatory: DelayedOperationPurgatory[str] = DelayedOperationPurgatory("t", MockClock())
        assert await purgatory.wait(["a"], lambda: True, 1000) is True
        assert await purgatory.wait(["a"], lambda: False, 0) is False
        assert len(purgatory) == 0

    asyncio.run(scenario())


def test_expires_when_the_clock_passes_the_deadline() -> None:
    async def scenario() -> None:
        clock = MockClock()
        purgatory: DelayedOperationPurgatory[str] = DelayedOperationPurgatory("t", clock)
        waiter = asyncio.ensure_future(purgatory.wait(["a"], lambda: False, 500))
        await asyncio.sleep(0)
        clock.advance(499)
        assert purgatory.expire_due() == 0 and not waiter.done()
        clock.advance(1)
        assert purgatory.expire_due() == 1
        assert await waiter is False
        assert purgatory.watched("a") == 0

    asyncio.run(scenario())


def test_cancelled_waiter_is_unwatched() -> None:
    async def scenario() -> None:
        purgatory: DelayedOperationPurgatory[str] = DelayedOperationPurgatory("t", MockClock())
        waiter = asyncio.ensure_future(purgatory.wait(["a"], lambda: False, 60_000))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        assert len(purgatory) == 0 and purgatory.watched("a") == 0

    asyncio.run(scenario())
