"""GroupCoordinator: Kafka's classic group protocol as a pure state machine.

Every operation takes the current time and returns a CoordinatorResult: the records to append to
__consumer_offsets, the caller's response (None while the request is parked, e.g. a JoinGroup
waiting for the other members) and replies to requests parked earlier. Nothing here awaits,
sleeps or does I/O: the runtime (runtime.py) appends the records, answers after they are
committed, and calls `poll(now)` when `next_deadline()` comes. State is rebuilt from the
partition's records by `replay` (offsets.py), so a new leader of that partition takes over.

The leader's assignment is opaque bytes: the coordinator never looks inside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from kcli.broker.group.group import Group, JoinDeadline
from kcli.broker.group.member import Member, PendingMember, Token
from kcli.broker.group.offsets import OffsetsMixin
from kcli.broker.group.requests import (
    GroupConfig,
    JoinRequest,
    SyncRequest,
    java_string_hashcode,
    partition_for,
)
from kcli.broker.group.results import (
    CoordinatorResult,
    ErrorResponse,
    JoinResponse,
    LeaveResponse,
    Record,
    SyncResponse,
)
from kcli.broker.group.state import GroupState
from kcli.protocol.errors import ErrorCode
from kcli.protocol.offsets_schema import (
    GroupMetadataKey,
    encode_group_metadata_value,
    encode_key,
)

S = GroupState
E = ErrorCode

__all__ = [
    "GroupConfig",
    "GroupCoordinator",
    "JoinRequest",
    "SyncRequest",
    "java_string_hashcode",
    "partition_for",
]


class GroupCoordinator(OffsetsMixin):
    def __init__(
        self, config: GroupConfig, new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())
    ) -> None:
        self.config = config
        self.groups: dict[str, Group] = {}
        self.new_uuid = new_uuid

    def partition_for(self, group_id: str) -> int:
        return partition_for(group_id, self.config.num_partitions)

    def _new_group(self, group_id: str, now: int) -> Group:
        group = Group(group_id, self.partition_for(group_id), state_timestamp_ms=now)
        self.groups[group_id] = group
        return group

    def _metadata_record(self, group: Group) -> Record:
        return Record(
            group.partition,
            encode_key(GroupMetadataKey(group.group_id)),
            encode_group_metadata_value(group.metadata_value()),
        )

    # -- JoinGroup -------------------------------------------------------------------------

    def join_group(self, req: JoinRequest, token: Token, now: int) -> CoordinatorResult:
        def fail(code: ErrorCode, member_id: str = "") -> CoordinatorResult:
            return CoordinatorResult(response=JoinResponse(code, member_id=member_id))

        cfg = self.config
        if not cfg.min_session_timeout_ms <= req.session_timeout_ms <= cfg.max_session_timeout_ms:
            return fail(E.invalid_session_timeout, req.member_id)
        group = self.groups.get(req.group_id)
        if group is None:
            if req.member_id:
                return fail(E.unknown_member_id, req.member_id)
            group = self._new_group(req.group_id, now)
        if group.is_(S.DEAD):
            return fail(E.coordinator_not_available, req.member_id)
        if not group.supports(req.protocol_type, req.protocols):
            return fail(E.inconsistent_group_protocol, req.member_id)
        if not req.member_id:
            return self._join_unknown(group, req, token, now)
        return self._join_known(group, req, token, now)

    def _join_unknown(
        self, group: Group, req: JoinRequest, token: Token, now: int
    ) -> CoordinatorResult:
        instance = req.group_instance_id
        if len(group.members) + len(group.pending) >= self.config.max_size and not (
            instance is not None and instance in group.static_members
        ):
            return CoordinatorResult(response=JoinResponse(E.group_max_size_reached))
        member_id = f"{instance or req.client_id}-{self.new_uuid()}"
        if instance is not None and instance in group.static_members:
            return self._replace_static_member(group, req, member_id, token, now)
        if req.require_known_member_id and instance is None:
            group.pending[member_id] = PendingMember(member_id, now + req.session_timeout_ms)
            return CoordinatorResult(
                response=JoinResponse(E.member_id_required, member_id=member_id)
            )
        return self._add_member_and_rebalance(group, req, member_id, token, now)

    def _join_known(
        self, group: Group, req: JoinRequest, token: Token, now: int
    ) -> CoordinatorResult:
        member_id = req.member_id
        if member_id in group.pending:
            del group.pending[member_id]
            return self._add_member_and_rebalance(group, req, member_id, token, now)
        if group.is_fenced_static(member_id, req.group_instance_id):
            return CoordinatorResult(
                response=JoinResponse(E.fenced_instance_id, member_id=member_id)
            )
        member = group.members.get(member_id)
        if member is None or group.is_(S.EMPTY):
            return CoordinatorResult(
                response=JoinResponse(E.unknown_member_id, member_id=member_id)
            )
        result = CoordinatorResult()
        if group.is_(S.PREPARING_REBALANCE):
            self._update_member(group, member, req, token, result)
            result.extend(self._maybe_complete_join(group, now))
        elif group.is_(S.COMPLETING_REBALANCE) and member.matches(req.protocols):
            # A retried join of the generation just formed: answer it again.
            result.response = self._join_response(group, member)
        elif group.is_(S.STABLE) and member_id != group.leader_id and member.matches(req.protocols):
            result.response = self._join_response(group, member)
        else:
            self._update_member(group, member, req, token, result)
            result.extend(self._prepare_rebalance(group, now))
        return result

    def _update_member(
        self, group: Group, member: Member, req: JoinRequest, token: Token, out: CoordinatorResult
    ) -> None:
        if member.join_waiter is not None and member.join_waiter != token:
            # The client retried; the older request gets the answer Kafka gives a superseded join.
            out.replies.append((member.join_waiter, JoinResponse(E.unknown_member_id)))
        member.protocols = list(req.protocols)
        member.session_timeout_ms = req.session_timeout_ms
        member.rebalance_timeout_ms = req.rebalance_timeout_ms
        member.join_waiter = token

    def _add_member_and_rebalance(
        self, group: Group, req: JoinRequest, member_id: str, token: Token, now: int
    ) -> CoordinatorResult:
        member = Member(
            member_id=member_id,
            group_instance_id=req.group_instance_id,
            client_id=req.client_id,
            client_host=req.client_host,
            rebalance_timeout_ms=req.rebalance_timeout_ms,
            session_timeout_ms=req.session_timeout_ms,
            protocol_type=req.protocol_type,
            protocols=list(req.protocols),
            join_waiter=token,
            is_new=True,
            heartbeat_deadline_ms=now + req.session_timeout_ms,
        )
        group.add(member)
        if group.is_(S.PREPARING_REBALANCE) and group.join is not None and group.join.initial:
            group.new_member_added = True
        result = CoordinatorResult()
        if group.is_(S.PREPARING_REBALANCE):
            result.extend(self._maybe_complete_join(group, now))
        else:
            result.extend(self._prepare_rebalance(group, now))
        return result

    def _replace_static_member(
        self, group: Group, req: JoinRequest, new_id: str, token: Token, now: int
    ) -> CoordinatorResult:
        """A static member came back with a new member id (KIP-345): take over the old member's
        place and assignment; fence the old id; rebalance only if something changed."""
        assert req.group_instance_id is not None
        old_id = group.static_members[req.group_instance_id]
        old = group.members.pop(old_id)
        result = CoordinatorResult()
        if old.join_waiter is not None:
            result.replies.append(
                (old.join_waiter, JoinResponse(E.fenced_instance_id, member_id=old_id))
            )
        if old.sync_waiter is not None:
            result.replies.append((old.sync_waiter, SyncResponse(E.fenced_instance_id)))
        old.member_id, old.join_waiter, old.sync_waiter = new_id, None, None
        old.client_id, old.client_host = req.client_id, req.client_host
        old.heartbeat_deadline_ms = now + req.session_timeout_ms
        group.members[new_id] = old
        group.static_members[req.group_instance_id] = new_id
        was_leader = group.leader_id == old_id
        if was_leader:
            group.leader_id = new_id
        if group.is_(S.STABLE) and not was_leader and old.matches(req.protocols):
            old.session_timeout_ms = req.session_timeout_ms
            old.rebalance_timeout_ms = req.rebalance_timeout_ms
            result.records.append(self._metadata_record(group))
            result.response = self._join_response(group, old)
            return result
        self._update_member(group, old, req, token, result)
        if group.is_(S.PREPARING_REBALANCE):
            result.extend(self._maybe_complete_join(group, now))
        else:
            result.extend(self._prepare_rebalance(group, now))
        return result

    def _join_response(self, group: Group, member: Member) -> JoinResponse:
        members: tuple[tuple[str, str | None, bytes], ...] = ()
        if member.member_id == group.leader_id and group.protocol_name is not None:
            members = tuple(
                (m.member_id, m.group_instance_id, m.metadata(group.protocol_name))
                for m in group.members.values()
            )
        return JoinResponse(
            E.none,
            group.generation,
            group.protocol_type,
            group.protocol_name,
            group.leader_id or "",
            member.member_id,
            members,
        )

    # -- rebalance phases ------------------------------------------------------------------

    def _prepare_rebalance(self, group: Group, now: int) -> CoordinatorResult:
        result = CoordinatorResult()
        if group.is_(S.COMPLETING_REBALANCE):
            for m in group.members.values():
                m.assignment = b""
                if m.sync_waiter is not None:
                    result.replies.append((m.sync_waiter, SyncResponse(E.rebalance_in_progress)))
                    m.sync_waiter = None
        timeout = group.rebalance_timeout_ms()
        if group.is_(S.EMPTY):
            delay = self.config.initial_rebalance_delay_ms
            group.join = JoinDeadline(now + delay, True, delay, max(timeout - delay, 0))
        else:
            group.join = JoinDeadline(now + timeout)
        group.new_member_added = False
        group.transition_to(S.PREPARING_REBALANCE, now)
        result.extend(self._maybe_complete_join(group, now))
        return result

    def _maybe_complete_join(self, group: Group, now: int) -> CoordinatorResult:
        join = group.join
        if (
            group.is_(S.PREPARING_REBALANCE)
            and join is not None
            and not join.initial
            and group.all_joined()
        ):
            return self._complete_join(group, now)
        return CoordinatorResult()

    def _complete_join(self, group: Group, now: int) -> CoordinatorResult:
        """Kafka's onCompleteJoin: drop members that did not rejoin, open the next generation,
        answer every waiting join (the leader gets the member list)."""
        result = CoordinatorResult()
        for m in [m for m in group.members.values() if not m.is_awaiting_join]:
            group.remove(m.member_id)
        group.join = None
        group.generation += 1
        if group.members:
            group.protocol_name = group.select_protocol()
            group.transition_to(S.COMPLETING_REBALANCE, now)
        else:
            group.protocol_name = None
            group.leader_id = None
            group.transition_to(S.EMPTY, now)
            result.records.append(self._metadata_record(group))
        for m in group.members.values():
            assert m.join_waiter is not None
            result.replies.append((m.join_waiter, self._join_response(group, m)))
            m.join_waiter = None
            m.is_new = False
            m.heartbeat_deadline_ms = now + m.session_timeout_ms
        return result

    def _remove_member(self, group: Group, member_id: str, now: int) -> CoordinatorResult:
        """A member left or expired: Kafka's removeMemberAndUpdateGroup."""
        result = CoordinatorResult()
        member = group.remove(member_id)
        if member is None:
            return result
        if member.join_waiter is not None:
            result.replies.append((member.join_waiter, JoinResponse(E.unknown_member_id)))
        if member.sync_waiter is not None:
            result.replies.append((member.sync_waiter, SyncResponse(E.unknown_member_id)))
        if group.is_(S.STABLE, S.COMPLETING_REBALANCE):
            result.extend(self._prepare_rebalance(group, now))
        elif group.is_(S.PREPARING_REBALANCE):
            result.extend(self._maybe_complete_join(group, now))
        return result

    # -- SyncGroup / Heartbeat / LeaveGroup -------------------------------------------------

    def sync_group(self, req: SyncRequest, token: Token, now: int) -> CoordinatorResult:
        def fail(code: ErrorCode) -> CoordinatorResult:
            return CoordinatorResult(response=SyncResponse(code))

        group_id, member_id, instance_id = req.group_id, req.member_id, req.group_instance_id
        protocol_type, protocol_name = req.protocol_type, req.protocol_name
        group = self.groups.get(group_id)
        if group is None or group.is_(S.DEAD):
            return fail(E.unknown_member_id if group is None else E.coordinator_not_available)
        if group.is_fenced_static(member_id, instance_id):
            return fail(E.fenced_instance_id)
        member = group.members.get(member_id)
        if member is None:
            return fail(E.unknown_member_id)
        if req.generation != group.generation:
            return fail(E.illegal_generation)
        if (protocol_type is not None and protocol_type != group.protocol_type) or (
            protocol_name is not None and protocol_name != group.protocol_name
        ):
            return fail(E.inconsistent_group_protocol)
        result = CoordinatorResult()
        member.heartbeat_deadline_ms = now + member.session_timeout_ms
        if group.is_(S.EMPTY):
            return fail(E.unknown_member_id)
        if group.is_(S.PREPARING_REBALANCE):
            return fail(E.rebalance_in_progress)
        if group.is_(S.STABLE):
            result.response = SyncResponse(
                E.none, group.protocol_type, group.protocol_name, member.assignment
            )
            return result
        member.sync_waiter = token
        if member_id == group.leader_id:
            for m in group.members.values():
                m.assignment = req.assignments.get(m.member_id, b"")
            group.transition_to(S.STABLE, now)
            result.records.append(self._metadata_record(group))
            for m in group.members.values():
                if m.sync_waiter is None:
                    continue
                reply = SyncResponse(E.none, group.protocol_type, group.protocol_name, m.assignment)
                if m.sync_waiter == token:
                    result.response = reply
                else:
                    result.replies.append((m.sync_waiter, reply))
                m.sync_waiter = None
        return result

    def heartbeat(
        self, group_id: str, generation: int, member_id: str, instance_id: str | None, now: int
    ) -> CoordinatorResult:
        def answer(code: ErrorCode) -> CoordinatorResult:
            return CoordinatorResult(response=ErrorResponse(code))

        group = self.groups.get(group_id)
        if group is None:
            return answer(E.unknown_member_id)
        if group.is_(S.DEAD):
            return answer(E.coordinator_not_available)
        if group.is_fenced_static(member_id, instance_id):
            return answer(E.fenced_instance_id)
        member = group.members.get(member_id)
        if member is None:
            return answer(E.unknown_member_id)
        if generation != group.generation:
            return answer(E.illegal_generation)
        if group.is_(S.EMPTY):
            return answer(E.unknown_member_id)
        member.heartbeat_deadline_ms = now + member.session_timeout_ms
        if group.is_(S.PREPARING_REBALANCE):
            return answer(E.rebalance_in_progress)
        return answer(E.none)

    def leave_group(
        self, group_id: str, members: list[tuple[str, str | None]], now: int
    ) -> CoordinatorResult:
        """Each (member id, instance id) leaves; a static member may leave by instance id
        alone (member id empty)."""
        group = self.groups.get(group_id)
        if group is None:
            unknown = tuple((m, i, E.unknown_member_id) for m, i in members)
            return CoordinatorResult(response=LeaveResponse(E.none, unknown))
        if group.is_(S.DEAD):
            return CoordinatorResult(response=LeaveResponse(E.coordinator_not_available))
        result = CoordinatorResult()
        outcome: list[tuple[str, str | None, ErrorCode]] = []
        for given_id, instance_id in members:
            member_id = given_id
            if instance_id is not None and not member_id:
                member_id = group.static_members.get(instance_id, "")
            if member_id in group.pending:
                del group.pending[member_id]
                outcome.append((member_id, instance_id, E.none))
                result.extend(self._maybe_complete_join(group, now))
                continue
            if group.is_fenced_static(member_id, instance_id):
                outcome.append((member_id, instance_id, E.fenced_instance_id))
            elif member_id not in group.members:
                outcome.append((member_id, instance_id, E.unknown_member_id))
            else:
                outcome.append((member_id, instance_id, E.none))
                result.extend(self._remove_member(group, member_id, now))
        result.response = LeaveResponse(E.none, tuple(outcome))
        return result

    # -- timers ----------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        deadlines: list[int] = []
        for group in self.groups.values():
            if group.join is not None:
                deadlines.append(group.join.deadline_ms)
            deadlines.extend(p.deadline_ms for p in group.pending.values())
            deadlines.extend(
                m.heartbeat_deadline_ms for m in group.members.values() if not _kept_alive(m)
            )
        return min(deadlines, default=None)

    def poll(self, now: int) -> CoordinatorResult:
        """Fire every timer due at `now`: join phases ending, pending member ids and member
        sessions expiring."""
        result = CoordinatorResult()
        for group in list(self.groups.values()):
            join = group.join
            if join is not None and join.deadline_ms <= now and group.is_(S.PREPARING_REBALANCE):
                if join.initial and group.new_member_added and join.remaining_ms > 0:
                    group.new_member_added = False
                    step = min(join.delay_ms, join.remaining_ms)
                    join.remaining_ms = max(join.remaining_ms - join.delay_ms, 0)
                    join.deadline_ms = now + step
                else:
                    result.extend(self._complete_join(group, now))
            for pending in [p for p in group.pending.values() if p.deadline_ms <= now]:
                del group.pending[pending.member_id]
                result.extend(self._maybe_complete_join(group, now))
            expired = [
                m.member_id
                for m in group.members.values()
                if m.heartbeat_deadline_ms <= now and not _kept_alive(m)
            ]
            for member_id in expired:
                result.extend(self._remove_member(group, member_id, now))
        return result


def _kept_alive(member: Member) -> bool:
    """Members parked in a join or sync are not expected to heartbeat (Kafka's shouldKeepAlive)."""
    return member.is_awaiting_join or member.is_awaiting_sync
