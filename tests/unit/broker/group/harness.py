"""A driver for the pure coordinator: tokens, parked replies and a MockClock."""

from __future__ import annotations

import itertools
from typing import Any

from kcli.broker.group.coordinator import GroupConfig, GroupCoordinator, JoinRequest, SyncRequest
from kcli.broker.group.results import CoordinatorResult, Record
from kcli.clock import MockClock
from kcli.protocol.offsets_schema import ConsumerProtocolSubscription, encode_subscription

SESSION_MS = 10_000
REBALANCE_MS = 20_000


def subscription(*topics: str) -> bytes:
    return encode_subscription(ConsumerProtocolSubscription(tuple(topics)))


class Driver:
    def __init__(self, **config: Any) -> None:
        defaults: dict[str, Any] = {"initial_rebalance_delay_ms": 100}
        defaults.update(config)
        ids = itertools.count(1)
        self.coordinator = GroupCoordinator(GroupConfig(**defaults), lambda: f"u{next(ids)}")
        self.config_delay = int(defaults["initial_rebalance_delay_ms"])
        self.clock = MockClock()
        self.tokens = itertools.count(1)
        self.replies: dict[int, Any] = {}
        self.records: list[Record] = []

    @property
    def now(self) -> int:
        return self.clock.time_ms()

    def _take(self, result: CoordinatorResult) -> Any:
        self.records.extend(result.records)
        self.coordinator.complete_commits(result.commits, True)  # as if appended
        for token, reply in result.replies:
            self.replies[token] = reply
        return result.response

    def join(
        self,
        member_id: str = "",
        *,
        group: str = "g",
        instance: str | None = None,
        protocols: list[tuple[str, bytes]] | None = None,
        session_ms: int = SESSION_MS,
        rebalance_ms: int = REBALANCE_MS,
        v4: bool = False,
        protocol_type: str = "consumer",
    ) -> tuple[int, Any]:
        """(token, immediate response or None if parked)."""
        token = next(self.tokens)
        req = JoinRequest(
            group, member_id, instance, protocol_type,
            protocols if protocols is not None else [("range", subscription("t"))],
            session_ms, rebalance_ms, "client", "/127.0.0.1", v4,
        )  # fmt: skip
        return token, self._take(self.coordinator.join_group(req, token, self.now))

    def sync(
        self,
        member_id: str,
        generation: int,
        assignments: dict[str, bytes] | None = None,
        group: str = "g",
        instance: str | None = None,
    ) -> tuple[int, Any]:
        token = next(self.tokens)
        req = SyncRequest(group, generation, member_id, instance, None, None, assignments or {})
        return token, self._take(self.coordinator.sync_group(req, token, self.now))

    def heartbeat(
        self, member_id: str, generation: int, group: str = "g", instance: str | None = None
    ) -> Any:
        return self._take(
            self.coordinator.heartbeat(group, generation, member_id, instance, self.now)
        )

    def leave(self, *members: tuple[str, str | None], group: str = "g") -> Any:
        return self._take(self.coordinator.leave_group(group, list(members), self.now))

    def call(self, result: CoordinatorResult) -> Any:
        return self._take(result)

    def advance(self, ms: int) -> None:
        self.clock.advance(ms)
        self._take(self.coordinator.poll(self.now))

    def finish_join(self, group: str = "g") -> None:
        """Step through the initial delay (extended once per delay while members arrived)."""
        for _ in range(10):
            if self.coordinator.groups[group].join is None:
                return
            self.advance(self.config_delay)

    def settle(self) -> None:
        """Fire every timer due until the next one lies in the future."""
        for _ in range(100):
            deadline = self.coordinator.next_deadline()
            if deadline is None or deadline > self.now:
                return
            self._take(self.coordinator.poll(self.now))

    def stable_pair(self) -> tuple[str, str, int]:
        """Two members through join and sync; returns (leader, follower, generation)."""
        t1, _ = self.join()
        t2, _ = self.join()
        self.finish_join()
        r1, r2 = self.replies.pop(t1), self.replies.pop(t2)
        leader = r1.leader
        assert r1.generation == r2.generation
        follower = r2.member_id if r1.member_id == leader else r1.member_id
        self.sync(follower, r1.generation)
        _, resp = self.sync(leader, r1.generation, {leader: b"A", follower: b"B"})
        assert resp is not None
        return leader, follower, r1.generation
