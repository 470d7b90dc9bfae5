"""Pipelined requests on one connection against a real broker (the rule is in connection.py)."""

from __future__ import annotations

import struct
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from kio.serial import entity_reader
from kio.static.primitive import i32Timedelta

from kcli.protocol.messages import build, request_class, response_class
from kcli.protocol.records import Record, build_batch
from kcli.testing.broker import KcliBroker
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper
from tests.integration.broker.test_produce_fetch import create_topic, produce_request

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    zookeeper = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        with KcliBroker(
            tmp_path_factory.mktemp("pipelining"), f"{zookeeper.connect_string}/pipelining"
        ) as started:
            yield started
    finally:
        zookeeper.stop()


def decode(api_key: int, version: int, frame: bytes) -> tuple[int, Any]:
    cls = response_class(api_key, version)
    header_size = 5 if cls.__header_schema__.__version__ >= 1 else 4
    body, _ = entity_reader(cls)(frame, header_size)
    return int(struct.unpack_from(">i", frame)[0]), body


def fetch_request(topic: str, offset: int, max_wait_ms: int) -> Any:
    cls = request_class(1, 11)
    assert cls is not None
    mod = sys.modules[cls.__module__]
    part = mod.FetchPartition(
        partition=0,
        current_leader_epoch=-1,
        fetch_offset=offset,
        log_start_offset=-1,
        partition_max_bytes=1 << 20,
    )
    return build(
        cls,
        replica_id=-1,
        max_wait=i32Timedelta.parse(timedelta(milliseconds=max_wait_ms)),
        min_bytes=1,
        max_bytes=1 << 20,
        isolation_level=0,
        session_id=0,
        session_epoch=-1,
        topics=(mod.FetchTopic(topic=topic, partitions=(part,)),),
        forgotten_topics_data=(),
        rack_id="",
    )


def test_many_pipelined_produces_answer_in_order_with_consecutive_offsets(
    broker: KcliBroker,
) -> None:
    create_topic(broker.bootstrap, "pipelined")
    n = 300
    with wire.connect(broker.bootstrap) as sock:
        frames = b"".join(
            wire.request_bytes(
                produce_request("pipelined", build_batch([Record(b"k", b"v%d" % i)]), acks=-1),
                7,
                1000 + i,
            )
            for i in range(n)
        )
        sock.sendall(frames)  # all at once: more than the in-flight bound, so it pushes back
        answers = [decode(0, 7, wire.read_frame(sock)) for _ in range(n)]
    assert [corr for corr, _ in answers] == [1000 + i for i in range(n)]
    offsets = []
    for _, body in answers:
        [topic] = body.responses
        [part] = topic.partition_responses
        assert part.error_code == 0
        offsets.append(int(part.base_offset))
    assert offsets == list(range(n))


def test_a_produce_behind_a_waiting_fetch_on_the_same_connection_wakes_it(
    broker: KcliBroker,
) -> None:
    """Muted, the Produce would wait out the Fetch's 5 s long poll; pipelined, its append
    arrives while the Fetch waits and completes it, and both answer in order at once."""
    create_topic(broker.bootstrap, "fetch-then-produce")
    with wire.connect(broker.bootstrap) as sock:
        started = time.monotonic()
        sock.sendall(wire.request_bytes(fetch_request("fetch-then-produce", 0, 5000), 11, 1))
        time.sleep(0.2)  # the fetch is parked in the purgatory
        batch = build_batch([Record(b"k", b"woken")])
        sock.sendall(wire.request_bytes(produce_request("fetch-then-produce", batch), 7, 2))
        fetch_corr, fetch = decode(1, 11, wire.read_frame(sock))
        produce_corr, _ = decode(0, 7, wire.read_frame(sock))
        waited = time.monotonic() - started
    assert (fetch_corr, produce_corr) == (1, 2)
    [topic] = fetch.responses
    [part] = topic.partitions
    assert part.records and b"woken" in bytes(part.records)
    assert waited < 3.0, f"{waited:.2f} s: the produce waited for the long poll to expire"
