"""A port of Kafka's OffsetValidationTest (tests/kafkatest/tests/client/consumer_test.py):
consumers in one group commit synchronously after each batch while a producer keeps writing;
members are bounced, first cleanly (SIGTERM: commit, LeaveGroup) and then hard (SIGKILL).

After the clean bounces no record has been consumed twice (every member's position equals what
the group consumed); after the hard kills nothing has been skipped (duplicates allowed): every
acknowledged record was consumed. Bounded to about 30 s.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kcli.testing.broker import KcliBroker
from kcli.testing.zookeeper import EmbeddedZooKeeper

from .group_support import Member, wait_for_split

pytestmark = pytest.mark.compat

TOPIC = "validation"
PARTITIONS = 3
GROUP = "validation-group"
RATE = 400  # records/s, as Kafka's test's 500 msg/s producer
PROGRESS = 300  # records the group must consume after each bounce


class BackgroundProducer:
    """Produces (acks=all) until stopped; remembers every acknowledged (partition, offset)."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
        self.acked: set[tuple[int, int]] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.acked.add((msg.partition(), msg.offset()))

    def _run(self) -> None:
        i = 0
        while not self.stop.is_set():
            self.producer.produce(TOPIC, b"%d" % i, partition=i % PARTITIONS,
                                  on_delivery=self._delivered)  # fmt: skip
            i += 1
            self.producer.poll(0)
            time.sleep(1 / RATE)
        self.producer.flush(15)

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(20)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[KcliBroker]:
    zk = EmbeddedZooKeeper(tmp_path / "zk").start()
    server = KcliBroker(tmp_path, zk.connect_string, 0,
                        overrides={"offsets.topic.num.partitions": "3"})  # fmt: skip
    try:
        server.start()
        admin = AdminClient({"bootstrap.servers": server.bootstrap})
        for future in admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)]).values():
            future.result(30)
        yield server
    finally:
        server.stop()
        zk.stop()


def consumed(members: list[Member]) -> list[tuple[int, int]]:
    return [record for m in members for record in m.consumed()]


def wait_for_progress(members: list[Member], at_least: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(consumed(members)) < at_least:
        assert time.monotonic() < deadline, f"group stuck at {len(consumed(members))} records"
        time.sleep(0.2)


def test_offsets_are_neither_duplicated_on_clean_bounces_nor_skipped_on_hard_kills(
    broker: KcliBroker, tmp_path: Path
) -> None:
    everyone: list[Member] = []
    producer = BackgroundProducer(broker.bootstrap)
    partitions = {(TOPIC, p) for p in range(PARTITIONS)}

    def member(name: str) -> Member:
        m = Member(tmp_path, name, "confluent-kafka", broker.bootstrap, GROUP, TOPIC, "range",
                   validate=True).start()  # fmt: skip
        everyone.append(m)
        return m

    try:
        producer.thread.start()
        live = [member(f"m{i}") for i in range(3)]
        wait_for_split(live, partitions, timeout=30, steady=0.5)
        wait_for_progress(everyone, PROGRESS)

        for round_ in range(2):  # clean bounces: SIGTERM, then a new member in its place
            live[round_].stop()
            live[round_] = member(f"clean{round_}")
            wait_for_split(live, partitions, timeout=30, steady=0.5)
            wait_for_progress(everyone, len(consumed(everyone)) + PROGRESS)
        counts = Counter(consumed(everyone))
        twice = sorted(r for r, n in counts.items() if n > 1)
        assert not twice, f"{len(twice)} records consumed twice after clean bounces: {twice[:10]}"

        for round_ in range(2):  # hard kills: SIGKILL, then a new member in its place
            live[round_].kill()
            live[round_] = member(f"hard{round_}")
            wait_for_split(live, partitions, timeout=30, steady=0.5)
            wait_for_progress(everyone, len(consumed(everyone)) + PROGRESS)

        producer.finish()
        acked = set(producer.acked)
        deadline = time.monotonic() + 20
        while not acked <= set(consumed(everyone)) and time.monotonic() < deadline:
            time.sleep(0.2)
        skipped = sorted(acked - set(consumed(everyone)))
        assert not skipped, f"{len(skipped)} acknowledged records never consumed: {skipped[:10]}"
    finally:
        producer.finish()
        for m in everyone:
            m.stop()
