"""The group coordinator in a kcli broker process: the group APIs with raw requests (Kafka's
error codes, versions' shapes), the offsets topic it creates, and committed offsets and group
metadata coming back after the broker restarts (replayed from __consumer_offsets), also after
SIGKILL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupState, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from kazoo.client import KazooClient

from kcli.broker.group.coordinator import partition_for
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import build, nested, request_class
from kcli.protocol.offsets_schema import ConsumerProtocolSubscription, encode_subscription
from kcli.testing.broker import KcliBroker
from kcli.testing.process import wait_until
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper
from tests.integration.broker.test_produce_fetch import create_topic

pytestmark = pytest.mark.integration

E = ErrorCode
TOPIC = "orders"
NUM_OFFSETS_PARTITIONS = 4


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    zk = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        with KcliBroker(
            tmp_path_factory.mktemp("groups"),
            f"{zk.connect_string}/groups",
            overrides={"offsets.topic.num.partitions": str(NUM_OFFSETS_PARTITIONS)},
        ) as started:
            create_topic(started.bootstrap, TOPIC, 2)
            yield started
    finally:
        zk.stop()


def wait_for_session_gone(broker: KcliBroker) -> None:
    """Kafka alike, a broker cannot register while its dead session's znode lives on."""
    zk = KazooClient(hosts=broker.zookeeper_connect)
    zk.start(10)
    try:
        wait_until(lambda: zk.exists("/brokers/ids/0") is None, timeout=20)
    finally:
        zk.stop()
        zk.close()


def ms(value: int) -> timedelta:
    return timedelta(milliseconds=value)


def req(api_key: int, version: int, **fields: Any) -> Any:
    return build(request_class(api_key, version), **fields)


def find_coordinator(broker: KcliBroker, group: str, version: int = 0) -> Any:
    if version >= 4:
        return wire.call(broker.bootstrap, req(10, 4, key_type=0, coordinator_keys=(group,)), 4)
    return wire.call(broker.bootstrap, req(10, version, key=group, key_type=0), version)


def ready_coordinator(broker: KcliBroker, group: str) -> None:
    """FindCoordinator until it names this broker (the first call creates the topic)."""
    wait_until(lambda: find_coordinator(broker, group).error_code == E.none, timeout=20)


def join(broker: KcliBroker, version: int, member_id: str = "", **extra: Any) -> Any:
    cls = request_class(11, version)
    protocol = nested(cls, "JoinGroupRequestProtocol")(
        name="range", metadata=encode_subscription(ConsumerProtocolSubscription((TOPIC,)))
    )
    fields = {
        "group_id": "raw", "session_timeout": ms(10_000), "rebalance_timeout": ms(10_000),
        "member_id": member_id, "group_instance_id": None, "protocol_type": "consumer",
        "protocols": (protocol,),
    }  # fmt: skip
    fields.update(extra)
    return wire.call(broker.bootstrap, build(cls, **fields), version)


def test_find_coordinator_creates_the_compacted_offsets_topic(broker: KcliBroker) -> None:
    ready_coordinator(broker, "any")
    v0 = find_coordinator(broker, "any", 0)
    assert (v0.node_id, v0.host, v0.port) == (0, broker.host, broker.port)
    [batched] = find_coordinator(broker, "another", 4).coordinators
    assert (batched.key, batched.error_code, batched.port) == ("another", E.none, broker.port)
    txn = wire.call(broker.bootstrap, req(10, 3, key="tx", key_type=1), 3)
    assert txn.error_code == E.coordinator_not_available
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = admin.list_topics("__consumer_offsets", timeout=10).topics["__consumer_offsets"]
    assert len(topic.partitions) == NUM_OFFSETS_PARTITIONS
    resource = ConfigResource(ConfigResource.Type.TOPIC, "__consumer_offsets")
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.bytes"].value == "104857600"


def test_join_sync_heartbeat_describe_list_leave_delete_over_the_wire(broker: KcliBroker) -> None:
    ready_coordinator(broker, "raw")
    assert join(broker, 5, session_timeout=ms(1000)).error_code == E.invalid_session_timeout
    first = join(broker, 7)
    assert first.error_code == E.member_id_required and first.member_id
    joined = join(broker, 7, first.member_id)
    got = (joined.error_code, joined.generation_id, joined.protocol_type, joined.protocol_name)
    assert got == (E.none, 1, "consumer", "range")
    assert joined.leader == joined.member_id and len(joined.members) == 1
    member, gen = joined.member_id, joined.generation_id

    sync_cls = request_class(14, 5)
    assignment = nested(sync_cls, "SyncGroupRequestAssignment")(member_id=member, assignment=b"x")
    sync = {
        "group_id": "raw", "generation_id": gen, "member_id": member, "group_instance_id": None,
        "protocol_type": "consumer", "protocol_name": "range", "assignments": (assignment,),
    }  # fmt: skip
    wrong = wire.call(broker.bootstrap, build(sync_cls, **{**sync, "protocol_name": "other"}), 5)
    assert wrong.error_code == E.inconsistent_group_protocol
    synced = wire.call(broker.bootstrap, build(sync_cls, **sync), 5)
    assert (synced.error_code, synced.assignment) == (E.none, b"x")
    v0 = wire.call(broker.bootstrap, req(14, 0, group_id="raw", generation_id=gen,
                                        member_id=member, assignments=()), 0)  # fmt: skip
    assert (v0.error_code, v0.assignment) == (E.none, b"x")

    beat = {"group_id": "raw", "generation_id": gen, "member_id": member, "group_instance_id": None}
    assert wire.call(broker.bootstrap, req(12, 4, **beat), 4).error_code == E.none
    stale = {**beat, "generation_id": gen + 1}
    assert wire.call(broker.bootstrap, req(12, 0, **stale), 0).error_code == E.illegal_generation

    describe = req(15, 5, groups=("raw",), include_authorized_operations=False)
    [described] = wire.call(broker.bootstrap, describe, 5).groups
    assert (described.group_state, described.protocol_type, described.protocol_data) == (
        "Stable", "consumer", "range",
    )  # fmt: skip
    [m] = described.members
    assert (m.member_id, m.client_host, m.member_assignment) == (member, "/127.0.0.1", b"x")
    stable = wire.call(broker.bootstrap, req(16, 4, states_filter=("stable",)), 4)
    assert "raw" in {g.group_id for g in stable.groups}
    empty = wire.call(broker.bootstrap, req(16, 4, states_filter=("Empty",)), 4)
    assert "raw" not in {g.group_id for g in empty.groups}

    busy = wire.call(broker.bootstrap, req(42, 2, groups_names=("raw", "nope")), 2).results
    assert {r.group_id: r.error_code for r in busy} == {
        "raw": E.non_empty_group, "nope": E.group_id_not_found,
    }  # fmt: skip
    identity = nested(request_class(13, 3), "MemberIdentity")
    left = wire.call(broker.bootstrap, req(13, 3, group_id="raw", members=(
        identity(member_id=member, group_instance_id=None),
        identity(member_id="ghost", group_instance_id=None),
    )), 3)  # fmt: skip
    assert [(x.member_id, x.error_code) for x in left.members] == [
        (member, E.none), ("ghost", E.unknown_member_id),
    ]  # fmt: skip

    def empty_now() -> bool:
        groups = wire.call(broker.bootstrap, req(15, 0, groups=("raw",)), 0).groups
        return groups[0].group_state == "Empty"

    wait_until(empty_now, timeout=15)
    deleted = wire.call(broker.bootstrap, req(42, 0, groups_names=("raw",)), 0).results
    assert deleted[0].error_code == E.none


def test_simple_commits_fetch_and_delete_over_the_wire(broker: KcliBroker) -> None:
    ready_coordinator(broker, "simple")
    commit_cls = request_class(8, 2)
    partition = nested(commit_cls, "OffsetCommitRequestPartition")
    topic = nested(commit_cls, "OffsetCommitRequestTopic")
    partitions = (
        partition(partition_index=0, committed_offset=42, committed_metadata="m"),
        partition(partition_index=9, committed_offset=1, committed_metadata=None),
    )
    commit = build(
        commit_cls, group_id="simple", generation_id_or_member_epoch=-1, member_id="",
        retention_time=ms(-1), topics=(topic(name=TOPIC, partitions=partitions),),
    )  # fmt: skip
    [committed] = wire.call(broker.bootstrap, commit, 2).topics
    assert {p.partition_index: p.error_code for p in committed.partitions} == {
        0: E.none, 9: E.unknown_topic_or_partition,
    }  # fmt: skip

    fetch_topic = nested(request_class(9, 1), "OffsetFetchRequestTopic")
    v1 = wire.call(broker.bootstrap, req(9, 1, group_id="simple", topics=(
        fetch_topic(name=TOPIC, partition_indexes=(0, 1)),)), 1)  # fmt: skip
    got = [(p.partition_index, p.committed_offset, p.metadata) for p in v1.topics[0].partitions]
    assert got == [(0, 42, "m"), (1, -1, "")]
    all_topics = wire.call(broker.bootstrap, req(9, 7, group_id="simple", topics=None,
                                                 require_stable=True), 7)  # fmt: skip
    assert [(t.name, [p.committed_offset for p in t.partitions]) for t in all_topics.topics] == [
        (TOPIC, [42]),
    ]  # fmt: skip
    group_cls = nested(request_class(9, 8), "OffsetFetchRequestGroup")
    multi = wire.call(broker.bootstrap, req(9, 8, require_stable=False, groups=(
        group_cls(group_id="simple", topics=None), group_cls(group_id="unknown", topics=None),
    )), 8)  # fmt: skip
    assert [(g.group_id, g.error_code, len(g.topics)) for g in multi.groups] == [
        ("simple", E.none, 1), ("unknown", E.none, 0),
    ]  # fmt: skip

    delete_cls = request_class(47, 0)
    dtopic = nested(delete_cls, "OffsetDeleteRequestTopic")
    dpart = nested(delete_cls, "OffsetDeleteRequestPartition")
    deleted = wire.call(broker.bootstrap, build(delete_cls, group_id="simple", topics=(
        dtopic(name=TOPIC, partitions=(dpart(partition_index=0),)),)), 0)  # fmt: skip
    assert deleted.error_code == E.none
    assert deleted.topics[0].partitions[0].error_code == E.none
    after = wire.call(broker.bootstrap, req(9, 7, group_id="simple", topics=None,
                                            require_stable=False), 7)  # fmt: skip
    assert after.topics == ()
    missing = wire.call(broker.bootstrap, build(delete_cls, group_id="never", topics=()), 0)
    assert missing.error_code == E.group_id_not_found


def test_committed_offsets_and_groups_come_back_after_restart_and_sigkill(
    broker: KcliBroker,
) -> None:
    group = "survivor"
    ready_coordinator(broker, group)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})  # fmt: skip
    try:
        consumer.commit(offsets=[TopicPartition(TOPIC, 0, 11, "meta-0"),
                                 TopicPartition(TOPIC, 1, 22)], asynchronous=False)  # fmt: skip
    finally:
        consumer.close()
    wanted = [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)]

    def committed() -> list[tuple[int, int, str | None]]:
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
        try:
            return [(tp.partition, tp.offset, tp.metadata) for tp in c.committed(wanted, 15)]
        finally:
            c.close()

    assert committed() == [(0, 11, "meta-0"), (1, 22, None)]
    for how in ("restart", "sigkill"):
        if how == "restart":
            broker.stop()
        else:
            broker.kill()
            wait_for_session_gone(broker)
        broker.start()
        ready_coordinator(broker, group)
        started = time.monotonic()
        while True:  # the partition may still be loading (COORDINATOR_LOAD_IN_PROGRESS)
            try:
                assert committed() == [(0, 11, "meta-0"), (1, 22, None)], how
                break
            except Exception:
                if time.monotonic() - started > 20:
                    raise
                time.sleep(0.3)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    listed = admin.list_consumer_groups().result(15)
    states = {g.group_id: g.state for g in listed.valid}
    assert states[group] == ConsumerGroupState.EMPTY
    # The records live in the partition Kafka's formula picks for the group.
    home = broker.log_dir / f"__consumer_offsets-{partition_for(group, NUM_OFFSETS_PARTITIONS)}"
    assert sum(f.stat().st_size for f in home.glob("*.log")) > 0
