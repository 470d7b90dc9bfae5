"""One member of a classic group (Kafka's MemberMetadata), as the coordinator keeps it.

Waiting is represented by tokens, not callbacks: `join_waiter` / `sync_waiter` name the parked
JoinGroup / SyncGroup request that the runtime answers when the coordinator returns a reply for
that token. The coordinator itself never awaits anything.
"""

from __future__ import annotations

from dataclasses import dataclass

Token = int  # identifies one parked request; the runtime maps it to a future


@dataclass(slots=True)
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]  # (assignor name, subscription metadata), client order
    assignment: bytes = b""
    join_waiter: Token | None = None
    sync_waiter: Token | None = None
    is_new: bool = False  # joined but not yet through a completed join phase
    heartbeat_deadline_ms: int = 0
    join_version: int = 0  # JoinGroup version of the parked request (v4+: member ids required)

    @property
    def is_static(self) -> bool:
        return self.group_instance_id is not None

    @property
    def is_awaiting_join(self) -> bool:
        return self.join_waiter is not None

    @property
    def is_awaiting_sync(self) -> bool:
        return self.sync_waiter is not None

    def protocol_names(self) -> list[str]:
        return [name for name, _ in self.protocols]

    def metadata(self, protocol: str) -> bytes:
        for name, data in self.protocols:
            if name == protocol:
                return data
        raise KeyError(f"member {self.member_id} does not support protocol {protocol}")

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        """Same protocols with the same metadata (a rejoin that changes nothing)."""
        return self.protocols == protocols

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among the group's candidates."""
        return next(name for name in self.protocol_names() if name in candidates)


@dataclass(slots=True)
class PendingMember:
    """A member id handed out with MEMBER_ID_REQUIRED, not yet used to join (KIP-394)."""

    member_id: str
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp_ms: int = -1
    expire_timestamp_ms: int = -1  # only from OffsetCommit v2-4 retention_time


@dataclass(slots=True)
class MemberSummary:
    """DescribeGroups' view of a member."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes = b""
    assignment: bytes = b""
