"""Produce and Fetch against a real kcli broker process (one per module) with confluent-kafka
and raw wire requests: round trip, long poll, acks=0, every bad-input case with Kafka's error
code (and a good produce right after), recovery after SIGKILL, idempotent retries through a
connection that drops the reply."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kazoo.client import KazooClient

from kcli.protocol.messages import build, request_class
from kcli.protocol.records import Record, build_batch
from kcli.testing.broker import KcliBroker
from kcli.testing.process import free_port, wait_until
from tests.integration.broker import wire
from tests.integration.broker.conftest import start_any_zookeeper

pytestmark = pytest.mark.integration

MESSAGE_MAX_BYTES = 20_000  # max.message.bytes of the bad-input topic


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def broker(zookeeper: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    with KcliBroker(
        tmp_path_factory.mktemp("produce-fetch"), f"{zookeeper.connect_string}/produce-fetch"
    ) as started:
        yield started


def create_topic(
    bootstrap: str, name: str, partitions: int = 1, config: dict[str, str] | None = None
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(15)

    def has_leaders() -> bool:
        topic = admin.list_topics(name, timeout=5).topics.get(name)
        return (
            topic is not None
            and topic.error is None
            and len(topic.partitions) == partitions
            and all(p.leader >= 0 for p in topic.partitions.values())
        )

    wait_until(has_leaders, timeout=15)


def consume(bootstrap: str, topic: str, count: int, timeout: float = 20.0) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                out.append(message)
        # nothing more than expected arrives
        extra = consumer.poll(0.5)
        assert extra is None or extra.error() is not None, "more records than produced"
        return out
    finally:
        consumer.close()


def produce_all(bootstrap: str, topic: str, n: int, **config: Any) -> list[int]:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    offsets: list[int] = []
    errors: list[Any] = []

    def report(err: Any, msg: Any) -> None:
        (errors.append(err) if err is not None else offsets.append(msg.offset()))

    for i in range(n):
        producer.produce(topic, key=b"k%d" % i, value=b"v%d" % i, on_delivery=report)
    assert producer.flush(30) == 0
    assert errors == []
    return offsets


def produce_request(topic: str, records: bytes, acks: int = 1, version: int = 7) -> Any:
    cls = request_class(0, version)
    mod = sys.modules[cls.__module__]
    return build(
        cls,
        transactional_id=None,
        acks=acks,
        timeout=timedelta(seconds=5),
        topic_data=(
            mod.TopicProduceData(
                name=topic, partition_data=(mod.PartitionProduceData(index=0, records=records),)
            ),
        ),
    )


def partition_error(response: Any) -> tuple[int, int]:
    [topic] = response.responses
    [part] = topic.partition_responses
    return int(part.error_code), int(part.base_offset)


def test_round_trip_keys_headers_and_offsets(broker: KcliBroker) -> None:
    create_topic(broker.bootstrap, "round-trip")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(500):
        producer.produce("round-trip", key=b"k%d" % i, value=b"v" * i, headers=[("n", b"%d" % i)])
    assert producer.flush(30) == 0
    got = consume(broker.bootstrap, "round-trip", 500)
    assert [m.offset() for m in got] == list(range(500))
    assert all(m.key() == b"k%d" % i and m.value() == b"v" * i for i, m in enumerate(got))
    assert got[7].headers() == [("n", b"7")]


def test_long_poll_returns_when_data_arrives(broker: KcliBroker) -> None:
    create_topic(broker.bootstrap, "long-poll")
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": "unused",
            "fetch.wait.max.ms": 10_000,
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition("long-poll", 0, 0)])
        assert consumer.poll(1.0) is None  # the consumer is now parked in a long poll
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
        sent = time.monotonic()
        producer.produce("long-poll", b"now")
        assert producer.flush(10) == 0
        message = None
        while message is None and time.monotonic() - sent < 9:
            message = consumer.poll(0.1)
        waited = time.monotonic() - sent
        assert message is not None and message.value() == b"now"
        assert waited < 3.0, f"took {waited:.2f}s: the fetch was not woken by the append"
    finally:
        consumer.close()


def test_acks_zero_gets_no_response(broker: KcliBroker) -> None:
    create_topic(broker.bootstrap, "acks-zero")
    with wire.connect(broker.bootstrap) as sock:
        batch = build_batch([Record(b"k", b"fire-and-forget")])
        sock.sendall(wire.request_bytes(produce_request("acks-zero", batch, acks=0), 7, 41))
        sock.sendall(wire.request_bytes(produce_request("acks-zero", batch, acks=1), 7, 42))
        (first,) = struct.unpack_from(">i", wire.read_frame(sock))
        assert first == 42  # nothing came back for 41
    assert len(consume(broker.bootstrap, "acks-zero", 2)) == 2


def test_acks_zero_failure_closes_the_connection(broker: KcliBroker) -> None:
    """Kafka's way to tell an acks=0 producer something went wrong."""
    with wire.connect(broker.bootstrap) as sock:
        batch = build_batch([Record(b"k", b"v")])
        sock.sendall(wire.request_bytes(produce_request("no-such-topic", batch, acks=0), 7, 43))
        assert wire.closed_by_peer(sock)


BAD_BATCH = build_batch([Record(b"k", b"v")])


def _flip_crc(raw: bytes) -> bytes:
    out = bytearray(raw)
    out[-1] ^= 0x55
    return bytes(out)


BAD_CASES: dict[str, tuple[str, bytes, int, int]] = {
    # name: (topic, records, acks, Kafka's error code)
    "crc mismatch": ("bad-input", _flip_crc(BAD_BATCH), 1, 2),
    "record larger than message.max.bytes": (
        "bad-input",
        build_batch([Record(b"k", b"x" * (MESSAGE_MAX_BYTES + 100))]),
        1,
        10,
    ),
    "invalid acks": ("bad-input", BAD_BATCH, 2, 21),
    "invalid topic name": ("bad/topic", BAD_BATCH, 1, 17),
    "truncated batch": ("bad-input", BAD_BATCH[:-7], 1, 87),
    "unknown topic": ("no-such-topic", BAD_BATCH, 1, 3),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_produce_gets_kafkas_error_and_others_carry_on(broker: KcliBroker, case: str) -> None:
    if case == "crc mismatch":  # the first case creates the topic
        create_topic(broker.bootstrap, "bad-input", config={"max.message.bytes": "20000"})
    topic, records, acks, code = BAD_CASES[case]
    response = wire.call(broker.bootstrap, produce_request(topic, records, acks), 7)
    assert partition_error(response)[0] == code
    good = wire.call(broker.bootstrap, produce_request("bad-input", BAD_BATCH), 7)
    error, offset = partition_error(good)
    assert error == 0 and offset >= 0


def test_produce_v2_is_unsupported_version(broker: KcliBroker) -> None:
    # v2 body by hand (kio lacks it): acks, timeout, [topic, [partition, records]]
    body = struct.pack(">hii", 1, 5000, 1) + struct.pack(">h", 5) + b"topic"
    body += struct.pack(">iii", 1, 0, len(BAD_BATCH)) + BAD_BATCH
    payload = struct.pack(">hhih", 0, 2, 9, 1) + b"x" + body
    with wire.connect(broker.bootstrap) as sock:
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        frame = wire.read_frame(sock)
    corr, topics, name_len = struct.unpack_from(">iih", frame)
    assert (corr, topics, frame[10 : 10 + name_len]) == (9, 1, b"topic")
    _count, index, error = struct.unpack_from(">iih", frame, 10 + name_len)
    assert (index, error) == (0, 35)


def test_acknowledged_data_survives_sigkill(zookeeper: Any, tmp_path: Path) -> None:
    overrides = {"zookeeper.session.timeout.ms": "4000"}
    with KcliBroker(tmp_path, f"{zookeeper.connect_string}/sigkill", overrides=overrides) as own:
        create_topic(own.bootstrap, "durable")
        offsets = produce_all(own.bootstrap, "durable", 300, acks=1)
        assert sorted(offsets) == list(range(300))
        own.kill()
        # Kafka alike, the broker cannot register while its dead session's znode lives on.
        zk = KazooClient(hosts=zookeeper.connect_string)
        zk.start(10)
        try:
            wait_until(lambda: zk.exists("/sigkill/brokers/ids/0") is None, timeout=20)
        finally:
            zk.stop()
            zk.close()
        own.start()
        got = consume(own.bootstrap, "durable", 300)
        assert [m.value() for m in got] == [b"v%d" % i for i in range(300)]
        assert "unclean" in own.new_log()


class DroppingProxy:
    """A TCP proxy that swallows the first Produce response and closes the client's
    connection, so the producer must retry a batch the broker already appended."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dropped = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            produce_ids: set[int] = set()
            threading.Thread(
                target=self._pipe, args=(client, upstream, produce_ids, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pipe, args=(upstream, client, produce_ids, False), daemon=True
            ).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, ids: set[int], requests: bool) -> None:
        try:
            while True:
                size_raw = wire.recv_exactly(src, 4)
                frame = wire.recv_exactly(src, struct.unpack(">i", size_raw)[0])
                if requests:
                    api_key, _, corr = struct.unpack_from(">hhi", frame)
                    if api_key == 0:
                        ids.add(corr)
                else:
                    (corr,) = struct.unpack_from(">i", frame)
                    if corr in ids and not self.dropped.is_set():
                        self.dropped.set()  # the broker appended; the client never hears it
                        raise ConnectionError("dropping the produce response")
                dst.sendall(size_raw + frame)
        except (OSError, ConnectionError):
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(5)


def test_idempotent_retry_after_a_lost_reply_appends_once(zookeeper: Any, tmp_path: Path) -> None:
    """The broker advertises the proxy, so every connection of the producer goes through it."""
    real_port = free_port()
    proxy = DroppingProxy(f"127.0.0.1:{real_port}")
    overrides = {
        "listeners": f"PLAINTEXT://127.0.0.1:{real_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}",
    }
    try:
        with KcliBroker(
            tmp_path, f"{zookeeper.connect_string}/idem", port=real_port, overrides=overrides
        ) as own:
            create_topic(own.bootstrap, "idempotent")
            producer = Producer(
                {
                    "bootstrap.servers": f"127.0.0.1:{proxy.port}",
                    "enable.idempotence": True,
                    "linger.ms": 0,
                }
            )
            delivered: list[int] = []

            def report(err: Any, msg: Any) -> None:
                assert err is None, err
                delivered.append(msg.offset())

            producer.produce("idempotent", b"once", on_delivery=report)
            assert producer.flush(30) == 0
            producer.produce("idempotent", b"twice", on_delivery=report)
            assert producer.flush(30) == 0
            assert proxy.dropped.is_set()
            got = consume(own.bootstrap, "idempotent", 2)
            assert [m.value() for m in got] == [b"once", b"twice"]
            assert delivered == [0, 1]
        # the producer id came from a block claimed in ZooKeeper, in Kafka's JSON
        zk = KazooClient(hosts=zookeeper.connect_string)
        zk.start(10)
        try:
            data, _ = zk.get("/idem/latest_producer_id_block")
        finally:
            zk.stop()
            zk.close()
        assert json.loads(data) == {
            "version": 1,
            "broker": 0,
            "block_start": "0",
            "block_end": "999",
        }
    finally:
        proxy.close()
