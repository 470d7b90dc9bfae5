"""ListOffsets and OffsetForLeaderEpoch against a kcli broker process, with raw requests (every
version's shape) and confluent-kafka's offsets_for_times / watermarks; then the files a clean
shutdown leaves (replication-offset-checkpoint, clean-shutdown marker)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from kcli.protocol.messages import build, request_class
from kcli.storage.checkpoint import OffsetCheckpointFile
from kcli.storage.files import TopicPartition as StorageTopicPartition
from kcli.testing.broker import KcliBroker
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper
from tests.integration.broker.test_produce_fetch import create_topic

pytestmark = pytest.mark.integration

BASE_TS = 1_700_000_000_000
TOPIC = "offsets"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    zk = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        with KcliBroker(
            tmp_path_factory.mktemp("offsets"), f"{zk.connect_string}/offsets"
        ) as started:
            create_topic(started.bootstrap, TOPIC)
            producer = Producer({"bootstrap.servers": started.bootstrap, "linger.ms": 0})
            for i in range(10):  # one batch per record; timestamps 0, 1000, ..., 9000 past base
                producer.produce(TOPIC, b"v%d" % i, timestamp=BASE_TS + 1000 * i)
                producer.flush(10)
            yield started
    finally:
        zk.stop()


def list_offsets(broker: KcliBroker, timestamp: int, version: int) -> tuple[int, int, int, int]:
    cls = request_class(2, version)
    mod = sys.modules[cls.__module__]
    request = build(
        cls,
        replica_id=-1,
        isolation_level=0,
        topics=(
            mod.ListOffsetsTopic(
                name=TOPIC,
                partitions=(
                    build(
                        mod.ListOffsetsPartition,
                        partition_index=0,
                        current_leader_epoch=-1,
                        timestamp=timestamp,
                    ),
                ),
            ),
        ),
    )
    [topic] = wire.call(broker.bootstrap, request, version).topics
    [p] = topic.partitions
    return int(p.error_code), int(p.offset), int(p.timestamp), int(getattr(p, "leader_epoch", -1))


@pytest.mark.parametrize("version", [1, 2, 4, 7])
def test_earliest_latest_and_by_timestamp(broker: KcliBroker, version: int) -> None:
    assert list_offsets(broker, -2, version)[:3] == (0, 0, -1)
    assert list_offsets(broker, -1, version)[:3] == (0, 10, -1)
    assert list_offsets(broker, BASE_TS + 2500, version)[:3] == (0, 3, BASE_TS + 3000)
    assert list_offsets(broker, BASE_TS + 99_000, version)[:3] == (0, -1, -1)
    if version >= 4:
        assert list_offsets(broker, -1, version)[3] == 0  # leader epoch


def test_max_timestamp(broker: KcliBroker) -> None:
    assert list_offsets(broker, -3, 7)[:3] == (0, 9, BASE_TS + 9000)


def test_unknown_partition(broker: KcliBroker) -> None:
    cls = request_class(2, 7)
    mod = sys.modules[cls.__module__]
    request = build(
        cls,
        replica_id=-1,
        isolation_level=0,
        topics=(
            mod.ListOffsetsTopic(
                name="nope",
                partitions=(
                    mod.ListOffsetsPartition(
                        partition_index=0, current_leader_epoch=-1, timestamp=-1
                    ),
                ),
            ),
        ),
    )
    [topic] = wire.call(broker.bootstrap, request, 7).topics
    assert int(topic.partitions[0].error_code) == 3


def test_confluent_kafka_offsets_for_times_and_watermarks(broker: KcliBroker) -> None:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    try:
        [found] = consumer.offsets_for_times([TopicPartition(TOPIC, 0, BASE_TS + 4000)], 10)
        assert found.offset == 4
        assert consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), 10) == (0, 10)
    finally:
        consumer.close()


@pytest.mark.parametrize("version", [2, 3, 4])
def test_offset_for_leader_epoch(broker: KcliBroker, version: int) -> None:
    cls = request_class(23, version)
    mod = sys.modules[cls.__module__]

    def ask(epoch: int, current: int = -1) -> Any:
        request = build(
            cls,
            replica_id=-1,
            topics=(
                mod.OffsetForLeaderTopic(
                    topic=TOPIC,
                    partitions=(
                        mod.OffsetForLeaderPartition(
                            partition=0, current_leader_epoch=current, leader_epoch=epoch
                        ),
                    ),
                ),
            ),
        )
        [topic] = wire.call(broker.bootstrap, request, version).topics
        [p] = topic.partitions
        return int(p.error_code), int(p.leader_epoch), int(p.end_offset)

    assert ask(0) == (0, 0, 10)  # the current epoch ends at the log end offset
    assert ask(5) == (0, -1, -1)  # an epoch the log never had
    assert ask(0, current=7)[0] == 75  # UNKNOWN_LEADER_EPOCH: the client is ahead of us


def test_clean_shutdown_writes_checkpoints(broker: KcliBroker) -> None:
    broker.stop()
    log_dir = broker.log_dir
    assert (log_dir / ".kafka_cleanshutdown").exists()
    hws = OffsetCheckpointFile(log_dir / "replication-offset-checkpoint").read()
    assert hws[StorageTopicPartition(TOPIC, 0)] == 10
    recovery = OffsetCheckpointFile(log_dir / "recovery-point-offset-checkpoint").read()
    assert recovery[StorageTopicPartition(TOPIC, 0)] == 10
    broker.start()
    # Until the restarted controller has handed leadership back, clients get
    # NOT_LEADER_OR_FOLLOWER (6) and retry, as they do with Kafka.
    deadline = time.monotonic() + 15
    answer = list_offsets(broker, -1, 7)
    while answer[0] == 6 and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = list_offsets(broker, -1, 7)
    assert answer[:2] == (0, 10)
    assert "unclean" not in broker.new_log().split("Loaded", 1)[1].split("\n", 1)[0]
