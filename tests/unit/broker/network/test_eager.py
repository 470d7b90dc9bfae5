"""eager.start: a coroutine's first step runs in the caller; a task finishes it if it waits."""

from __future__ import annotations

import asyncio

import pytest

from kcli.broker.network.eager import start


def test_a_coroutine_that_does_not_wait_needs_no_task() -> None:
    async def quick() -> int:
        return 7

    async def failing() -> int:
        raise ValueError("bad")

    async def main() -> None:
        done = start(quick())
        assert done.task is None and done.done() and done.outcome() == 7
        failed = start(failing())
        assert failed.task is None
        with pytest.raises(ValueError, match="bad"):
            failed.outcome()

    asyncio.run(main())


def test_the_first_step_runs_now_and_a_task_carries_on() -> None:
    async def main() -> list[str]:
        events: list[str] = []
        gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def waits() -> str:
            events.append("first step")
            got = await gate
            await asyncio.sleep(0)  # a bare yield on the way
            events.append("after " + got)
            return got.upper()

        started = start(waits())
        events.append("returned")
        assert started.task is not None and not started.done()
        gate.set_result("gate")
        assert await started.task == "GATE"
        return events

    assert asyncio.run(main()) == ["first step", "returned", "after gate"]


def test_an_awaited_exception_and_a_timeout_reach_the_coroutine() -> None:
    async def main() -> tuple[str, bool]:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def catches() -> str:
            try:
                await gate
            except KeyError as exc:
                return f"caught {exc.args[0]}"
            return "no error"

        async def times_out() -> bool:
            try:
                await asyncio.wait_for(asyncio.Event().wait(), 0.01)
            except TimeoutError:
                return True
            return False

        started = start(catches())
        gate.set_exception(KeyError("k"))
        assert started.task is not None
        timed = start(times_out())
        assert timed.task is not None
        return await started.task, await timed.task

    assert asyncio.run(main()) == ("caught k", True)


def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    async def main() -> list[str]:
        events: list[str] = []

        async def waits() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                events.append("cancelled inside")
                raise

        started = start(waits())
        assert started.task is not None
        await asyncio.sleep(0)
        started.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await started.task
        assert started.task.cancelled()
        return events

    assert asyncio.run(main()) == ["cancelled inside"]
