"""What the pure coordinator hands back: records to persist and responses to send.

A response goes out only after its records are committed to __consumer_offsets (acks=all);
if the append fails, `with_error` gives the same response carrying the failure instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kcli.broker.group.member import OffsetAndMetadata, Token
from kcli.protocol.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class Record:
    """One record for the __consumer_offsets partition `partition`; value None = tombstone."""

    partition: int
    key: bytes
    value: bytes | None


@dataclass(frozen=True, slots=True)
class JoinResponse:
    error: ErrorCode
    generation: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    member_id: str = ""
    members: tuple[tuple[str, str | None, bytes], ...] = ()  # leader only: id, instance, metadata

    def with_error(self, error: ErrorCode) -> JoinResponse:
        return replace(self, error=error)


@dataclass(frozen=True, slots=True)
class SyncResponse:
    error: ErrorCode
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""

    def with_error(self, error: ErrorCode) -> SyncResponse:
        return SyncResponse(error, self.protocol_type, self.protocol_name)


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """Heartbeat and the other single-code answers."""

    error: ErrorCode

    def with_error(self, error: ErrorCode) -> ErrorResponse:
        return ErrorResponse(error)


@dataclass(frozen=True, slots=True)
class LeaveResponse:
    error: ErrorCode  # group-level (Dead group); members carry their own codes
    members: tuple[tuple[str, str | None, ErrorCode], ...] = ()

    def with_error(self, error: ErrorCode) -> LeaveResponse:
        return LeaveResponse(error, tuple((m, i, error) for m, i, _ in self.members))


@dataclass(frozen=True, slots=True)
class PartitionErrors:
    """OffsetCommit / OffsetDelete: a top-level code and one per (topic, partition)."""

    error: ErrorCode
    partitions: dict[tuple[str, int], ErrorCode] = field(default_factory=dict)

    def with_error(self, error: ErrorCode) -> PartitionErrors:
        return PartitionErrors(self.error, dict.fromkeys(self.partitions, error))


@dataclass(frozen=True, slots=True)
class OffsetFetchResult:
    error: ErrorCode
    offsets: dict[tuple[str, int], OffsetAndMetadata | None] = field(default_factory=dict)
    unstable: frozenset[tuple[str, int]] = frozenset()  # commits in flight (require_stable)


@dataclass(frozen=True, slots=True)
class GroupsResult:
    """DeleteGroups: a code per group."""

    errors: dict[str, ErrorCode]

    def with_error(self, error: ErrorCode) -> GroupsResult:
        return GroupsResult(
            {g: error if e == ErrorCode.none else e for g, e in self.errors.items()}
        )


@dataclass(slots=True)
class CoordinatorResult:
    """records: to append before anything is answered; response: the calling request's answer
    (None while it is parked under its token); replies: answers to parked requests;
    commits: offsets to apply (`complete_commits`) once the append succeeded."""

    records: list[Record] = field(default_factory=list)
    response: Any = None
    replies: list[tuple[Token, Any]] = field(default_factory=list)
    # Offsets that take effect once `records` are committed (Kafka's pendingOffsetCommits).
    commits: list[tuple[str, tuple[str, int], OffsetAndMetadata]] = field(default_factory=list)

    def extend(self, other: CoordinatorResult) -> None:
        self.records.extend(other.records)
        self.replies.extend(other.replies)
        self.commits.extend(other.commits)
