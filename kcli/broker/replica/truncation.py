"""Where a new follower cuts its log before fetching (KIP-101 / KIP-279), as Kafka's
AbstractFetcherThread.getOffsetTruncationState decides it.

The follower sends OffsetForLeaderEpoch with the latest epoch in its own leader epoch cache;
the leader answers the largest epoch it knows that is <= that one, and where it ends on the
leader. The follower keeps what both logs agree on: up to the end of the largest common epoch.
When the leader's answer names an epoch the follower does not have, the follower first cuts
back to the end of its own largest smaller epoch and asks again (not `completed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


@dataclass(frozen=True, slots=True)
class OffsetTruncationState:
    offset: int
    completed: bool


def offset_truncation_state(
    leader_epoch: int,
    leader_end_offset: int,
    fetch_offset: int,
    replica_end_offset: int,
    local_end_offset_for_epoch: Callable[[int], tuple[int, int]],
) -> OffsetTruncationState:
    """`leader_epoch`/`leader_end_offset`: the leader's answer; `fetch_offset`: the follower's
    initial fetch offset (its high watermark); `local_end_offset_for_epoch(epoch)` ->
    (epoch, end offset) from the follower's own cache, (-1, -1) when it cannot place it."""
    if leader_end_offset == UNDEFINED_EPOCH_OFFSET:
        # The leader knows no such epoch: fall back to the high watermark.
        return OffsetTruncationState(min(fetch_offset, replica_end_offset), True)
    if leader_epoch == UNDEFINED_EPOCH:
        return OffsetTruncationState(min(leader_end_offset, replica_end_offset), True)
    local_epoch, local_end = local_end_offset_for_epoch(leader_epoch)
    if local_epoch == UNDEFINED_EPOCH or local_end == UNDEFINED_EPOCH_OFFSET:
        # The follower kept no epochs there (an old or new log): trust the leader's offset.
        return OffsetTruncationState(min(leader_end_offset, replica_end_offset), True)
    if local_epoch != leader_epoch:
        # We lack the leader's epoch: cut to the end of our largest smaller one, ask again.
        return OffsetTruncationState(min(local_end, replica_end_offset), False)
    return OffsetTruncationState(min(local_end, leader_end_offset, replica_end_offset), True)
