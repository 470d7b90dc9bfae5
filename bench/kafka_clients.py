"""Client-side workloads of kafka_bench.py, each run as its own process (no shared GIL).

    python bench/kafka_clients.py produce --bootstrap 127.0.0.1:9092 --topic t --count 1000000
    python bench/kafka_clients.py consume --bootstrap 127.0.0.1:9092 --topic t --count 1000000
    python bench/kafka_clients.py small   --bootstrap 127.0.0.1:9092 --topic t --count 50000
    python bench/kafka_clients.py latency --bootstrap 127.0.0.1:9092 --topic t --fetch-wait 500

Every workload prints one JSON line on stdout as its last line and exits 0 when every record
was acknowledged or received. `--broker-pid` makes it read the broker's CPU seconds
(/proc/<pid>/stat utime+stime, all threads) right before and after its timed phase. Every loop
is bounded by `--timeout`. The client is confluent-kafka (librdkafka).
"""

from __future__ import annotations

import argparse
import array
import json
import os
import random
import selectors
import struct
import subprocess
import sys
import time
import uuid
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A latency record starts with its scheduled send time (CLOCK_MONOTONIC ns, the same clock in
# every process of this machine) and its sequence number.
STAMP = struct.Struct(">qq")


def cpu_times(pid: int) -> tuple[float, float] | None:
    """(utime, stime) of a process and all its threads, in seconds; None if unreadable."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            # Fields after the ')' that closes the command name: state is [0], utime [11].
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def letters(count: int, size: int) -> bytes:
    """count*size random A-Z bytes: kafka-producer-perf-test's kind of payload (lz4 gains ~0)."""
    rnd = random.Random(42)
    total = count * size
    chunk = 16 * 1024 * 1024  # randbytes() takes at most 2**31 bits at once
    raw = b"".join(rnd.randbytes(min(chunk, total - i)) for i in range(0, total, chunk))
    return raw.translate(bytes(65 + i % 26 for i in range(256)))


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, sort_keys=True), flush=True)


def cpu_delta(
    before: tuple[float, float] | None, after: tuple[float, float] | None
) -> dict[str, float | None]:
    """Broker CPU seconds spent between two cpu_times() readings: total, user and system."""
    if before is None or after is None:
        return {"broker_cpu_s": None, "broker_user_s": None, "broker_sys_s": None}
    user, system = after[0] - before[0], after[1] - before[1]
    return {
        "broker_cpu_s": round(user + system, 3),
        "broker_user_s": round(user, 3),
        "broker_sys_s": round(system, 3),
    }


def wait_for_metadata(client: Producer | Consumer, topic: str) -> list[int]:
    md = client.list_topics(topic, timeout=15)
    meta = md.topics.get(topic)
    if meta is None or meta.error is not None:
        raise SystemExit(f"topic {topic}: no metadata ({meta and meta.error})")
    return sorted(meta.partitions)


# -- produce (throughput, and one record per request) -------------------------------------------


def produce(a: argparse.Namespace) -> int:
    conf: dict[str, Any] = {
        "bootstrap.servers": a.bootstrap,
        "acks": a.acks,
        "compression.type": a.compression,
        "enable.idempotence": False,
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 2_097_151,
        "delivery.report.only.error": True,  # no Python call per record
        "statistics.interval.ms": 0,
    }
    if a.small:
        # One record per ProduceRequest, as many requests in flight as librdkafka allows.
        conf.update({"linger.ms": 0, "batch.num.messages": 1, "max.in.flight": 1_000_000})
    else:
        conf.update(
            {
                "linger.ms": a.linger_ms,
                "batch.size": a.batch_size,
                "batch.num.messages": 1_000_000,  # let batch.size decide, not a record count
                "message.max.bytes": a.batch_size + 65536,
            }
        )
    payload = letters(a.count, a.size)
    errors: list[str] = []

    def on_error(err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            errors.append(str(err))

    producer = Producer(conf)
    partitions = wait_for_metadata(producer, a.topic)
    cpu0, own0 = cpu_times(a.broker_pid), own_cpu_seconds()
    start = time.perf_counter()
    deadline = start + a.timeout
    send, poll, topic, size = producer.produce, producer.poll, a.topic, a.size
    sent = 0
    timed_out = False
    for offset in range(0, a.count * size, size):
        value = payload[offset : offset + size]
        while True:
            try:
                send(topic, value, on_delivery=on_error)
                break
            except BufferError:
                poll(0.001)
                if time.perf_counter() > deadline:
                    timed_out = True
                    break
        if timed_out:
            break
        sent += 1
        if sent & 0x3FFF == 0:
            poll(0)
            if time.perf_counter() > deadline:
                timed_out = True
                break
    unacked = producer.flush(max(0.1, deadline - time.perf_counter()))
    elapsed = time.perf_counter() - start
    cpu1, own1 = cpu_times(a.broker_pid), own_cpu_seconds()
    acked = sent - unacked - len(errors)
    emit(
        {
            "workload": "small" if a.small else "produce",
            "partitions": len(partitions),
            "compression": a.compression,
            "count": a.count,
            "acked": acked,
            "errors": len(errors),
            "first_errors": errors[:3],
            "timed_out": timed_out or unacked > 0,
            "elapsed_s": round(elapsed, 4),
            "records_per_s": round(acked / elapsed, 1),
            "MB_per_s": round(acked * size / elapsed / 1e6, 2),
            **cpu_delta(cpu0, cpu1),
            "client_cpu_s": round(own1 - own0, 3),
        }
    )
    return 0 if acked == a.count else 1


# -- consume ------------------------------------------------------------------------------------


def consume(a: argparse.Namespace) -> int:
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": "bench-" + uuid.uuid4().hex[:8],  # never joined: assign() only
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": False,
            "fetch.max.bytes": 52_428_800,
            "max.partition.fetch.bytes": 4 * 1_048_576,
            # librdkafka stops fetching for fetch.queue.backoff.ms (1 s by default) once
            # queued.min.messages (100k) are buffered; a drain benchmark lifts both.
            "queued.min.messages": 5_000_000,
            "queued.max.messages.kbytes": 1_048_576,
            "fetch.queue.backoff.ms": 5,
            "check.crcs": False,
        }
    )
    partitions = wait_for_metadata(consumer, a.topic)
    cpu0, own0 = cpu_times(a.broker_pid), own_cpu_seconds()
    start = time.perf_counter()
    deadline = start + a.timeout
    consumer.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in partitions])
    received = nbytes = errors = 0
    first_error = None
    first_at: float | None = None
    while received < a.count and time.perf_counter() < deadline:
        messages = consumer.consume(10_000, 0.1)
        if messages and first_at is None:
            first_at = time.perf_counter()
        for m in messages:
            value = m.value()
            if m.error() is not None or value is None:
                errors += 1
                first_error = first_error or str(m.error())
                continue
            received += 1
            nbytes += len(value)
    elapsed = time.perf_counter() - start
    cpu1, own1 = cpu_times(a.broker_pid), own_cpu_seconds()
    consumer.close()
    emit(
        {
            "workload": "consume",
            "partitions": len(partitions),
            "count": a.count,
            "received": received,
            "errors": errors,
            "first_error": first_error,
            "timed_out": received < a.count,
            "elapsed_s": round(elapsed, 4),
            "records_per_s": round(received / elapsed, 1),
            "MB_per_s": round(nbytes / elapsed / 1e6, 2),
            "first_record_s": None if first_at is None else round(first_at - start, 4),
            **cpu_delta(cpu0, cpu1),
            "client_cpu_s": round(own1 - own0, 3),
        }
    )
    return 0 if received >= a.count else 1


# -- end-to-end latency -------------------------------------------------------------------------


def percentile(ordered: list[int], q: float) -> float | None:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return round(ordered[rank - 1] / 1e6, 3)


def summary(values: array.array[int]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
        "p999_ms": percentile(ordered, 99.9),
        "max_ms": round(ordered[-1] / 1e6, 3) if ordered else None,
    }


def stalls(samples: array.array[int], rate: float, over_ms: float = 10.0) -> list[list[float]]:
    """Episodes of records slower than `over_ms`: [second of the run when it began, records,
    worst ms], the 5 worst. One stall of the broker, the client or the machine shows up as
    one episode of consecutive records, so a p99 made of a few stalls is told from a slow
    broker (many short episodes)."""
    episodes: list[list[float]] = []
    last_seq = -10
    for i in range(0, len(samples), 2):
        seq, nanos = samples[i], samples[i + 1]
        if nanos < over_ms * 1e6:
            continue
        if seq - last_seq > 5 or not episodes:
            episodes.append([round(seq / rate, 2), 0, 0.0])
        episodes[-1][1] += 1
        episodes[-1][2] = max(episodes[-1][2], round(nanos / 1e6, 1))
        last_seq = seq
    return sorted(episodes, key=lambda e: -e[2])[:5]


def latency_consumer(a: argparse.Namespace) -> int:
    """Consumer half of `latency`: assigned at the end offsets, says READY, times each record."""
    parent = os.getppid()
    consumer = Consumer(
        {
            "bootstrap.servers": a.bootstrap,
            "group.id": "bench-lat-" + uuid.uuid4().hex[:8],
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "fetch.wait.max.ms": a.fetch_wait,
            "fetch.min.bytes": 1,
        }
    )
    partitions = wait_for_metadata(consumer, a.topic)
    ends = []
    for p in partitions:
        _low, high = consumer.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)
        ends.append(TopicPartition(a.topic, p, high))
    consumer.assign(ends)
    consumer.poll(0.3)  # let the fetchers start before the first record is sent
    print("READY", flush=True)
    latencies: array.array[int] = array.array("q")
    by_seq: array.array[int] = array.array("q")  # (seq, latency) pairs, for stalls()
    received = errors = 0
    deadline = time.monotonic() + a.timeout
    while received < a.total and time.monotonic() < deadline and os.getppid() == parent:
        m = consumer.poll(0.05)
        if m is None:
            continue
        now = time.monotonic_ns()
        value = m.value()
        if m.error() is not None or value is None:
            errors += 1
            continue
        scheduled, seq = STAMP.unpack_from(value)
        received += 1
        if seq >= a.warmup_count:
            latencies.append(now - scheduled)
            by_seq.extend((seq - a.warmup_count, now - scheduled))
    consumer.close()
    episodes = stalls(by_seq, a.rate)
    emit({"received": received, "errors": errors, "e2e": summary(latencies), "stalls": episodes})
    return 0


def read_line(proc: subprocess.Popen[str], timeout: float) -> str | None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return None
    return proc.stdout.readline()


def latency(a: argparse.Namespace) -> int:
    """Send `rate` records/s for warmup+duration s (acks=all); the consumer, in another
    process, times each from its *scheduled* send time, so a stall is not hidden."""
    total = int(a.rate * (a.warmup + a.duration))
    warmup_count = int(a.rate * a.warmup)
    consumer_argv = [
        sys.executable, __file__, "latency-consumer", "--bootstrap", a.bootstrap,
        "--topic", a.topic, "--fetch-wait", str(a.fetch_wait), "--total", str(total),
        "--warmup-count", str(warmup_count), "--timeout", str(a.warmup + a.duration + 30),
        "--rate", str(a.rate),
    ]  # fmt: skip
    proc = subprocess.Popen(consumer_argv, stdout=subprocess.PIPE, text=True)
    try:
        return _latency_producer(a, proc, total, warmup_count)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _latency_producer(
    a: argparse.Namespace, proc: subprocess.Popen[str], total: int, warmup_count: int
) -> int:
    producer = Producer(
        {
            "bootstrap.servers": a.bootstrap,
            "acks": "all",
            "linger.ms": 0,
            "enable.idempotence": False,
        }
    )
    wait_for_metadata(producer, a.topic)
    if (read_line(proc, 30) or "").strip() != "READY":
        raise SystemExit("latency consumer did not get ready in 30 s")
    pad = b"p" * max(0, a.size - STAMP.size)
    acks: array.array[int] = array.array("q")
    errors: list[str] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            errors.append(str(err))
            return
        value = msg.value()
        if value is not None:
            scheduled, seq = STAMP.unpack_from(value)
            if seq >= warmup_count:
                acks.append(time.monotonic_ns() - scheduled)

    interval = int(1e9 / a.rate)
    first = time.monotonic_ns() + 20_000_000
    worst_lag = 0
    for seq in range(total):
        scheduled = first + seq * interval
        while (wait := scheduled - time.monotonic_ns()) > 0:
            producer.poll(wait / 1e9)
        worst_lag = max(worst_lag, -wait)
        producer.produce(a.topic, STAMP.pack(scheduled, seq) + pad, on_delivery=on_delivery)
        producer.poll(0)
    producer.flush(15)
    line = read_line(proc, a.warmup + a.duration + 40) or "{}"
    proc.wait(10)
    result = json.loads(line)
    emit(
        {
            "workload": "latency",
            "fetch_wait_ms": a.fetch_wait,
            "rate": a.rate,
            "sent": total,
            "received": result.get("received", 0),
            "errors": len(errors) + result.get("errors", 0),
            "first_errors": errors[:3],
            "max_send_lag_ms": round(worst_lag / 1e6, 3),
            "e2e": result.get("e2e", summary(array.array("q"))),
            "stalls": result.get("stalls", []),
            "ack": summary(acks),
        }
    )
    return 0 if result.get("received") == total and not errors else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="workload", required=True)
    for name in ("produce", "small", "consume", "latency", "latency-consumer"):
        p = sub.add_parser(name)
        p.add_argument("--bootstrap", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--timeout", type=float, default=120.0, help="cap on the timed phase")
        p.add_argument("--broker-pid", type=int, default=0)
        p.add_argument("--count", type=int, default=1_000_000)
        p.add_argument("--size", type=int, default=100)
    for name in ("produce", "small"):
        p = sub.choices[name]
        p.add_argument("--acks", default="1")
        p.add_argument("--compression", default="none")
        p.add_argument("--linger-ms", type=float, default=5)
        p.add_argument("--batch-size", type=int, default=1_048_576)
    for name in ("latency", "latency-consumer"):
        p = sub.choices[name]
        p.add_argument("--fetch-wait", type=int, default=500, help="fetch.wait.max.ms")
    for name in ("latency", "latency-consumer"):
        sub.choices[name].add_argument("--rate", type=float, default=1000)
    sub.choices["latency"].add_argument("--duration", type=float, default=10)
    sub.choices["latency"].add_argument("--warmup", type=float, default=1)
    sub.choices["latency-consumer"].add_argument("--total", type=int, required=True)
    sub.choices["latency-consumer"].add_argument("--warmup-count", type=int, default=0)
    a = parser.parse_args(argv)
    a.small = a.workload == "small"
    run = {
        "produce": produce,
        "small": produce,
        "consume": consume,
        "latency": latency,
        "latency-consumer": latency_consumer,
    }[a.workload]
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
