"""The pure group coordinator driven with a MockClock: join/sync/heartbeat flows, rebalances
on join, leave, session expiry and rebalance timeout, static membership, Kafka's error codes."""

from __future__ import annotations

from kcli.broker.group.coordinator import java_string_hashcode, partition_for
from kcli.broker.group.state import GroupState
from kcli.protocol.errors import ErrorCode
from kcli.protocol.offsets_schema import GroupMetadataKey, encode_key, parse_group_metadata_value

from .harness import SESSION_MS, Driver

E = ErrorCode
S = GroupState


def test_partition_is_kafkas_abs_of_java_hashcode() -> None:
    assert java_string_hashcode("") == 0
    assert java_string_hashcode("a") == 97
    assert java_string_hashcode("hello") == 99162322
    # Values printed by Java's String.hashCode (a BMP char is one UTF-16 unit, an emoji two).
    assert java_string_hashcode("group-é") == 293427483
    assert java_string_hashcode("grp-😀") == -1235730613
    assert partition_for("grp-😀", 50) == 13
    assert partition_for("console-consumer-12345", 50) == 6
    # "polygenelubricants".hashCode() == Integer.MIN_VALUE, which Utils.abs maps to 0.
    assert java_string_hashcode("polygenelubricants") == -(2**31)
    assert partition_for("polygenelubricants", 50) == 0
    assert partition_for("hello", 50) == 99162322 % 50
    assert partition_for("Aa", 7) == partition_for("BB", 7)  # equal Java hash codes


def test_first_join_v4_needs_a_member_id_then_the_initial_delay_completes_the_join() -> None:
    d = Driver()
    _, resp = d.join(v4=True)
    assert resp.error == E.member_id_required and resp.member_id.startswith("client-")
    token, resp = d.join(resp.member_id, v4=True)
    assert resp is None  # parked: group.initial.rebalance.delay.ms
    group = d.coordinator.groups["g"]
    assert group.state is S.PREPARING_REBALANCE
    d.advance(99)
    assert token not in d.replies
    d.advance(1)
    joined = d.replies.pop(token)
    assert (joined.error, joined.generation, joined.protocol_name) == (E.none, 1, "range")
    assert joined.leader == joined.member_id and len(joined.members) == 1
    assert group.state is S.COMPLETING_REBALANCE


def test_two_members_join_sync_and_become_stable_with_one_metadata_record() -> None:
    d = Driver()
    leader, follower, generation = d.stable_pair()
    group = d.coordinator.groups["g"]
    assert group.state is S.STABLE and generation == 1
    assert group.members[leader].assignment == b"A"
    assert group.members[follower].assignment == b"B"
    # The follower's parked sync got its assignment once the leader synced.
    assert [r.assignment for r in d.replies.values()] == [b"B"]
    [record] = d.records
    assert record.key == encode_key(GroupMetadataKey("g"))
    assert record.value is not None
    value = parse_group_metadata_value(record.value)
    assert (value.generation, value.leader, value.protocol) == (1, leader, "range")
    # A late follower sync in Stable answers at once.
    _, resp = d.sync(follower, generation)
    assert (resp.error, resp.assignment) == (E.none, b"B")


def test_only_the_leader_gets_the_member_list() -> None:
    d = Driver()
    t1, _ = d.join()
    t2, _ = d.join()
    d.finish_join()
    r1, r2 = d.replies[t1], d.replies[t2]
    assert len(r1.members) == 2 and r2.members == ()
    assert r1.leader == r2.leader == r1.member_id


def test_a_new_member_triggers_a_rebalance_and_heartbeats_say_so() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    t3, resp = d.join()
    assert resp is None
    assert d.coordinator.groups["g"].state is S.PREPARING_REBALANCE
    assert d.heartbeat(leader, gen).error == E.rebalance_in_progress
    t1, _ = d.join(leader)
    assert t3 not in d.replies
    t2, _ = d.join(follower)  # everyone is back: completes without waiting for the timeout
    gens = {d.replies[t].generation for t in (t1, t2, t3)}
    assert gens == {gen + 1}
    assert d.coordinator.groups["g"].state is S.COMPLETING_REBALANCE
    assert d.heartbeat(follower, gen).error == E.illegal_generation
    assert d.heartbeat(follower, gen + 1).error == E.none
    assert d.heartbeat("nobody", gen + 1).error == E.unknown_member_id


def test_leave_triggers_a_rebalance_without_the_member() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    resp = d.leave((follower, None))
    assert resp.members == ((follower, None, E.none),)
    assert d.coordinator.groups["g"].state is S.PREPARING_REBALANCE
    t1, _ = d.join(leader)
    assert d.replies[t1].generation == gen + 1 and len(d.replies[t1].members) == 1
    assert d.leave(("ghost", None)).members == (("ghost", None, E.unknown_member_id),)


def test_session_expiry_removes_the_member_and_rebalances() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    for _ in range(3):  # the leader keeps heartbeating, the follower went silent
        d.advance(SESSION_MS // 3)
        assert d.heartbeat(leader, gen).error == E.none
    d.advance(SESSION_MS // 3)
    group = d.coordinator.groups["g"]
    assert follower not in group.members
    assert group.state is S.PREPARING_REBALANCE
    assert d.heartbeat(leader, gen).error == E.rebalance_in_progress
    t1, _ = d.join(leader)
    assert d.replies[t1].generation == gen + 1


def test_members_that_do_not_rejoin_are_dropped_at_the_rebalance_timeout() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    t3, _ = d.join()
    t1, _ = d.join(leader)
    for _ in range(3):  # the follower heartbeats but never rejoins
        d.advance(5_000)
        d.heartbeat(follower, gen)
    assert t1 not in d.replies
    d.advance(5_000)  # rebalance timeout (20 s) of the group
    assert follower not in d.coordinator.groups["g"].members
    assert d.replies[t1].generation == d.replies[t3].generation == gen + 1
    assert d.heartbeat(follower, gen + 1).error == E.unknown_member_id


def test_initial_delay_extends_while_members_keep_arriving() -> None:
    d = Driver(initial_rebalance_delay_ms=100)
    t1, _ = d.join()
    d.advance(60)
    t2, _ = d.join()
    d.advance(40)  # first deadline: a member arrived meanwhile, wait one more delay
    assert t1 not in d.replies
    d.advance(100)
    assert d.replies[t1].generation == d.replies[t2].generation == 1


def test_a_rejoin_during_completing_rebalance_with_same_metadata_is_answered_again() -> None:
    d = Driver()
    t1, _ = d.join()
    d.advance(100)
    member = d.replies[t1].member_id
    _, resp = d.join(member)
    assert (resp.error, resp.generation, resp.member_id) == (E.none, 1, member)


def test_sync_errors() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    assert d.sync(leader, gen + 5)[1].error == E.illegal_generation
    assert d.sync("ghost", gen)[1].error == E.unknown_member_id
    assert d.sync(leader, gen, group="other")[1].error == E.unknown_member_id
    d.join()  # rebalance starts
    assert d.sync(follower, gen)[1].error == E.rebalance_in_progress


def test_a_leader_that_leaves_during_completing_rebalance_fails_parked_syncs() -> None:
    d = Driver()
    t1, _ = d.join()
    t2, _ = d.join()
    d.finish_join()
    leader = d.replies[t1].leader
    follower = next(d.replies[t].member_id for t in (t1, t2) if d.replies[t].member_id != leader)
    ts, resp = d.sync(follower, 1)
    assert resp is None
    d.leave((leader, None))
    assert d.replies[ts].error == E.rebalance_in_progress


def test_join_validation_errors() -> None:
    d = Driver(max_size=2)
    assert d.join(session_ms=1000)[1].error == E.invalid_session_timeout
    assert d.join(session_ms=2_000_000)[1].error == E.invalid_session_timeout
    assert d.join("made-up")[1].error == E.unknown_member_id
    assert d.join(protocols=[])[1].error == E.inconsistent_group_protocol
    d.join()
    assert d.join(protocols=[("other", b"")])[1].error == E.inconsistent_group_protocol
    assert d.join(protocol_type="connect")[1].error == E.inconsistent_group_protocol
    d.join()
    assert d.join()[1].error == E.group_max_size_reached


def test_protocol_selection_takes_the_most_votes_among_common_protocols() -> None:
    d = Driver()
    tokens = [
        d.join(protocols=[("range", b"r"), ("roundrobin", b"rr")])[0],
        d.join(protocols=[("roundrobin", b"rr"), ("range", b"r")])[0],
        d.join(protocols=[("roundrobin", b"rr"), ("sticky", b"s"), ("range", b"r")])[0],
    ]
    d.finish_join()
    assert {d.replies[t].protocol_name for t in tokens} == {"roundrobin"}
    assert all(data == b"rr" for _, _, data in d.replies[tokens[0]].members)


def test_static_member_rejoining_with_a_new_id_keeps_its_assignment_without_rebalance() -> None:
    d = Driver()
    t1, _ = d.join(instance="i-1")
    t2, _ = d.join(instance="i-2")
    d.finish_join()
    r1, r2 = d.replies[t1], d.replies[t2]
    leader = r1.leader
    follower, instance = (r2.member_id, "i-2") if r1.member_id == leader else (r1.member_id, "i-1")
    d.sync(follower, 1, instance=instance)
    d.sync(leader, 1, {leader: b"A", follower: b"B"})
    d.records.clear()
    _, resp = d.join(instance=instance)  # restarted process: no member id
    group = d.coordinator.groups["g"]
    assert resp.error == E.none and resp.generation == 1 and resp.member_id != follower
    assert group.state is S.STABLE
    assert group.members[resp.member_id].assignment == b"B"
    assert len(d.records) == 1  # the new member id is persisted
    # The old id is fenced.
    assert d.heartbeat(follower, 1, instance=instance).error == E.fenced_instance_id
    assert d.sync(follower, 1, instance=instance)[1].error == E.fenced_instance_id
    assert d.heartbeat(resp.member_id, 1, instance=instance).error == E.none
    # A static member may leave by instance id alone.
    assert d.leave(("", instance)).members == ((resp.member_id, instance, E.none),)


def test_static_members_get_member_ids_without_member_id_required() -> None:
    d = Driver()
    token, resp = d.join(instance="i-1", v4=True)
    assert resp is None
    d.advance(100)
    assert d.replies[token].member_id.startswith("i-1-")


def test_all_members_gone_leaves_an_empty_group_with_a_new_generation() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    d.records.clear()
    d.leave((leader, None), (follower, None))
    d.advance(20_000)
    group = d.coordinator.groups["g"]
    assert group.state is S.EMPTY and group.generation == gen + 1
    [record] = d.records
    assert record.value is not None
    assert parse_group_metadata_value(record.value).members == ()


def test_pending_member_ids_expire() -> None:
    d = Driver()
    _, resp = d.join(v4=True)
    d.advance(SESSION_MS)
    assert d.coordinator.groups["g"].pending == {}
    assert d.join(resp.member_id, v4=True)[1].error == E.unknown_member_id


def test_next_deadline_tracks_the_earliest_timer() -> None:
    d = Driver()
    assert d.coordinator.next_deadline() is None
    d.join()
    assert d.coordinator.next_deadline() == d.now + 100
    d.advance(100)
    d.settle()
    deadline = d.coordinator.next_deadline()
    assert deadline is None or deadline > d.now
