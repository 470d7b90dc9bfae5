"""Start a coroutine now, and make a task only if it has to wait (Python 3.12's eager tasks).

Most requests finish without waiting (acks=1 Produce, Metadata, a Fetch with data ready): run
as a task each would cost a task and a loop turn. `start` runs the coroutine's first step in
the caller; if it finishes there the outcome is returned at once, else a task carries on from
where it stopped, exactly as a task would have (the coroutine re-reads the future it awaited,
so results, exceptions and cancellation reach it the usual way).

Only for coroutines whose first step needs no current task (no `asyncio.timeout`, no
`current_task()`): the connection uses it for the pipelined APIs only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Started(Generic[T]):
    """Either a finished outcome (`task` None: `result` or `error`) or the task finishing it."""

    __slots__ = ("error", "result", "task")

    def __init__(
        self,
        task: asyncio.Task[T] | None,
        result: T | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.task = task
        self.result = result
        self.error = error

    def done(self) -> bool:
        return self.task is None or self.task.done()

    def outcome(self) -> T | None:
        """The result; raises the coroutine's exception (CancelledError if cancelled)."""
        if self.task is not None:
            return self.task.result()
        if self.error is not None:
            raise self.error
        return self.result


def start(coro: Coroutine[Any, Any, T]) -> Started[T]:
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return Started(None, stop.value)
    except Exception as exc:  # noqa: BLE001 - handed to whoever reads the outcome
        return Started(None, None, exc)
    return Started(asyncio.get_running_loop().create_task(_finish(coro, yielded)))


async def _finish(coro: Coroutine[Any, Any, T], yielded: Any) -> T:
    """Drive `coro` from the point where it yielded `yielded` (a future, or None for a bare
    yield as in `asyncio.sleep(0)`), the way Task.__step does."""
    try:
        while True:
            error: BaseException | None = None
            try:
                if yielded is None:
                    await asyncio.sleep(0)
                else:
                    # the coroutine's await marked the future blocking for a task to take over
                    # (Task.__step resets it); awaiting it again here needs it reset too
                    yielded._asyncio_future_blocking = False
                    await yielded
            except asyncio.CancelledError as exc:
                # this task was cancelled: if that cancelled the future, the coroutine sees it
                # when it reads the future; otherwise it is thrown in
                if yielded is None or not yielded.cancelled():
                    error = exc
            except Exception:  # noqa: BLE001 - the future's own: the coroutine reads it
                pass
            try:
                yielded = coro.throw(error) if error is not None else coro.send(None)
            except StopIteration as stop:
                result: T = stop.value
                return result
    finally:
        coro.close()  # a no-op once finished; ends it cleanly if this task never got there
