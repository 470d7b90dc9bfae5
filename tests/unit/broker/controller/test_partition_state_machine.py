"""The controller's leader decisions (pure) and the znode JSON it writes."""

from __future__ import annotations

from kcli.broker.controller.events import (
    BrokerChange,
    IsrChangeNotification,
    PartitionModifications,
    Reconnected,
    TopicChange,
    TopicConfigChange,
    TopicDeletion,
    event_for,
)
from kcli.broker.controller.partition_state_machine import (
    NO_LEADER,
    PartitionStatus,
    check_transition,
    controlled_shutdown_leader_election,
    initial_leader_and_isr,
    needs_election,
    offline_leader_election,
    remove_replicas_from_isr,
)
from kcli.broker.controller.zk import ZkEvent
from kcli.broker.controller.znodes import (
    ConfigEntityChangeNotificationSequenceZNode,
    ConfigEntityChangeNotificationZNode,
    ConfigEntityZNode,
    DeleteTopicsTopicZNode,
    IsrChangeNotificationSequenceZNode,
    TopicPartitionStateZNode,
)
from kcli.broker.metadata_cache import PartitionState


def test_new_partition_leader_is_first_live_replica_and_isr_the_live_ones() -> None:
    state = initial_leader_and_isr((2, 0, 1), {0, 1}, controller_epoch=3)
    assert state == PartitionState(leader=0, leader_epoch=0, isr=(0, 1), controller_epoch=3)
    assert TopicPartitionStateZNode.encode(state) == (
        b'{"controller_epoch":3,"leader":0,"version":1,"leader_epoch":0,"isr":[0,1]}'
    )
    assert initial_leader_and_isr((2, 0, 1), {0, 1, 2}, 1).isr == (2, 0, 1)  # type: ignore[union-attr]
    assert initial_leader_and_isr((5, 6), {0, 1}, 1) is None  # stays New, retried later


def test_offline_election_clean_prefers_assignment_order_within_the_isr() -> None:
    current = PartitionState(
        leader=1, leader_epoch=4, isr=(1, 2, 0), controller_epoch=1, zk_version=7
    )
    elected = offline_leader_election((1, 0, 2), current, live={0, 2}, controller_epoch=2)
    assert elected == PartitionState(
        leader=0, leader_epoch=5, isr=(2, 0), controller_epoch=2, zk_version=7
    )


def test_offline_election_without_live_isr_member() -> None:
    current = PartitionState(leader=1, leader_epoch=4, isr=(1,), controller_epoch=1)
    assert offline_leader_election((1, 0), current, live={0}, controller_epoch=2) is None
    unclean = offline_leader_election((1, 0), current, {0}, 2, unclean=True)
    assert unclean is not None and (unclean.leader, unclean.isr, unclean.leader_epoch) == (
        0, (0,), 5,
    )  # fmt: skip
    assert offline_leader_election((1,), current, set(), 2, unclean=True) is None


def test_dead_replicas_leave_the_isr_but_the_last_member_stays() -> None:
    current = PartitionState(leader=1, leader_epoch=4, isr=(1, 2), controller_epoch=1)
    follower_gone = remove_replicas_from_isr(current, {2}, 2)
    assert (follower_gone.leader, follower_gone.isr, follower_gone.leader_epoch) == (1, (1,), 5)
    leader_gone = remove_replicas_from_isr(follower_gone, {1}, 2)
    # Kafka's {"leader":-1,"isr":[1]}: a later clean election can pick broker 1 again.
    assert (leader_gone.leader, leader_gone.isr) == (NO_LEADER, (1,))
    assert needs_election(leader_gone, {1, 2})
    assert not needs_election(current, {1})
    assert not needs_election(None, {1})


def test_state_transitions_follow_kafkas_table() -> None:
    assert check_transition(PartitionStatus.NON_EXISTENT, PartitionStatus.NEW)
    assert check_transition(PartitionStatus.NEW, PartitionStatus.ONLINE)
    assert check_transition(PartitionStatus.OFFLINE, PartitionStatus.ONLINE)
    assert not check_transition(PartitionStatus.ONLINE, PartitionStatus.NEW)
    assert not check_transition(PartitionStatus.ONLINE, PartitionStatus.NON_EXISTENT)


def test_watches_map_to_controller_events() -> None:
    assert event_for(ZkEvent("CHILD", "/brokers/ids")) == BrokerChange()
    assert event_for(ZkEvent("CHILD", "/brokers/topics")) == TopicChange()
    assert event_for(ZkEvent("CHANGED", "/brokers/topics/t")) == PartitionModifications("t")
    assert event_for(ZkEvent("CHILD", "/admin/delete_topics")) == TopicDeletion()
    assert event_for(ZkEvent("CHILD", "/isr_change_notification")) == IsrChangeNotification()
    assert event_for(ZkEvent("CHANGED", "/brokers/topics/t/partitions/0/state")) is None
    assert event_for(ZkEvent("SESSION", "LOST")) is None
    assert event_for(ZkEvent("SESSION", "CONNECTED")) == Reconnected()
    assert event_for(ZkEvent("CHILD", "/config/changes")) == TopicConfigChange()
    assert event_for(ZkEvent("CHANGED", "/brokers/ids/1")) is None


def test_config_and_deletion_znodes() -> None:
    assert ConfigEntityZNode.encode({"retention.ms": "1000"}) == (
        b'{"version":1,"config":{"retention.ms":"1000"}}'
    )
    assert ConfigEntityChangeNotificationZNode.encode("topics/orders") == (
        b'{"version":2,"entity_path":"topics/orders"}'
    )
    seq = ConfigEntityChangeNotificationSequenceZNode
    assert seq.sequence("config_change_0000000012") == 12
    assert seq.sequence("something_else") is None
    assert seq.decode(b'{"version":2,"entity_path":"topics/a"}') == "topics/a"
    assert seq.decode(b'{"version":1,"entity_type":"topics","entity_name":"b"}') == "topics/b"
    assert DeleteTopicsTopicZNode.path("t") == "/admin/delete_topics/t"


def test_isr_change_notification_json() -> None:
    data = IsrChangeNotificationSequenceZNode.encode([("orders", 0), ("orders", 3)])
    assert data == (
        b'{"version":1,"partitions":[{"topic":"orders","partition":0},'
        b'{"topic":"orders","partition":3}]}'
    )
    assert IsrChangeNotificationSequenceZNode.decode(data) == [("orders", 0), ("orders", 3)]


def test_controlled_shutdown_election_skips_brokers_shutting_down() -> None:
    current = PartitionState(leader=1, leader_epoch=2, isr=(1, 2, 0), controller_epoch=1)
    moved = controlled_shutdown_leader_election((1, 2, 0), current, {0, 1, 2}, {1, 2}, 3)
    assert moved is not None
    assert (moved.leader, moved.isr, moved.leader_epoch, moved.controller_epoch) == (
        0, (0,), 3, 3,
    )  # fmt: skip
    alone = PartitionState(leader=1, leader_epoch=2, isr=(1,), controller_epoch=1)
    assert controlled_shutdown_leader_election((1, 0), alone, {0, 1}, {1}, 3) is None
