"""The console producer's engine (Kafka's ConsoleProducer) on confluent-kafka's Producer.

Configuration follows ConsoleProducer.producerProps: --producer.config, then --producer-property,
then each dedicated option (given explicitly it wins; otherwise its default fills a gap). Java
producer names librdkafka lacks are translated (buffer.memory, delivery.timeout.ms) or dropped
(serializers). A failed delivery is printed as Kafka's ErrorLoggingCallback logs it and counted,
so the command can exit non-zero; nothing is swallowed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kcli.admin.client import client_config, cluster_metadata, kafka_error_text, new_client
from kcli.admin.line_reader import Record
from kcli.errors import ConfigError, TerseError

UNKNOWN_TOPIC_OR_PARTITION = 3
Err = Callable[[str], None]

# (option name, Java property, librdkafka property, default) for ConsoleProducer's options.
OPTION_PROPERTIES: tuple[tuple[str, str, str, str], ...] = (
    ("request_required_acks", "acks", "acks", "-1"),
    ("timeout", "linger.ms", "linger.ms", "1000"),
    ("batch_size", "batch.size", "batch.size", "16384"),
    ("message_send_max_retries", "retries", "retries", "3"),
    ("retry_backoff_ms", "retry.backoff.ms", "retry.backoff.ms", "100"),
    ("request_timeout_ms", "request.timeout.ms", "request.timeout.ms", "1500"),
    ("metadata_expiry_ms", "metadata.max.age.ms", "topic.metadata.refresh.interval.ms", "300000"),
    ("socket_buffer_size", "send.buffer.bytes", "socket.send.buffer.bytes", "102400"),
)
JAVA_ONLY_DROPPED = frozenset(
    {"key.serializer", "value.serializer", "partitioner.class", "interceptor.classes"}
)
DEFAULT_DELIVERY_TIMEOUT_MS = "120000"  # Kafka's delivery.timeout.ms
DEFAULT_MAX_BLOCK_MS = 60000


def producer_config(
    bootstrap: str,
    config_file: str | None,
    properties: Mapping[str, str],
    options: Mapping[str, str | None],
    compression_codec: str | None,
    *,
    verbose: bool = False,
) -> tuple[dict[str, Any], int]:
    """(librdkafka config, max.block.ms) as ConsoleProducer.producerProps builds them."""
    config = client_config(bootstrap, config_file, properties, verbose=verbose)
    max_block_ms = int(config.pop("max.block.ms", DEFAULT_MAX_BLOCK_MS))
    for name in JAVA_ONLY_DROPPED:
        config.pop(name, None)
    if "buffer.memory" in config:
        config["queue.buffering.max.kbytes"] = str(max(1, int(config.pop("buffer.memory")) // 1024))
    if "delivery.timeout.ms" in config:
        config["message.timeout.ms"] = config.pop("delivery.timeout.ms")
    config.setdefault("message.timeout.ms", DEFAULT_DELIVERY_TIMEOUT_MS)
    config.setdefault("client.id", "console-producer")
    # Kafka's Java clients hash keys with murmur2; librdkafka's default (consistent_random,
    # CRC32) would send the same key to a different partition than kafka-console-producer.sh.
    config.setdefault("partitioner", "murmur2_random")
    for option, java_key, rd_key, default in OPTION_PROPERTIES:
        value = options.get(option)
        if java_key != rd_key and java_key in config:
            config[rd_key] = config.pop(java_key)
        if value is not None:
            config[rd_key] = value
        else:
            config.setdefault(rd_key, default)
    if options.get("max_memory_bytes") is not None:
        config["queue.buffering.max.kbytes"] = str(
            max(1, int(str(options["max_memory_bytes"])) // 1024)
        )
    if options.get("max_block_ms") is not None:
        max_block_ms = int(str(options["max_block_ms"]))
    if compression_codec is not None:
        config["compression.type"] = compression_codec
    else:
        config.setdefault("compression.type", "none")
    # librdkafka refuses linger.ms >= message.timeout.ms; Kafka requires the same relation.
    if int(config["linger.ms"]) >= int(config["message.timeout.ms"]):
        raise ConfigError(
            "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms"
        )
    return config, max_block_ms


def error_timestamp(now: float | None = None) -> str:
    """log4j's `%d` (ISO8601 with a comma before milliseconds)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    return moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{moment.microsecond // 1000:03d}"


def send_error_line(topic: str, key: bytes | None, value: bytes | None, error: str) -> str:
    """ErrorLoggingCallback's message (key and value as sizes) in tools-log4j's layout."""
    key_text = "null" if key is None else f"{len(key)} bytes"
    value_text = "null" if value is None else f"{len(value)} bytes"
    return (
        f"[{error_timestamp()}] ERROR Error when sending message to topic {topic} with key: "
        f"{key_text}, value: {value_text} with error: {error} "
        "(org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)"
    )


@dataclass
class DeliveryStats:
    sent: int = 0
    delivered: int = 0
    failed: int = 0


class ConsoleProducer:
    def __init__(
        self,
        config: Mapping[str, Any],
        topic: str,
        *,
        sync: bool,
        max_block_ms: int,
        err: Err,
    ) -> None:
        self.topic = topic
        self.sync = sync
        self.max_block_s = max_block_ms / 1000
        self.err = err
        self.stats = DeliveryStats()
        self.bootstrap = str(config["bootstrap.servers"])
        self.delivery_timeout_s = int(config["message.timeout.ms"]) / 1000
        self.producer = new_client("producer", config)

    def check_cluster(self, timeout_s: float) -> None:
        """Fail fast, in one line, when no broker answers or the topic cannot exist."""
        metadata = cluster_metadata(self.producer, self.bootstrap, timeout_s, self.topic)
        topic = metadata.topics.get(self.topic)
        error = getattr(topic, "error", None)
        if error is not None and error.code() == UNKNOWN_TOPIC_OR_PARTITION:
            raise TerseError(
                f"Topic '{self.topic}' does not exist and the broker does not create it "
                "(auto.create.topics.enable=false)"
            )

    def _on_delivery(self, key: bytes | None, value: bytes | None) -> Callable[[Any, Any], None]:
        def callback(error: Any, _message: Any) -> None:
            if error is None:
                self.stats.delivered += 1
                return
            self.stats.failed += 1
            self.err(send_error_line(self.topic, key, value, error.str()))

        return callback

    def _fail(self, record: Record, error: str) -> None:
        self.stats.failed += 1
        self.err(send_error_line(self.topic, record.key, record.value, error))

    def send(self, record: Record) -> None:
        from confluent_kafka import KafkaException

        headers: list[tuple[str, str | bytes | None]] | None = list(record.headers) or None
        deadline = time.monotonic() + self.max_block_s
        while True:
            try:
                self.producer.produce(
                    self.topic,
                    value=record.value,
                    key=record.key,
                    headers=headers,
                    on_delivery=self._on_delivery(record.key, record.value),
                )
                break
            except BufferError:
                # The local queue is full: serve callbacks, then retry until max.block.ms.
                if time.monotonic() >= deadline:
                    self._fail(
                        record,
                        "Failed to allocate memory within the configured max blocking time "
                        f"{int(self.max_block_s * 1000)} ms.",
                    )
                    return
                self.producer.poll(0.05)
            except KafkaException as exc:  # refused before sending, e.g. over message.max.bytes
                self._fail(record, kafka_error_text(exc))
                return
        self.stats.sent += 1
        if self.sync:
            self.producer.flush(self.delivery_timeout_s + 5)
        else:
            self.producer.poll(0)

    def poll(self, timeout_s: float) -> None:
        self.producer.poll(timeout_s)

    def close(self) -> int:
        """Flush (bounded by the delivery timeout); returns how many records did not arrive."""
        remaining = int(self.producer.flush(self.delivery_timeout_s + 5))
        if remaining:
            self.stats.failed += remaining
            self.err(
                f"[{error_timestamp()}] ERROR {remaining} message(s) to topic {self.topic} were "
                f"not delivered within {self.delivery_timeout_s:g}s"
            )
        return self.stats.failed
