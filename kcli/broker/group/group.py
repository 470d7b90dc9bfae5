"""One classic group (Kafka's GroupMetadata): members, generation, selected protocol, offsets.

Mutated only by the coordinator; every state change goes through `transition_to`, checked
against state.VALID_PREVIOUS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kcli.broker.group.member import Member, OffsetAndMetadata, PendingMember
from kcli.broker.group.state import GroupState, check_transition
from kcli.protocol.offsets_schema import (
    CONSUMER_PROTOCOL_TYPE,
    GroupMetadataValue,
    MemberMetadata,
    SchemaError,
    parse_subscription,
)

TopicPartitionKey = tuple[str, int]


@dataclass(slots=True)
class JoinDeadline:
    """The pending end of a PreparingRebalance phase (Kafka's DelayedJoin/InitialDelayedJoin).

    `initial` joins never complete early; at `deadline_ms` they extend by another delay while
    new members keep arriving and `remaining_ms` lasts."""

    deadline_ms: int
    initial: bool = False
    delay_ms: int = 0
    remaining_ms: int = 0


@dataclass(slots=True)
class Group:
    group_id: str
    partition: int  # of __consumer_offsets
    state: GroupState = GroupState.EMPTY
    generation: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)  # instance id -> member id
    pending: dict[str, PendingMember] = field(default_factory=dict)
    offsets: dict[TopicPartitionKey, OffsetAndMetadata] = field(default_factory=dict)
    pending_offsets: dict[TopicPartitionKey, int] = field(default_factory=dict)  # in flight
    state_timestamp_ms: int = -1
    join: JoinDeadline | None = None
    new_member_added: bool = False

    def transition_to(self, target: GroupState, now_ms: int) -> None:
        check_transition(self.group_id, self.state, target)
        self.state = target
        self.state_timestamp_ms = now_ms

    def is_(self, *states: GroupState) -> bool:
        return self.state in states

    # -- members -----------------------------------------------------------------------------

    def add(self, member: Member) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        if self.leader_id is None:
            self.leader_id = member.member_id

    def remove(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        instance = member.group_instance_id
        if instance is not None and self.static_members.get(instance) == member_id:
            del self.static_members[instance]
        if self.leader_id == member_id:
            # Prefer a member already waiting to join: it will receive the member list.
            waiting = [m.member_id for m in self.members.values() if m.is_awaiting_join]
            candidates = waiting or list(self.members)
            self.leader_id = candidates[0] if candidates else None
        return member

    def is_fenced_static(self, member_id: str, instance_id: str | None) -> bool:
        """A static member id replaced by a newer join with the same instance id."""
        if instance_id is None:
            return False
        current = self.static_members.get(instance_id)
        return current is not None and current != member_id

    def all_joined(self) -> bool:
        return not self.pending and all(m.is_awaiting_join for m in self.members.values())

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # -- protocols ---------------------------------------------------------------------------

    def candidate_protocols(self) -> set[str]:
        names = [set(m.protocol_names()) for m in self.members.values()]
        return set.intersection(*names) if names else set()

    def supports(self, protocol_type: str, protocols: list[tuple[str, bytes]]) -> bool:
        names = {n for n, _ in protocols}
        if not self.members:
            return bool(protocol_type) and bool(names)
        return protocol_type == self.protocol_type and bool(names & self.candidate_protocols())

    def select_protocol(self) -> str:
        """Every member votes for its most preferred candidate; the most votes win (ties go to
        the protocol listed first by the leader, a stable choice)."""
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for m in self.members.values():
            choice = m.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        order = (
            self.members[self.leader_id].protocol_names()
            if self.leader_id in self.members
            else sorted(candidates)
        )
        return max(order, key=lambda name: (votes.get(name, 0), -order.index(name)))

    def subscribed_topics(self) -> set[str] | None:
        """Topics the consumer members subscribe to; None when unknown (not a consumer group
        or an unreadable subscription)."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        topics: set[str] = set()
        for m in self.members.values():
            data = (
                m.metadata(self.protocol_name)
                if self.protocol_name is not None
                else (m.protocols[0][1] if m.protocols else b"")
            )
            try:
                topics.update(parse_subscription(data).topics)
            except SchemaError:
                return None
        return topics

    # -- persistence -------------------------------------------------------------------------

    def metadata_value(self) -> GroupMetadataValue:
        """The GroupMetadata record (v3: static member ids included)."""
        return GroupMetadataValue(
            protocol_type=self.protocol_type or "",
            generation=self.generation,
            protocol=self.protocol_name,
            leader=self.leader_id,
            members=tuple(
                MemberMetadata(
                    member_id=m.member_id,
                    client_id=m.client_id,
                    client_host=m.client_host,
                    session_timeout=m.session_timeout_ms,
                    subscription=m.metadata(self.protocol_name) if self.protocol_name else b"",
                    assignment=m.assignment,
                    rebalance_timeout=m.rebalance_timeout_ms,
                    group_instance_id=m.group_instance_id,
                )
                for m in self.members.values()
            ),
            current_state_timestamp=self.state_timestamp_ms,
            version=3,
        )
