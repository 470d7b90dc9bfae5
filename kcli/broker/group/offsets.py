"""The coordinator's offset side and the group administration APIs (pure, like coordinator.py):
OffsetCommit/OffsetFetch, DescribeGroups/ListGroups, DeleteGroups/OffsetDelete, offsets
retention, and `replay`, which rebuilds groups and offsets from __consumer_offsets records.

Records written: an OffsetCommit record per committed partition (value v3, or v1 when the
commit carried a retention time), and tombstones (null values) when offsets or groups go away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kcli.broker.group.group import Group, TopicPartitionKey
from kcli.broker.group.member import Member, MemberSummary, OffsetAndMetadata
from kcli.broker.group.results import (
    CoordinatorResult,
    GroupsResult,
    JoinResponse,
    OffsetFetchResult,
    PartitionErrors,
    Record,
    SyncResponse,
)
from kcli.broker.group.state import GroupState
from kcli.protocol.errors import ErrorCode
from kcli.protocol.offsets_schema import (
    CONSUMER_PROTOCOL_TYPE,
    GroupMetadataKey,
    OffsetCommitKey,
    OffsetCommitValue,
    encode_key,
    encode_offset_commit_value,
    parse_group_metadata_value,
    parse_key,
    parse_offset_commit_value,
)

if TYPE_CHECKING:
    from kcli.broker.group.requests import GroupConfig

S = GroupState
E = ErrorCode


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """DescribeGroups' answer for one group: metadata and assignments only when Stable."""

    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[MemberSummary, ...]


class OffsetsMixin:
    groups: dict[str, Group]
    config: GroupConfig

    def _new_group(self, group_id: str, now: int) -> Group:
        raise NotImplementedError

    def _metadata_record(self, group: Group) -> Record:
        raise NotImplementedError

    # -- OffsetCommit / OffsetFetch ---------------------------------------------------------

    def commit_offsets(
        self,
        group_id: str,
        *,
        member_id: str,
        instance_id: str | None,
        generation: int,
        offsets: dict[TopicPartitionKey, OffsetAndMetadata],
        now: int,
    ) -> CoordinatorResult:
        """Kafka's handleCommitOffsets. Generation -1 from an empty member id is a simple
        consumer's (or an admin's) commit, accepted while the group has no members."""

        def fail(code: ErrorCode) -> CoordinatorResult:
            return CoordinatorResult(response=PartitionErrors(code, dict.fromkeys(offsets, code)))

        group = self.groups.get(group_id)
        if group is None:
            if generation >= 0:
                return fail(E.illegal_generation)
            group = self._new_group(group_id, now)
        elif group.is_(S.DEAD):
            return fail(E.coordinator_not_available)
        elif group.is_fenced_static(member_id, instance_id):
            return fail(E.fenced_instance_id)
        elif not (generation < 0 and group.is_(S.EMPTY)):
            if group.is_(S.COMPLETING_REBALANCE):
                return fail(E.rebalance_in_progress)
            if member_id not in group.members:
                return fail(E.unknown_member_id)
            if generation != group.generation:
                return fail(E.illegal_generation)
            member = group.members[member_id]
            member.heartbeat_deadline_ms = now + member.session_timeout_ms
        result = CoordinatorResult()
        errors: dict[TopicPartitionKey, ErrorCode] = {}
        for (topic, partition), given in offsets.items():
            if len(given.metadata.encode()) > self.config.max_metadata_size:
                errors[(topic, partition)] = E.offset_metadata_too_large
                continue
            om = OffsetAndMetadata(
                given.offset, given.leader_epoch, given.metadata, now, given.expire_timestamp_ms
            )
            tp = (topic, partition)
            group.pending_offsets[tp] = group.pending_offsets.get(tp, 0) + 1
            errors[tp] = E.none
            result.records.append(_offset_record(group, topic, partition, om))
            result.commits.append((group_id, tp, om))
        result.response = PartitionErrors(E.none, errors)
        return result

    def complete_commits(
        self, commits: list[tuple[str, TopicPartitionKey, OffsetAndMetadata]], success: bool
    ) -> None:
        """The OffsetCommit records of `commits` were appended (or failed): apply them, as
        Kafka's onOffsetCommitAppend; a group deleted meanwhile keeps nothing."""
        for group_id, tp, om in commits:
            group = self.groups.get(group_id)
            if group is None:
                continue
            left = group.pending_offsets.get(tp, 0) - 1
            if left > 0:
                group.pending_offsets[tp] = left
            else:
                group.pending_offsets.pop(tp, None)
            if success and not group.is_(S.DEAD):
                group.offsets[tp] = om

    def fetch_offsets(
        self, group_id: str, partitions: list[TopicPartitionKey] | None
    ) -> OffsetFetchResult:
        """Committed offsets of the partitions (all of the group's when None); partitions
        without one answer None (the handler sends offset -1). `unstable` names partitions
        with a commit still being written (require_stable answers UNSTABLE_OFFSET_COMMIT)."""
        group = self.groups.get(group_id)
        if group is None or group.is_(S.DEAD):
            return OffsetFetchResult(E.none, dict.fromkeys(partitions or [], None))
        pending = frozenset(group.pending_offsets)
        if partitions is None:
            return OffsetFetchResult(E.none, dict(group.offsets), pending)
        offsets = {tp: group.offsets.get(tp) for tp in partitions}
        return OffsetFetchResult(E.none, offsets, pending & frozenset(partitions))

    # -- administration --------------------------------------------------------------------

    def describe_group(self, group_id: str) -> GroupSummary:
        group = self.groups.get(group_id)
        if group is None:
            return GroupSummary(group_id, S.DEAD.value, "", "", ())
        stable = group.is_(S.STABLE)
        return GroupSummary(
            group_id,
            group.state.value,
            group.protocol_type or "",
            (group.protocol_name or "") if stable else "",
            tuple(
                MemberSummary(
                    m.member_id,
                    m.group_instance_id,
                    m.client_id,
                    m.client_host,
                    m.metadata(group.protocol_name) if stable and group.protocol_name else b"",
                    m.assignment if stable else b"",
                )
                for m in group.members.values()
            ),
        )

    def list_groups(self, states: Iterable[GroupState] | None = None) -> list[Group]:
        wanted = set(states) if states is not None else None
        return [
            g
            for g in self.groups.values()
            if not g.is_(S.DEAD) and (wanted is None or g.state in wanted)
        ]

    def delete_groups(self, group_ids: list[str], now: int) -> CoordinatorResult:
        errors: dict[str, ErrorCode] = {}
        result = CoordinatorResult()
        for group_id in group_ids:
            group = self.groups.get(group_id)
            if group is None or group.is_(S.DEAD):
                errors[group_id] = E.group_id_not_found
            elif not group.is_(S.EMPTY):
                errors[group_id] = E.non_empty_group
            else:
                result.records.extend(self._remove_group(group, now))
                errors[group_id] = E.none
        result.response = GroupsResult(errors)
        return result

    def delete_offsets(
        self, group_id: str, partitions: list[TopicPartitionKey], now: int
    ) -> CoordinatorResult:
        """OffsetDelete: an Empty group loses any offsets; an active consumer group only those
        of topics no member subscribes to."""
        group = self.groups.get(group_id)
        if group is None or group.is_(S.DEAD):
            return CoordinatorResult(response=PartitionErrors(E.group_id_not_found))
        subscribed: set[str] = set()
        if not group.is_(S.EMPTY):
            topics = group.subscribed_topics()
            if topics is None:
                return CoordinatorResult(response=PartitionErrors(E.non_empty_group))
            subscribed = topics
        result = CoordinatorResult()
        errors: dict[TopicPartitionKey, ErrorCode] = {}
        for topic, partition in partitions:
            if topic in subscribed:
                errors[(topic, partition)] = E.group_subscribed_to_topic
                continue
            errors[(topic, partition)] = E.none
            if group.offsets.pop((topic, partition), None) is not None:
                result.records.append(_offset_record(group, topic, partition, None))
        top = (
            E.group_subscribed_to_topic
            if E.group_subscribed_to_topic in errors.values()
            else E.none
        )
        result.response = PartitionErrors(top, errors)
        return result

    def _remove_group(self, group: Group, now: int) -> list[Record]:
        """Group and all its offsets gone: tombstones for each, the group Dead."""
        records = [_offset_record(group, t, p, None) for t, p in group.offsets]
        records.append(Record(group.partition, encode_key(GroupMetadataKey(group.group_id)), None))
        group.offsets.clear()
        group.transition_to(S.DEAD, now)
        del self.groups[group.group_id]
        return records

    def expire_offsets(self, now: int) -> CoordinatorResult:
        """offsets.retention.minutes (KIP-211): offsets of an Empty group expire a retention
        period after it became Empty; a Stable consumer group's offsets only for topics it no
        longer subscribes to; a simple group's a retention period after their commit. An Empty
        group left without offsets is removed."""
        retention = self.config.offsets_retention_ms
        result = CoordinatorResult()
        for group in list(self.groups.values()):
            subscribed: set[str] = set()
            if group.protocol_type is None:
                base = None
            elif group.is_(S.EMPTY):
                base = group.state_timestamp_ms if group.state_timestamp_ms > 0 else None
            elif group.protocol_type == CONSUMER_PROTOCOL_TYPE and group.is_(S.STABLE):
                topics = group.subscribed_topics()
                if topics is None:
                    continue
                subscribed, base = topics, None
            else:
                continue
            for (topic, partition), om in list(group.offsets.items()):
                if topic in subscribed:
                    continue
                if om.expire_timestamp_ms >= 0:
                    expired = now >= om.expire_timestamp_ms
                else:
                    expired = (
                        now - (base if base is not None else om.commit_timestamp_ms) >= retention
                    )
                if expired:
                    del group.offsets[(topic, partition)]
                    result.records.append(_offset_record(group, topic, partition, None))
            if group.is_(S.EMPTY) and not group.offsets:
                result.records.extend(self._remove_group(group, now))
        return result

    # -- loading ---------------------------------------------------------------------------

    def replay(self, key: bytes, value: bytes | None, now: int) -> None:
        """Apply one __consumer_offsets record (log order). Raises SchemaError on bad bytes."""
        parsed = parse_key(key)
        group = self.groups.get(parsed.group)
        if isinstance(parsed, OffsetCommitKey):
            tp = (parsed.topic, parsed.partition)
            if value is None:
                if group is not None:
                    group.offsets.pop(tp, None)
                return
            v = parse_offset_commit_value(value)
            if group is None:
                group = self._new_group(parsed.group, now)
            group.offsets[tp] = OffsetAndMetadata(
                v.offset, v.leader_epoch, v.metadata, v.commit_timestamp, v.expire_timestamp
            )
            return
        if value is None:
            if group is not None and not group.offsets:
                del self.groups[parsed.group]
            elif group is not None:
                group.members.clear()
                group.static_members.clear()
                group.state = S.EMPTY
            return
        gm = parse_group_metadata_value(value)
        if group is None:
            group = self._new_group(parsed.group, now)
        group.generation = gm.generation
        group.protocol_type = gm.protocol_type
        group.protocol_name = gm.protocol
        group.leader_id = gm.leader
        group.members.clear()
        group.static_members.clear()
        group.pending.clear()
        for m in gm.members:
            member = Member(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                rebalance_timeout_ms=m.rebalance_timeout
                if m.rebalance_timeout >= 0
                else m.session_timeout,
                session_timeout_ms=m.session_timeout,
                protocol_type=gm.protocol_type,
                protocols=[(gm.protocol, m.subscription)] if gm.protocol else [],
                assignment=m.assignment,
                heartbeat_deadline_ms=now + m.session_timeout,
            )
            group.members[m.member_id] = member
            if m.group_instance_id is not None:
                group.static_members[m.group_instance_id] = m.member_id
        group.state = S.STABLE if group.members else S.EMPTY
        group.state_timestamp_ms = (
            gm.current_state_timestamp if gm.current_state_timestamp >= 0 else now
        )
        group.join = None

    def unload_partition(self, partition: int, now: int) -> CoordinatorResult:
        """This broker no longer leads `partition`: forget its groups; parked requests learn
        NOT_COORDINATOR and find the new coordinator."""
        result = CoordinatorResult()
        for group in [g for g in self.groups.values() if g.partition == partition]:
            for m in group.members.values():
                if m.join_waiter is not None:
                    result.replies.append((m.join_waiter, JoinResponse(E.not_coordinator)))
                if m.sync_waiter is not None:
                    result.replies.append((m.sync_waiter, SyncResponse(E.not_coordinator)))
            group.transition_to(S.DEAD, now)
            del self.groups[group.group_id]
        return result


def _offset_record(
    group: Group, topic: str, partition: int, om: OffsetAndMetadata | None
) -> Record:
    key = encode_key(OffsetCommitKey(group.group_id, topic, partition))
    if om is None:
        return Record(group.partition, key, None)
    value = OffsetCommitValue(
        om.offset,
        om.metadata,
        om.commit_timestamp_ms,
        om.leader_epoch,
        om.expire_timestamp_ms,
        version=1 if om.expire_timestamp_ms >= 0 else 3,
    )
    return Record(group.partition, key, encode_offset_commit_value(value))
