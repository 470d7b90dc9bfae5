"""Fetch v4-v12 with raw requests against a kcli broker process: records byte-exact (sent with
sendfile for big reads, copied for small ones), Kafka's size rules (at least one whole batch,
partition and response limits), high watermark and log start in every answer, offset and
epoch errors, and the stateless fetch-session answers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from confluent_kafka import Producer

from kcli.protocol.messages import build, request_class
from kcli.protocol.records import iter_records
from kcli.storage.segment import whole_batches_size
from kcli.testing.broker import KcliBroker
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper
from tests.integration.broker.test_produce_fetch import create_topic

pytestmark = pytest.mark.integration

TOPIC = "fetched"
BIG = 200_000  # one record this size: a batch above the sendfile threshold


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    zk = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        with KcliBroker(tmp_path_factory.mktemp("fetch"), f"{zk.connect_string}/fetch") as b:
            create_topic(b.bootstrap, TOPIC)
            producer = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
            for i in range(5):  # offsets 0-4: one small batch each
                producer.produce(TOPIC, b"small-%d" % i, key=b"k%d" % i)
                producer.flush(10)
            producer.produce(TOPIC, b"B" * BIG, key=b"big")  # offset 5
            producer.flush(10)
            yield b
    finally:
        zk.stop()


def fetch(
    broker: KcliBroker,
    version: int,
    offset: int,
    *,
    max_bytes: int = 50 << 20,
    partition_max_bytes: int = 1 << 20,
    session_epoch: int = -1,
    current_leader_epoch: int = -1,
    max_wait_ms: int = 0,
) -> Any:
    cls = request_class(1, version)
    mod = sys.modules[cls.__module__]
    request = build(
        cls,
        cluster_id=None,
        replica_id=-1,
        max_wait=timedelta(milliseconds=max_wait_ms),
        min_bytes=1,
        max_bytes=max_bytes,
        isolation_level=0,
        session_id=0,
        session_epoch=session_epoch,
        topics=(
            mod.FetchTopic(
                topic=TOPIC,
                partitions=(
                    build(
                        mod.FetchPartition,
                        partition=0,
                        current_leader_epoch=current_leader_epoch,
                        fetch_offset=offset,
                        last_fetched_epoch=-1,
                        log_start_offset=-1,
                        partition_max_bytes=partition_max_bytes,
                    ),
                ),
            ),
        ),
        forgotten_topics_data=(),
        rack_id="",
    )
    return wire.call(broker.bootstrap, request, version)


def partition(response: Any) -> Any:
    [topic] = response.responses
    [p] = topic.partitions
    return p


def values(p: Any) -> list[bytes | None]:
    """Values of the whole batches (a response may end in a cut batch; clients drop it)."""
    if not p.records:
        return []
    whole = p.records[: whole_batches_size(p.records)]
    return [r.value for r in iter_records(whole)]


@pytest.mark.parametrize("version", [4, 5, 7, 9, 11, 12])
def test_records_and_watermarks(broker: KcliBroker, version: int) -> None:
    p = partition(fetch(broker, version, 0))
    assert int(p.error_code) == 0
    assert int(p.high_watermark) == 6 and int(p.last_stable_offset) == 6
    if version >= 5:
        assert int(p.log_start_offset) == 0
    assert values(p) == [b"small-%d" % i for i in range(5)] + [b"B" * BIG]
    assert not p.aborted_transactions


def test_at_least_one_whole_batch_beyond_the_limits(broker: KcliBroker) -> None:
    p = partition(fetch(broker, 12, 5, max_bytes=100, partition_max_bytes=100))
    assert values(p) == [b"B" * BIG]  # the big batch whole, though larger than both limits
    p = partition(fetch(broker, 12, 0, partition_max_bytes=150))
    assert values(p)[0] == b"small-0" and len(values(p)) < 6  # the limit cuts the rest
    assert len(p.records) == 150


def test_at_the_end_and_out_of_range(broker: KcliBroker) -> None:
    p = partition(fetch(broker, 12, 6))
    assert int(p.error_code) == 0 and not p.records
    p = partition(fetch(broker, 12, 99))
    assert int(p.error_code) == 1  # OFFSET_OUT_OF_RANGE
    assert int(p.high_watermark) == -1


def test_leader_epoch_fencing(broker: KcliBroker) -> None:
    assert int(partition(fetch(broker, 12, 0, current_leader_epoch=0)).error_code) == 0
    assert int(partition(fetch(broker, 12, 0, current_leader_epoch=3)).error_code) == 75


@pytest.mark.parametrize("version", [7, 12])
def test_fetch_sessions_are_answered_statelessly(broker: KcliBroker, version: int) -> None:
    full = fetch(broker, version, 0, session_epoch=0)  # "make me a session": none is made
    assert int(full.error_code) == 0 and int(full.session_id) == 0
    incremental = fetch(broker, version, 0, session_epoch=1)
    assert int(incremental.error_code) == 70  # FETCH_SESSION_ID_NOT_FOUND
    assert incremental.responses == ()


def test_long_poll_times_out_empty(broker: KcliBroker) -> None:
    import time

    started = time.monotonic()
    p = partition(fetch(broker, 12, 6, max_wait_ms=300))
    waited = time.monotonic() - started
    assert int(p.error_code) == 0 and not p.records
    assert 0.25 <= waited < 5
