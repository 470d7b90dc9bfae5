"""SyncRequestProcessor: the thread that makes logged txns durable (group commit).

The event loop appends txns to the FileTxnLog buffer and calls `request(zxid)`; this thread
wakes, writes and fsyncs everything buffered so far in one commit, then reports the highest
zxid it covered back to the loop with `call_soon_threadsafe`. Txns appended while an fsync
runs are picked up by the next one, so concurrent writers share fsyncs. The fsync never runs
on the loop thread, and no executor or future sits between the two (each hop costs latency
on every acknowledged write).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

from kcli.zookeeper.persistence import FileTxnLog


class SyncRequestProcessor(threading.Thread):
    def __init__(
        self,
        txnlog: FileTxnLog,
        loop: asyncio.AbstractEventLoop,
        on_committed: Callable[[int, float], None],
        on_failed: Callable[[BaseException], None],
    ) -> None:
        super().__init__(name="zk-sync", daemon=True)
        self.txnlog = txnlog
        self.loop = loop
        self.on_committed = on_committed  # (zxid, fsync ms), called on the loop
        self.on_failed = on_failed
        self._cv = threading.Condition()
        self._requested = 0
        self._stopping = False

    def request(self, zxid: int) -> None:
        """From the loop: txns up to `zxid` are appended; make them durable."""
        with self._cv:
            if zxid > self._requested:
                self._requested = zxid
                self._cv.notify()

    def shutdown(self) -> None:
        """Finish the commit in progress and exit (the log's close() commits the rest)."""
        with self._cv:
            self._stopping = True
            self._cv.notify()
        self.join()

    def run(self) -> None:
        done = 0
        while True:
            with self._cv:
                while self._requested <= done and not self._stopping:
                    self._cv.wait()
                if self._stopping:
                    return
                target = self._requested
            started = time.monotonic()
            try:
                self.txnlog.commit()
            except (OSError, ValueError) as exc:
                self.loop.call_soon_threadsafe(self.on_failed, exc)
                return
            done = target
            elapsed_ms = (time.monotonic() - started) * 1000
            self.loop.call_soon_threadsafe(self.on_committed, target, elapsed_ms)
