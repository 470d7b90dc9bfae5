"""Offsets, group administration, retention, and replay of the records the coordinator wrote."""

from __future__ import annotations

from kcli.broker.group.coordinator import GroupConfig, GroupCoordinator, SyncRequest
from kcli.broker.group.member import OffsetAndMetadata
from kcli.broker.group.state import GroupState
from kcli.protocol.errors import ErrorCode
from kcli.protocol.offsets_schema import (
    OffsetCommitKey,
    encode_key,
    parse_key,
    parse_offset_commit_value,
)

from .harness import Driver, subscription

E = ErrorCode
S = GroupState
MINUTE = 60_000


def commit(d: Driver, member: str, generation: int, group: str = "g", **offsets: int) -> object:
    wanted = {
        (t.split("_")[0], int(t.split("_")[1])): OffsetAndMetadata(o, 3, "m")
        for t, o in offsets.items()
    }
    return d.call(
        d.coordinator.commit_offsets(
            group, member_id=member, instance_id=None, generation=generation, offsets=wanted,
            now=d.now,
        )
    )  # fmt: skip


def test_simple_commit_creates_an_empty_group_and_fetches_back() -> None:
    d = Driver()
    resp = commit(d, "", -1, group="simple", t_0=5, t_1=7)
    assert resp.partitions == {("t", 0): E.none, ("t", 1): E.none}
    assert d.coordinator.groups["simple"].state is S.EMPTY
    [r0, _] = d.records
    assert parse_key(r0.key) == OffsetCommitKey("simple", "t", 0)
    assert r0.value is not None
    value = parse_offset_commit_value(r0.value)
    assert (value.offset, value.leader_epoch, value.metadata, value.version) == (5, 3, "m", 3)
    assert value.commit_timestamp == d.now
    fetched = d.coordinator.fetch_offsets("simple", [("t", 0), ("t", 9)]).offsets
    assert fetched[("t", 0)] is not None and fetched[("t", 0)].offset == 5
    assert fetched[("t", 9)] is None
    assert set(d.coordinator.fetch_offsets("simple", None).offsets) == {("t", 0), ("t", 1)}
    assert d.coordinator.fetch_offsets("nope", [("t", 0)]).offsets == {("t", 0): None}


def test_member_commits_are_checked_against_membership_and_generation() -> None:
    d = Driver()
    assert commit(d, "x", 3, group="new", t_0=1).error == E.illegal_generation
    leader, follower, gen = d.stable_pair()
    assert commit(d, leader, gen, t_0=1).partitions[("t", 0)] == E.none
    assert commit(d, leader, gen + 1, t_0=1).partitions[("t", 0)] == E.illegal_generation
    assert commit(d, "ghost", gen, t_0=1).partitions[("t", 0)] == E.unknown_member_id
    assert commit(d, "", -1, t_0=1).partitions[("t", 0)] == E.unknown_member_id
    d.join()  # PreparingRebalance: commits of the current generation still count
    assert commit(d, follower, gen, t_0=2).partitions[("t", 0)] == E.none
    d.join(leader)
    d.join(follower)  # all back -> CompletingRebalance
    assert commit(d, leader, gen + 1, t_0=3).partitions[("t", 0)] == E.rebalance_in_progress


def test_metadata_over_the_limit_is_refused_per_partition() -> None:
    d = Driver(max_metadata_size=4)
    wanted = {("t", 0): OffsetAndMetadata(1, -1, "12345"), ("t", 1): OffsetAndMetadata(1, -1, "1")}
    resp = d.call(
        d.coordinator.commit_offsets(
            "g", member_id="", instance_id=None, generation=-1, offsets=wanted, now=d.now
        )
    )
    assert resp.partitions == {("t", 0): E.offset_metadata_too_large, ("t", 1): E.none}


def test_delete_groups() -> None:
    d = Driver()
    leader, _follower, gen = d.stable_pair()
    commit(d, leader, gen, t_0=4)
    commit(d, "", -1, group="idle", t_0=4, t_1=5)
    d.records.clear()
    resp = d.call(d.coordinator.delete_groups(["g", "idle", "none"], d.now))
    assert resp.errors == {"g": E.non_empty_group, "idle": E.none, "none": E.group_id_not_found}
    assert "idle" not in d.coordinator.groups
    assert sorted(r.value is None for r in d.records) == [True, True, True]  # 2 offsets + group


def test_offset_delete_refuses_subscribed_topics_of_an_active_group() -> None:
    d = Driver()
    t1, _ = d.join(protocols=[("range", subscription("t"))])
    d.finish_join()
    member = d.replies[t1].member_id
    d.sync(member, 1, {member: b""})
    commit(d, member, 1, t_0=1, u_0=2)
    d.records.clear()
    resp = d.call(d.coordinator.delete_offsets("g", [("t", 0), ("u", 0)], d.now))
    assert resp.partitions == {("t", 0): E.group_subscribed_to_topic, ("u", 0): E.none}
    assert [r.value for r in d.records] == [None]
    assert d.coordinator.fetch_offsets("g", [("u", 0)]).offsets == {("u", 0): None}
    missing = d.call(d.coordinator.delete_offsets("nope", [("t", 0)], d.now))
    assert missing.error == E.group_id_not_found


def test_offsets_of_an_empty_group_expire_a_retention_period_after_it_emptied() -> None:
    d = Driver(offsets_retention_ms=10 * MINUTE)
    leader, follower, gen = d.stable_pair()
    commit(d, leader, gen, t_0=4)
    d.clock.advance(9 * MINUTE)  # old commit, but the group is still active
    d.heartbeat(leader, gen)
    d.heartbeat(follower, gen)
    assert d.call(d.coordinator.expire_offsets(d.now)) is None and d.coordinator.groups["g"].offsets
    d.leave((leader, None), (follower, None))
    d.advance(20_000)
    assert d.coordinator.groups["g"].state is S.EMPTY
    d.clock.advance(9 * MINUTE)
    d.records.clear()
    d.call(d.coordinator.expire_offsets(d.now))
    assert d.records == [] and "g" in d.coordinator.groups
    d.clock.advance(MINUTE)
    d.call(d.coordinator.expire_offsets(d.now))
    assert "g" not in d.coordinator.groups
    assert [r.value for r in d.records] == [None, None]  # the offset, then the group


def test_simple_group_offsets_expire_by_commit_time_or_explicit_retention() -> None:
    d = Driver(offsets_retention_ms=10 * MINUTE)
    commit(d, "", -1, group="s", t_0=1)
    d.clock.advance(5 * MINUTE)
    wanted = {("t", 1): OffsetAndMetadata(1, -1, "", -1, d.now + MINUTE)}
    d.call(d.coordinator.commit_offsets("s", member_id="", instance_id=None, generation=-1,
                                        offsets=wanted, now=d.now))  # fmt: skip
    d.clock.advance(MINUTE)
    d.call(d.coordinator.expire_offsets(d.now))
    assert set(d.coordinator.groups["s"].offsets) == {("t", 0)}
    d.clock.advance(4 * MINUTE)
    d.call(d.coordinator.expire_offsets(d.now))
    assert "s" not in d.coordinator.groups


def test_replay_of_the_written_records_rebuilds_groups_and_offsets() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    commit(d, leader, gen, t_0=10, t_1=11)
    commit(d, leader, gen, t_0=12)
    commit(d, "", -1, group="gone", t_0=1)
    d.call(d.coordinator.delete_groups(["gone"], d.now))
    commit(d, "", -1, group="simple", t_2=3)
    fresh = GroupCoordinator(GroupConfig())
    for record in d.records:
        fresh.replay(record.key, record.value, d.now)
    assert set(fresh.groups) == {"g", "simple"}
    old, new = d.coordinator.groups["g"], fresh.groups["g"]
    assert new.state is S.STABLE
    assert (new.generation, new.leader_id, new.protocol_name, new.protocol_type) == (
        old.generation, old.leader_id, old.protocol_name, old.protocol_type,
    )  # fmt: skip
    assert {m: x.assignment for m, x in new.members.items()} == {leader: b"A", follower: b"B"}
    assert {tp: o.offset for tp, o in new.offsets.items()} == {("t", 0): 12, ("t", 1): 11}
    assert fresh.groups["simple"].state is S.EMPTY
    # The rebuilt group serves its members: heartbeats and a follower's sync.
    assert fresh.heartbeat("g", gen, follower, None, d.now).response.error == E.none
    request = SyncRequest("g", gen, follower, None, None, None, {})
    synced = fresh.sync_group(request, 1, d.now)
    assert synced.response.assignment == b"B"


def test_replay_of_an_empty_group_record_and_tombstones() -> None:
    d = Driver()
    leader, follower, gen = d.stable_pair()
    d.leave((leader, None), (follower, None))
    d.advance(20_000)
    fresh = GroupCoordinator(GroupConfig())
    for record in d.records:
        fresh.replay(record.key, record.value, d.now)
    assert fresh.groups["g"].state is S.EMPTY and fresh.groups["g"].generation == gen + 1
    fresh.replay(encode_key(OffsetCommitKey("g", "t", 0)), None, d.now)
    d.call(d.coordinator.delete_groups(["g"], d.now))
    for record in d.records[-1:]:
        fresh.replay(record.key, record.value, d.now)
    assert "g" not in fresh.groups


def test_unload_answers_parked_requests_not_coordinator() -> None:
    d = Driver()
    token, _ = d.join()
    partition = d.coordinator.partition_for("g")
    d.call(d.coordinator.unload_partition(partition, d.now))
    assert d.replies[token].error == E.not_coordinator
    assert d.coordinator.groups == {}


def test_describe_and_list() -> None:
    d = Driver()
    leader, follower, _gen = d.stable_pair()
    commit(d, "", -1, group="simple", t_0=1)
    summary = d.coordinator.describe_group("g")
    assert (summary.state, summary.protocol_type, summary.protocol) == (
        "Stable",
        "consumer",
        "range",
    )
    assert {m.member_id: m.assignment for m in summary.members} == {leader: b"A", follower: b"B"}
    assert all(m.client_host == "/127.0.0.1" for m in summary.members)
    assert d.coordinator.describe_group("nope").state == "Dead"
    d.join()
    preparing = d.coordinator.describe_group("g")
    assert preparing.protocol == "" and all(m.assignment == b"" for m in preparing.members)
    listed = {g.group_id: g.state for g in d.coordinator.list_groups()}
    assert listed == {"g": S.PREPARING_REBALANCE, "simple": S.EMPTY}
    assert [g.group_id for g in d.coordinator.list_groups([S.EMPTY])] == ["simple"]


def test_offsets_take_effect_only_once_their_records_are_written() -> None:
    d = Driver()
    commit(d, "", -1, group="s", t_0=1)
    coordinator = d.coordinator
    wanted = {("t", 0): OffsetAndMetadata(2)}
    pending = coordinator.commit_offsets(
        "s", member_id="", instance_id=None, generation=-1, offsets=wanted, now=d.now
    )
    fetched = coordinator.fetch_offsets("s", [("t", 0)])
    assert fetched.offsets[("t", 0)] is not None and fetched.offsets[("t", 0)].offset == 1
    assert fetched.unstable == {("t", 0)}
    coordinator.complete_commits(pending.commits, success=False)  # the append failed
    fetched = coordinator.fetch_offsets("s", [("t", 0)])
    assert fetched.offsets[("t", 0)].offset == 1 and not fetched.unstable  # type: ignore[union-attr]
    again = coordinator.commit_offsets(
        "s", member_id="", instance_id=None, generation=-1, offsets=wanted, now=d.now
    )
    coordinator.complete_commits(again.commits, success=True)
    assert coordinator.fetch_offsets("s", None).offsets[("t", 0)].offset == 2  # type: ignore[union-attr]
