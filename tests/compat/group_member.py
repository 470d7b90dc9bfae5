"""A consumer-group member as its own process, for the group tests (SIGKILL needs a process).

    python group_member.py CLIENT BOOTSTRAP GROUP TOPIC ASSIGNOR [--validate] [--instance ID]

CLIENT is confluent-kafka, kafka-python or aiokafka. One JSON object per line on stdout:
{"assigned": [[topic, partition], ...]} whenever the assignment changes, and with --validate
{"consumed": [[partition, offset], ...]} for each batch, then its offsets are committed
synchronously (Kafka's VerifiableConsumer with enable.auto.commit=false; {"commit_failed": ...}
if that commit is refused, e.g. during a rebalance). SIGTERM closes the
consumer cleanly (commit, LeaveGroup); the process exits by itself after 120 s at most.
confluent-kafka members also report {"revoked": [...]} from the rebalance callback, and take
--instance as group.instance.id (static membership).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
from typing import Any

LIFETIME_S = 120.0
SESSION_MS = 6000

STOP = threading.Event()


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _stop(*_: object) -> None:
    STOP.set()


class Tracker:
    def __init__(self) -> None:
        self.last: list[list[Any]] | None = None

    def update(self, parts: Any) -> None:
        now = sorted([t, int(p)] for t, p in parts)
        if now != self.last:
            self.last = now
            emit({"assigned": now})


def run_confluent(  # noqa: PLR0917 - the command line, one to one
    bootstrap: str, group: str, topic: str, assignor: str, validate: bool, instance: str | None
) -> None:
    from confluent_kafka import Consumer

    tracker = Tracker()
    static = {"group.instance.id": instance} if instance else {}
    consumer = Consumer(
        {
            **static,
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": not validate,
            "session.timeout.ms": SESSION_MS,
            "heartbeat.interval.ms": 500,
            "partition.assignment.strategy": assignor,
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    consumer.subscribe(
        [topic],
        on_revoke=lambda _c, parts: emit({"revoked": [[p.topic, p.partition] for p in parts]}),
    )
    deadline = time.monotonic() + LIFETIME_S
    while not STOP.is_set() and time.monotonic() < deadline:
        msgs = consumer.consume(500, 0.2)
        tracker.update((tp.topic, tp.partition) for tp in consumer.assignment())
        good = [m for m in msgs if m.error() is None]
        if validate and good:
            emit({"consumed": [[m.partition(), m.offset()] for m in good]})
            try:
                consumer.commit(asynchronous=False)
            except Exception as exc:  # reported; the test accounts for it
                emit({"commit_failed": str(exc)})
    consumer.close()


def run_kafka_python(bootstrap: str, group: str, topic: str, assignor: str, validate: bool) -> None:
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    strategy = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    tracker = Tracker()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=not validate,
        session_timeout_ms=SESSION_MS,
        heartbeat_interval_ms=500,
        partition_assignment_strategy=[strategy[assignor]],
        metadata_max_age_ms=2000,
    )
    deadline = time.monotonic() + LIFETIME_S
    while not STOP.is_set() and time.monotonic() < deadline:
        batches = consumer.poll(timeout_ms=200)
        tracker.update((tp.topic, tp.partition) for tp in consumer.assignment())
        good = [m for ms in batches.values() for m in ms]
        if validate and good:
            emit({"consumed": [[m.partition, m.offset] for m in good]})
            try:
                consumer.commit()
            except Exception as exc:  # reported; the test accounts for it
                emit({"commit_failed": str(exc)})
    consumer.close()


async def run_aiokafka(
    bootstrap: str, group: str, topic: str, assignor: str, validate: bool
) -> None:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    strategy = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    tracker = Tracker()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=not validate,
        session_timeout_ms=SESSION_MS,
        heartbeat_interval_ms=500,
        partition_assignment_strategy=(strategy[assignor],),
        metadata_max_age_ms=2000,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + LIFETIME_S
        while not STOP.is_set() and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            tracker.update((tp.topic, tp.partition) for tp in consumer.assignment())
            good = [m for ms in batches.values() for m in ms]
            if validate and good:
                emit({"consumed": [[m.partition, m.offset] for m in good]})
                try:
                    await consumer.commit()
                except Exception as exc:  # reported; the test accounts for it
                    emit({"commit_failed": str(exc)})
    finally:
        await consumer.stop()


def main() -> None:
    client, bootstrap, group, topic, assignor = sys.argv[1:6]
    options = sys.argv[6:]
    validate = "--validate" in options
    instance = options[options.index("--instance") + 1] if "--instance" in options else None
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if client == "confluent-kafka":
        run_confluent(bootstrap, group, topic, assignor, validate, instance)
    elif client == "kafka-python":
        run_kafka_python(bootstrap, group, topic, assignor, validate)
    elif client == "aiokafka":
        asyncio.run(run_aiokafka(bootstrap, group, topic, assignor, validate))
    else:
        raise SystemExit(f"unknown client {client}")
    emit({"closed": True})


if __name__ == "__main__":
    main()
