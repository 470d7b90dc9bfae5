"""`LeaderEpochFileCache`: which leader epoch started at which offset, for one partition.

Backed by `<partition dir>/leader-epoch-checkpoint` (format in checkpoint.py), rewritten
atomically on every change; changes are rare (one per leader change). Entries are strictly
increasing in both epoch and start offset. The broker uses it for OffsetForLeaderEpoch and
follower truncation; `Log` keeps it consistent with the log (truncations, log start moves).
Not thread-safe; owned by its `Log`.
"""

from __future__ import annotations

import bisect
import logging
from pathlib import Path

from kcli.storage.checkpoint import LeaderEpochCheckpointFile
from kcli.storage.errors import CorruptCheckpointError

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1

log = logging.getLogger(__name__)


class LeaderEpochFileCache:
    def __init__(self, path: Path) -> None:
        self._file = LeaderEpochCheckpointFile(path)
        try:
            entries = self._file.read()
        except CorruptCheckpointError as exc:
            log.warning("%s; starting with an empty leader epoch cache", exc)
            entries = []
        self._epochs: list[int] = [e for e, _ in entries]
        self._offsets: list[int] = [o for _, o in entries]
        self.latest_epoch: int | None = self._epochs[-1] if self._epochs else None

    def entries(self) -> list[tuple[int, int]]:
        return list(zip(self._epochs, self._offsets, strict=True))

    def _flush(self) -> None:
        """Persist after every change (and refresh `latest_epoch`, read per append)."""
        self.latest_epoch = self._epochs[-1] if self._epochs else None
        self._file.write(self.entries())

    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that `epoch` starts at `start_offset` (Kafka's assign: a no-op unless the epoch
        is new or starts earlier; conflicting later entries are dropped)."""
        if epoch < 0 or start_offset < 0:
            return
        if self._epochs and self._epochs[-1] == epoch and start_offset >= self._offsets[-1]:
            return
        keep = len(self._epochs)
        while keep > 0 and (
            self._epochs[keep - 1] >= epoch or self._offsets[keep - 1] >= start_offset
        ):
            keep -= 1
        del self._epochs[keep:], self._offsets[keep:]
        self._epochs.append(epoch)
        self._offsets.append(start_offset)
        self._flush()

    def epoch_for_offset(self, offset: int) -> int | None:
        """The epoch in which `offset` was written (latest entry starting at or before it)."""
        i = bisect.bisect_right(self._offsets, offset)
        return self._epochs[i - 1] if i else None

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """(epoch, end offset) answering OffsetForLeaderEpoch, with Kafka's rules."""
        if requested_epoch == UNDEFINED_EPOCH or not self._epochs:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if requested_epoch == self._epochs[-1]:
            return requested_epoch, log_end_offset
        higher = bisect.bisect_right(self._epochs, requested_epoch)
        if higher == len(self._epochs):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if higher == 0:
            return requested_epoch, self._offsets[0]
        return self._epochs[higher - 1], self._offsets[higher]

    def truncate_from_end(self, end_offset: int) -> None:
        """Drop entries starting at or after `end_offset` (the log was truncated there)."""
        keep = bisect.bisect_left(self._offsets, end_offset)
        if keep < len(self._offsets):
            del self._epochs[keep:], self._offsets[keep:]
            self._flush()

    def truncate_from_start(self, start_offset: int) -> None:
        """The log now starts at `start_offset`: drop older entries, moving the last of them up."""
        i = bisect.bisect_right(self._offsets, start_offset)
        if i == 0 or (i == 1 and self._offsets[0] == start_offset):
            return
        epoch = self._epochs[i - 1]
        del self._epochs[:i], self._offsets[:i]
        self._epochs.insert(0, epoch)
        self._offsets.insert(0, start_offset)
        self._flush()

    def clear(self) -> None:
        if self._epochs:
            self._epochs.clear()
            self._offsets.clear()
        self._flush()
