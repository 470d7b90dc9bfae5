"""The leader's view of its followers and Kafka's ISR rules (Replica.scala, Partition.scala).

Pure bookkeeping, no I/O: the leader feeds each follower fetch into `FollowerState`, asks
`IsrState` which replicas may join or must leave, and commits a change only after ZooKeeper
took it (kcli.broker.controller.isr_updates).

Kafka's rules, as of 3.x in ZooKeeper mode:

- A fetch at `fetch_offset` means the follower's log end offset (LEO) is `fetch_offset`.
  `last_caught_up_ms` becomes the fetch time when `fetch_offset >= leader LEO now`, else the
  previous fetch time when `fetch_offset >= the leader LEO at that previous fetch`.
- A follower is in sync while `now - last_caught_up_ms <= replica.lag.time.max.ms` (or its LEO
  equals the leader's); the others are removed by the periodic shrink check.
- A follower joins when its LEO reaches the high watermark and the start of the current leader
  epoch.
- At most one ISR change is in flight per partition. While one is, the "maximal" ISR (current
  plus any replica being added) bounds the high watermark (KIP-497), so a replica being added
  already holds the high watermark back and a replica being removed still does until the
  removal is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNKNOWN_OFFSET = -1


@dataclass(slots=True)
class FollowerState:
    """What the leader knows of one follower, from its fetches."""

    log_end_offset: int = UNKNOWN_OFFSET
    last_caught_up_ms: int = 0
    last_fetch_leader_leo: int = UNKNOWN_OFFSET
    last_fetch_ms: int = 0

    def update_fetch_state(self, fetch_offset: int, leader_leo: int, now_ms: int) -> None:
        """Kafka's Replica.updateFetchStateOrThrow."""
        if fetch_offset >= leader_leo:
            self.last_caught_up_ms = max(self.last_caught_up_ms, now_ms)
        elif fetch_offset >= self.last_fetch_leader_leo >= 0:
            self.last_caught_up_ms = max(self.last_caught_up_ms, self.last_fetch_ms)
        self.log_end_offset = fetch_offset
        self.last_fetch_leader_leo = leader_leo
        self.last_fetch_ms = now_ms

    def is_caught_up(self, leader_leo: int, now_ms: int, lag_max_ms: int) -> bool:
        """Kafka's Replica.isCaughtUp."""
        return self.log_end_offset == leader_leo or now_ms - self.last_caught_up_ms <= lag_max_ms

    def reset(self, now_ms: int, in_isr: bool) -> None:
        """A new leadership term: nothing known of the follower's log yet. An in-sync follower
        counts as caught up now, so it has a full lag period to fetch (Kafka's
        resetReplicaState with lastCaughtUpTimeMs = now for ISR members)."""
        self.log_end_offset = UNKNOWN_OFFSET
        self.last_fetch_leader_leo = UNKNOWN_OFFSET
        self.last_fetch_ms = now_ms
        self.last_caught_up_ms = now_ms if in_isr else 0


@dataclass(slots=True)
class IsrState:
    """The committed ISR and the change in flight, if any (Kafka's PartitionState variants
    CommittedPartitionState / PendingExpandIsr / PendingShrinkIsr)."""

    isr: tuple[int, ...] = ()
    pending: tuple[int, ...] | None = None  # proposed ISR, not yet in ZooKeeper
    # A conditional write lost against this zkVersion: propose nothing more until the
    # controller's LeaderAndIsr brings a newer state.
    blocked_at_version: int | None = None
    _maximal: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        self._maximal = self.isr

    @property
    def maximal(self) -> tuple[int, ...]:
        """The replicas whose LEO bounds the high watermark now."""
        return self._maximal

    @property
    def in_flight(self) -> bool:
        return self.pending is not None

    def reset(self, isr: tuple[int, ...]) -> None:
        """A committed state from the controller (LeaderAndIsr) replaces everything."""
        self.isr = tuple(isr)
        self.pending = None
        self.blocked_at_version = None
        self._maximal = self.isr

    def propose(self, new_isr: tuple[int, ...]) -> None:
        assert self.pending is None, "one ISR change at a time"
        self.pending = tuple(new_isr)
        # Expansion counts the new member at once; shrinking waits for the commit.
        self._maximal = tuple(dict.fromkeys(self.isr + self.pending))

    def commit(self) -> None:
        assert self.pending is not None
        self.isr = self.pending
        self.pending = None
        self._maximal = self.isr

    def abort(self, zk_version: int | None = None) -> None:
        """The write failed; with `zk_version`, because the znode had changed under us."""
        self.pending = None
        self._maximal = self.isr
        if zk_version is not None:
            self.blocked_at_version = zk_version


def out_of_sync_replicas(
    leader_id: int,
    isr: tuple[int, ...],
    followers: dict[int, FollowerState],
    *,
    leader_leo: int,
    now_ms: int,
    lag_max_ms: int,
) -> list[int]:
    """Kafka's Partition.getOutOfSyncReplicas: in-sync followers that have not caught up
    within `lag_max_ms` (the leader itself is never out of sync)."""
    out = []
    for replica in isr:
        if replica == leader_id:
            continue
        state = followers.get(replica)
        if state is None or not state.is_caught_up(leader_leo, now_ms, lag_max_ms):
            out.append(replica)
    return out


def may_join_isr(follower_leo: int, high_watermark: int, leader_epoch_start_offset: int) -> bool:
    """Kafka's Partition.isFollowerInSync: caught up to the high watermark and into the
    current leader epoch."""
    return (
        follower_leo >= 0
        and follower_leo >= high_watermark
        and follower_leo >= leader_epoch_start_offset
    )


def new_high_watermark(
    leader_id: int,
    leader_leo: int,
    maximal_isr: tuple[int, ...],
    followers: dict[int, FollowerState],
    *,
    now_ms: int,
    lag_max_ms: int,
) -> int | None:
    """Kafka's Partition.maybeIncrementLeaderHW: the min LEO over the leader, the maximal ISR
    and any follower outside it that is caught up (so a recovering follower can reach the high
    watermark and join). None while an ISR member's LEO is still unknown (a new leader has
    not heard from it yet): Kafka's unknown offset keeps the high watermark where it is."""
    hw = leader_leo
    for replica, state in followers.items():
        if replica == leader_id:
            continue
        if replica in maximal_isr:
            if state.log_end_offset < 0:
                return None
            hw = min(hw, state.log_end_offset)
        elif state.log_end_offset >= 0 and state.is_caught_up(leader_leo, now_ms, lag_max_ms):
            hw = min(hw, state.log_end_offset)
    for replica in maximal_isr:  # an ISR member we track no state for at all
        if replica != leader_id and replica not in followers:
            return None
    return hw
