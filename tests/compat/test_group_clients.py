"""Issue 6 acceptance: confluent-kafka, kafka-python and aiokafka consumers in one group share
the partitions with no overlap (range and roundrobin; cooperative-sticky with confluent-kafka),
and a member that joins, leaves cleanly or is killed with SIGKILL moves partitions so that none
stays unowned beyond the session timeout (6 s here).

One ZooKeeper and one kcli broker for the module; each member is its own process
(group_member.py), so SIGKILL is real.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kcli.testing.broker import KcliBroker
from kcli.testing.zookeeper import EmbeddedZooKeeper

from .group_support import Member, wait_for_split

pytestmark = pytest.mark.compat

SESSION_S = 6.0
CLIENTS = ("confluent-kafka", "kafka-python", "aiokafka")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    workdir = tmp_path_factory.mktemp("groups")
    zk = EmbeddedZooKeeper(workdir / "zk").start()
    server = KcliBroker(workdir, zk.connect_string, 0,
                        overrides={"offsets.topic.num.partitions": "5"})  # fmt: skip
    try:
        server.start()
        yield server
    finally:
        server.stop()
        zk.stop()


def create_topic(broker: KcliBroker, name: str, partitions: int) -> set[tuple[str, int]]:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
        future.result(30)
    return {(name, p) for p in range(partitions)}


@pytest.fixture
def members(tmp_path: Path) -> Iterator[list[Member]]:
    started: list[Member] = []
    try:
        yield started
    finally:
        for m in started:
            m.stop()


@pytest.mark.parametrize("assignor", ["range", "roundrobin"])
def test_three_clients_split_the_partitions_and_survive_join_leave_and_kill(
    broker: KcliBroker, members: list[Member], tmp_path: Path, assignor: str
) -> None:
    topic = f"split-{assignor}"
    partitions = create_topic(broker, topic, 6)
    group = f"g-{assignor}"

    def member(name: str, client: str) -> Member:
        m = Member(tmp_path, name, client, broker.bootstrap, group, topic, assignor).start()
        members.append(m)
        return m

    first = [member(c, c) for c in CLIENTS]
    wait_for_split(members, partitions, timeout=45)
    assert all(m.assignment() for m in first)

    # A fourth member joins: a rebalance gives it a share.
    late = member("late", "confluent-kafka")
    wait_for_split(members, partitions, timeout=30)
    assert late.assignment()

    # A clean leave (LeaveGroup): the others take over at once, well inside a session.
    first[1].stop()
    took = wait_for_split(members, partitions, timeout=30, steady=1.0)
    assert took < SESSION_S, f"clean leave took {took:.1f}s to rebalance"

    # SIGKILL: nothing until the session expires, then the rest own everything.
    killed_at = time.monotonic()
    first[2].kill()
    wait_for_split(members, partitions, timeout=30, steady=1.0)
    unowned = time.monotonic() - killed_at
    assert unowned < SESSION_S + 6.0, f"partitions unowned for {unowned:.1f}s after SIGKILL"


def test_cooperative_sticky_confluent_members_split_and_rebalance(
    broker: KcliBroker, members: list[Member], tmp_path: Path
) -> None:
    topic = "split-cooperative"
    partitions = create_topic(broker, topic, 6)

    def member(name: str) -> Member:
        m = Member(tmp_path, name, "confluent-kafka", broker.bootstrap, "g-coop", topic,
                   "cooperative-sticky").start()  # fmt: skip
        members.append(m)
        return m

    a, b = member("a"), member("b")
    wait_for_split(members, partitions, timeout=45)
    before = a.assignment()
    c = member("c")
    wait_for_split(members, partitions, timeout=30)
    assert c.assignment()
    assert a.assignment() <= before  # sticky: a kept what it still owns, gave some away
    b.kill()
    wait_for_split(members, partitions, timeout=30)


def test_a_static_member_restarted_within_its_session_keeps_its_partitions_without_rebalance(
    broker: KcliBroker, members: list[Member], tmp_path: Path
) -> None:
    topic = "split-static"
    partitions = create_topic(broker, topic, 4)

    def member(name: str, instance: str) -> Member:
        m = Member(tmp_path, name, "confluent-kafka", broker.bootstrap, "g-static", topic,
                   "range", instance=instance).start()  # fmt: skip
        members.append(m)
        return m

    leader = member("leader", "i-leader")  # first in: the group's leader
    wait_for_split(members, partitions, timeout=30, steady=0.5)
    follower = member("follower", "i-follower")
    wait_for_split(members, partitions, timeout=30)
    owned = follower.assignment()
    revoked = leader.revocations()

    killed_at = time.monotonic()
    follower.kill()
    again = member("again", "i-follower")  # same group.instance.id, new process
    wait_for_split(members, partitions, timeout=30, steady=1.0)
    assert again.assignment() == owned
    assert time.monotonic() - killed_at < SESSION_S + 1.0
    assert leader.revocations() == revoked, "the other member saw a rebalance"


def test_kcat_balanced_consumer_reads_everything_and_commits(broker: KcliBroker) -> None:
    """kcat -G (librdkafka 2.0.2, the oldest client here: JoinGroup v0-5) joins, consumes
    both partitions and commits its position on exit."""
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.skip("kcat is not installed")
    topic = "kcat-group"
    create_topic(broker, topic, 2)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(10):
        producer.produce(topic, b"v%d" % i, partition=i % 2)
    producer.flush(10)
    done = subprocess.run(
        [kcat, "-b", broker.bootstrap, "-G", "g-kcat", "-o", "beginning", "-e",
         "-X", "auto.offset.reset=earliest", topic],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split()) == sorted(f"v{i}" for i in range(10))
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "g-kcat"})
    try:
        wanted = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        assert [tp.offset for tp in consumer.committed(wanted, 15)] == [5, 5]
    finally:
        consumer.close()
