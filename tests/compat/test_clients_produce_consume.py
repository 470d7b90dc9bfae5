"""Issue 4's acceptance: four independent clients (confluent-kafka, kafka-python with its
default idempotent acks=all producer, aiokafka, Debian's kcat) each produce with acks 0/1/all
and the codecs none/gzip/snappy/lz4/zstd to a kcli broker, and consume every record back
byte-exact with keys and headers.

One broker for the module; each client covers every codec once and every acks value
(acks rotate over the codecs, shifted per client), so 20 cases cover the whole matrix's rows
and columns in well under a minute.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kcli.broker.handlers import load_registry
from kcli.protocol.batch import iter_headers
from kcli.testing.broker import KcliBroker
from kcli.testing.process import wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper

pytestmark = pytest.mark.compat

CLIENTS = ("confluent-kafka", "kafka-python", "aiokafka", "kcat")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
ACKS = ("0", "1", "all")
N = 40

# (key, value, headers): binary keys and values, a null key, an empty value, binary headers
Row = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


def rows(printable: bool) -> list[Row]:
    out: list[Row] = []
    for i in range(N):
        if printable:  # kcat reads lines: no newlines, no delimiter in keys
            key: bytes | None = b"key-%d" % i
            value = (b"value-%d-" % i) + b"x" * (i * 7)
        else:
            key = None if i == 3 else bytes([i, 0, 255 - i]) + b"k"
            value = b"" if i == 5 else bytes(range(256))[: i * 6] + b"v%d" % i
        out.append(
            (key, value, [("h1", b"%d" % i), ("h2", b"\x00\xff" if not printable else b"z")])
        )
    return out


def cases() -> list[tuple[str, str, str]]:
    out = []
    for shift, client in enumerate(CLIENTS):
        for i, codec in enumerate(CODECS):
            out.append((client, codec, ACKS[(i + shift) % len(ACKS)]))
    return out


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KcliBroker]:
    workdir = tmp_path_factory.mktemp("clients")
    zk = EmbeddedZooKeeper(workdir / "zk").start()
    try:
        with KcliBroker(workdir, f"{zk.connect_string}/clients") as started:
            yield started
    finally:
        zk.stop()


def create_topic(bootstrap: str, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(15)

    def has_leader() -> bool:
        topic = admin.list_topics(name, timeout=5).topics.get(name)
        return topic is not None and topic.error is None and topic.partitions[0].leader >= 0

    wait_until(has_leader, timeout=15)


# -- producers --------------------------------------------------------------------------------


def produce_confluent(bootstrap: str, topic: str, codec: str, acks: str, data: list[Row]) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": acks, "compression.type": codec, "linger.ms": 5}
    )
    errors: list[Any] = []
    for key, value, headers in data:
        producer.produce(
            topic, value=value, key=key, headers=headers,
            on_delivery=lambda err, _m: errors.append(err) if err else None,
        )  # fmt: skip
    assert producer.flush(30) == 0
    assert errors == []


def produce_kafka_python(
    bootstrap: str, topic: str, codec: str, acks: str, data: list[Row]
) -> None:
    from kafka import KafkaProducer

    options: dict[str, Any] = {"compression_type": None if codec == "none" else codec}
    if acks != "all":  # acks=all keeps kafka-python's default: the idempotent producer
        options["acks"] = int(acks)
        options["enable_idempotence"] = False
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **options)
    try:
        futures = [
            producer.send(topic, value=value, key=key, headers=headers)
            for key, value, headers in data
        ]
        producer.flush(30)
        for future in futures:
            future.get(10)
    finally:
        producer.close(5)


def produce_aiokafka(bootstrap: str, topic: str, codec: str, acks: str, data: list[Row]) -> None:
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks=acks if acks == "all" else int(acks),
            compression_type=None if codec == "none" else codec,
            linger_ms=5,
        )
        await producer.start()
        try:
            futures = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in data
            ]
            await asyncio.wait_for(asyncio.gather(*futures), 30)
        finally:
            await producer.stop()

    asyncio.run(run())


def produce_kcat(bootstrap: str, topic: str, codec: str, acks: str, data: list[Row]) -> None:
    # kcat applies -H headers to every message: one run per distinct header set keeps it exact
    for key, value, headers in data:
        argv = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-z", codec,
                "-X", f"acks={-1 if acks == 'all' else acks}"]  # fmt: skip
        for name, hv in headers:
            argv += ["-H", f"{name}={hv.decode()}"]
        assert key is not None
        line = key + b"\t" + value + b"\n"
        done = subprocess.run(argv, input=line, capture_output=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr.decode()


# -- consumers --------------------------------------------------------------------------------


def consume_confluent(bootstrap: str, topic: str) -> list[Row]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False}
    )
    out: list[Row] = []
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 20
        while len(out) < N and time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is not None and m.error() is None:
                out.append((m.key(), m.value() or b"", list(m.headers() or [])))
    finally:
        consumer.close()
    return out


def consume_kafka_python(bootstrap: str, topic: str) -> list[Row]:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000
    )
    try:
        tp = KTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        out: list[Row] = []
        deadline = time.monotonic() + 20
        while len(out) < N and time.monotonic() < deadline:
            for records in consumer.poll(500).values():
                out += [(r.key, r.value or b"", list(r.headers)) for r in records]
        return out
    finally:
        consumer.close()


def consume_aiokafka(bootstrap: str, topic: str) -> list[Row]:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition as ATopicPartition

    async def run() -> list[Row]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = ATopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            out: list[Row] = []
            deadline = time.monotonic() + 20
            while len(out) < N and time.monotonic() < deadline:
                batch = await consumer.getmany(tp, timeout_ms=500)
                out += [
                    (r.key, r.value or b"", [(k, bytes(v)) for k, v in r.headers])
                    for r in batch.get(tp, [])
                ]
            return out
        finally:
            await consumer.stop()

    return asyncio.run(run())


def consume_kcat(bootstrap: str, topic: str) -> list[Row]:
    done = subprocess.run(
        ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-J"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    out: list[Row] = []
    for line in done.stdout.decode().splitlines():
        msg = json.loads(line)
        headers = msg.get("headers") or []
        pairs = [(headers[i], headers[i + 1].encode()) for i in range(0, len(headers), 2)]
        key = msg["key"].encode() if msg["key"] is not None else None
        out.append((key, (msg["payload"] or "").encode(), pairs))
    return out


PRODUCE = {
    "confluent-kafka": produce_confluent,
    "kafka-python": produce_kafka_python,
    "aiokafka": produce_aiokafka,
    "kcat": produce_kcat,
}
CONSUME = {
    "confluent-kafka": consume_confluent,
    "kafka-python": consume_kafka_python,
    "aiokafka": consume_aiokafka,
    "kcat": consume_kcat,
}


def _missing(client: str) -> str | None:
    if client == "kcat":
        return None if shutil.which("kcat") else "kcat is not installed"
    module = {"kafka-python": "kafka", "aiokafka": "aiokafka"}.get(client)
    if module and importlib.util.find_spec(module) is None:
        return f"{client} is not installed"
    return None


@pytest.mark.parametrize(("client", "codec", "acks"), cases())
def test_client_produces_and_consumes_byte_exact(
    broker: KcliBroker, client: str, codec: str, acks: str
) -> None:
    reason = _missing(client)
    if reason:
        pytest.skip(reason)
    topic = f"compat-{client}-{codec}-{acks}"
    create_topic(broker.bootstrap, topic)
    data = rows(printable=client == "kcat")
    PRODUCE[client](broker.bootstrap, topic, codec, acks, data)
    got = CONSUME[client](broker.bootstrap, topic)
    assert got == data
    # the client really compressed: the stored batches carry its codec
    segment = broker.log_dir / f"{topic}-0" / "00000000000000000000.log"
    codecs = {h.compression.name.lower() for _, h in iter_headers(segment.read_bytes())}
    expected = expected_codec(client, codec)
    # kcat sends one record per batch; librdkafka leaves a batch uncompressed when that is
    # smaller, so tiny ones stay plain
    assert expected in codecs and codecs <= {expected, "none"}


def expected_codec(client: str, codec: str) -> str:
    """librdkafka uses lz4 only when the broker advertises FindCoordinator
    (broker_protocol.md §0.2), which comes with the group coordinator."""
    find_coordinator = 10
    librdkafka = client in ("confluent-kafka", "kcat")
    if codec == "lz4" and librdkafka and find_coordinator not in load_registry():
        return "none"
    return codec
