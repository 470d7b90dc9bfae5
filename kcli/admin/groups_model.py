"""What `kcli consumer-groups` works with, independent of the client that fetched it.

Plain data (a group's description, its members, one offsets row) and the pure step that turns a
description plus committed and log-end offsets into Kafka's describe rows (ConsumerGroupCommand
collectGroupsOffsets): members with partitions first, most partitions first, then partitions
that have a committed offset but no owner, with `-` for the member columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TP = tuple[str, int]

# Kafka's ConsumerGroupState names (the classic protocol's states).
GROUP_STATES = ("PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty")
REBALANCING = ("PreparingRebalance", "CompletingRebalance")

# Kafka's Errors: code -> (exception class, default message); what Kafka's tool prints for
# a broker error (Java's `exception.toString` or `getMessage`).
KAFKA_ERRORS: dict[int, tuple[str, str]] = {
    3: ("UnknownTopicOrPartitionException", "This server does not host this topic-partition."),
    14: ("CoordinatorLoadInProgressException",
         "The coordinator is loading and hence can't process requests."),
    15: ("CoordinatorNotAvailableException", "The coordinator is not available."),
    16: ("NotCoordinatorException", "This is not the correct coordinator."),
    24: ("InvalidGroupIdException", "The configured groupId is invalid."),
    25: ("UnknownMemberIdException", "The coordinator is not aware of this member."),
    27: ("RebalanceInProgressException", "The group is rebalancing, so a rejoin is needed."),
    29: ("TopicAuthorizationException", "Topic authorization failed."),
    30: ("GroupAuthorizationException", "Group authorization failed."),
    68: ("GroupNotEmptyException", "The group is not empty."),
    69: ("GroupIdNotFoundException", "The group id does not exist."),
    86: ("GroupSubscribedToTopicException",
         "Deleting offsets of a topic is forbidden while the consumer group is actively "
         "subscribed to it."),
}  # fmt: skip


def error_message(code: int, fallback: str = "") -> str:
    """Kafka's default message for an error code (the exception's getMessage)."""
    known = KAFKA_ERRORS.get(code)
    return known[1] if known else (fallback or f"Kafka error code {code}")


def error_string(code: int, fallback: str = "") -> str:
    """Java's `exception.toString`: class name, colon, message."""
    known = KAFKA_ERRORS.get(code)
    if known is None:
        return fallback or f"Kafka error code {code}"
    return f"org.apache.kafka.common.errors.{known[0]}: {known[1]}"


def tp_text(tp: TP) -> str:
    """Java's TopicPartition.toString: `topic-partition`."""
    return f"{tp[0]}-{tp[1]}"


@dataclass(frozen=True)
class Coordinator:
    id: int
    host: str
    port: int

    def text(self) -> str:
        return f"{self.host}:{self.port} ({self.id})"


@dataclass(frozen=True)
class Member:
    consumer_id: str
    client_id: str
    host: str
    group_instance_id: str | None
    assignment: tuple[TP, ...]


@dataclass(frozen=True)
class GroupDescription:
    group: str
    state: str  # one of GROUP_STATES, or "Unknown"
    coordinator: Coordinator | None
    assignment_strategy: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class GroupListing:
    group: str
    state: str


@dataclass(frozen=True)
class OffsetRow:
    group: str
    topic: str
    partition: int
    current_offset: int | None
    log_end_offset: int | None
    consumer_id: str | None  # None: no member owns it (Kafka prints `-`)
    host: str | None
    client_id: str | None

    @property
    def lag(self) -> int | None:
        if self.current_offset is None or self.current_offset == -1:
            return None
        if self.log_end_offset is None:
            return None
        return self.log_end_offset - self.current_offset


@dataclass(frozen=True)
class GroupOffsets:
    description: GroupDescription
    rows: tuple[OffsetRow, ...]

    @property
    def total_lag(self) -> int | None:
        """Sum of the known lags (kcli's extra); None when no row has one."""
        lags = [r.lag for r in self.rows if r.lag is not None]
        return sum(lags) if lags else None


def offset_rows(
    desc: GroupDescription, committed: Mapping[TP, int], log_end: Mapping[TP, int | None]
) -> tuple[OffsetRow, ...]:
    """Kafka's describe rows. Within a member Kafka sorts by partition only and then iterates a
    hash map, so its order is unspecified; kcli sorts by (topic, partition)."""
    rows: list[OffsetRow] = []
    owned: set[TP] = set()
    members = [m for m in desc.members if m.assignment]
    members.sort(key=lambda m: -len(m.assignment))  # stable, as Scala's sortWith
    for member in members:
        for tp in sorted(member.assignment):
            owned.add(tp)
            rows.append(
                OffsetRow(desc.group, tp[0], tp[1], committed.get(tp), log_end.get(tp),
                          member.consumer_id, member.host, member.client_id)
            )  # fmt: skip
    rows.extend(
        OffsetRow(desc.group, tp[0], tp[1], committed[tp], log_end.get(tp), None, None, None)
        for tp in sorted(set(committed) - owned)
    )
    return tuple(rows)


def partitions_of_rows(
    groups: list[GroupDescription], committed: Mapping[str, Mapping[TP, int]]
) -> set[TP]:
    """Every partition a describe needs a log-end offset for."""
    wanted: set[TP] = set()
    for desc in groups:
        for member in desc.members:
            wanted.update(member.assignment)
        wanted.update(committed.get(desc.group, {}))
    return wanted
