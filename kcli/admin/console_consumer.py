"""The console consumer's engine (Kafka's ConsoleConsumer) on confluent-kafka's Consumer.

Where records start and how partitions are chosen:
  --partition P [--offset N|earliest|latest]  assign that one partition (no group use)
  --group G (or group.id in the properties)   subscribe as a member of G, as Kafka does
  neither                                     assign every partition of the matching topics;
                                              Kafka would join a random console-consumer-NNNNN
                                              group that commits nothing, which amounts to the
                                              same records without needing the group APIs
Options are checked with ConsoleConsumer's own messages (`check_options`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kcli.admin.client import client_config, cluster_metadata, new_client
from kcli.admin.message_formatter import ConsumedRecord
from kcli.admin.topic_model import IncludeList
from kcli.errors import TerseError

EARLIEST = "earliest"
LATEST = "latest"
# librdkafka's logical offsets (RD_KAFKA_OFFSET_BEGINNING / _END)
OFFSET_BEGINNING = -2
OFFSET_END = -1


@dataclass(frozen=True)
class ConsumerOptions:
    topic: str | None = None
    include: str | None = None
    partition: int | None = None
    offset: str | None = None
    from_beginning: bool = False
    group: str | None = None
    max_messages: int | None = None
    timeout_ms: int | None = None

    def start_offset(self) -> int | str:
        """A non-negative offset or EARLIEST/LATEST (ConsoleConsumer's offsetArg)."""
        if self.offset is None:
            return EARLIEST if self.from_beginning else LATEST
        text = self.offset.lower()
        if text in (EARLIEST, LATEST):
            return text
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise TerseError(
                f"The provided offset value '{self.offset}' is incorrect. Valid values are "
                "'earliest', 'latest', or a non-negative long."
            )
        return value


def check_options(opts: ConsumerOptions) -> None:
    """ConsoleConsumer's argument checks, in its order and words."""
    if (opts.topic is None) == (opts.include is None):
        raise TerseError("Exactly one of --include/--topic is required.")
    if opts.partition is not None:
        if opts.topic is None:
            raise TerseError("The topic is required when partition is specified.")
        if opts.from_beginning and opts.offset is not None:
            raise TerseError("Options from-beginning and offset cannot be specified together.")
    elif opts.offset is not None:
        raise TerseError("The partition is required when offset is specified.")
    opts.start_offset()


def consumer_config(
    bootstrap: str,
    config_file: str | None,
    properties: Mapping[str, str],
    opts: ConsumerOptions,
    isolation_level: str | None,
    *,
    verbose: bool = False,
    rng: random.Random | None = None,
) -> tuple[dict[str, Any], bool]:
    """(librdkafka config, whether a group was given), as ConsoleConsumer builds its props."""
    file_config = client_config(bootstrap, config_file, {}, verbose=verbose)
    config = client_config(bootstrap, config_file, properties, verbose=verbose)
    groups = []
    for source in (opts.group, file_config.get("group.id"), properties.get("group.id")):
        if source is not None and source not in groups:
            groups.append(source)
    if len(groups) > 1:
        raise TerseError(
            "The group ids provided in different places (directly using '--group', via "
            "'--consumer-property', or via '--consumer.config') do not match. Detected group "
            "ids: " + ", ".join(f"'{g}'" for g in groups)
        )
    group_given = bool(groups)
    if group_given:
        config["group.id"] = groups[0]
        if opts.partition is not None:
            raise TerseError("Options group and partition cannot be specified together.")
    else:
        config["group.id"] = f"console-consumer-{(rng or random.Random()).randrange(100000)}"
        config.setdefault("enable.auto.commit", "false")
    reset = config.get("auto.offset.reset")
    if opts.from_beginning and reset is not None and reset != EARLIEST:
        raise TerseError(
            f"Can't simultaneously specify --from-beginning and 'auto.offset.reset={reset}', "
            "please remove one option"
        )
    config.setdefault("auto.offset.reset", EARLIEST if opts.from_beginning else LATEST)
    config.setdefault("client.id", "console-consumer")
    if isolation_level is not None:
        config["isolation.level"] = isolation_level
    for java_only in ("key.deserializer", "value.deserializer"):
        config.pop(java_only, None)
    return config, group_given


@dataclass
class RunResult:
    count: int = 0
    timed_out: bool = False
    error: str | None = None


def _ignorable(error: Any) -> bool:
    """End-of-partition and connection notices: librdkafka recovers by itself."""
    from confluent_kafka import KafkaError

    code = error.code()
    if code == KafkaError._PARTITION_EOF:
        return True
    transient = (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
    return not error.fatal() and (code in transient or bool(error.retriable()))


def to_record(message: Any) -> ConsumedRecord:
    ts_type, ts = message.timestamp()
    return ConsumedRecord(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp_type=ts_type,
        timestamp=ts,
        key=message.key(),
        value=message.value(),
        headers=tuple(message.headers() or ()),
    )


class ConsoleConsumer:
    def __init__(self, config: Mapping[str, Any], opts: ConsumerOptions, group_given: bool):
        self.opts = opts
        self.group_given = group_given
        self.group_id = str(config["group.id"])
        self.bootstrap = str(config["bootstrap.servers"])
        self.consumer = new_client("consumer", config)

    def start(self, timeout_s: float) -> None:
        """Check the cluster answers, then assign or subscribe."""
        from confluent_kafka import TopicPartition

        metadata = cluster_metadata(self.consumer, self.bootstrap, timeout_s)
        opts = self.opts
        if self.group_given:
            if opts.topic is not None:
                self.consumer.subscribe([opts.topic])
            else:
                assert opts.include is not None
                self.consumer.subscribe([f"^({IncludeList(opts.include).pattern.pattern})$"])
            return
        start = opts.start_offset()
        logical = {EARLIEST: OFFSET_BEGINNING, LATEST: OFFSET_END}
        offset = logical[start] if isinstance(start, str) else start
        if opts.topic is not None:
            topic = metadata.topics.get(opts.topic)
            if topic is None or (topic.error is not None and not topic.partitions):
                raise TerseError(f"Topic '{opts.topic}' does not exist")
            names = [opts.topic]
        else:
            assert opts.include is not None
            include = IncludeList(opts.include)
            names = sorted(t for t in metadata.topics if include.allows(t))
        if opts.partition is not None:
            if opts.partition not in metadata.topics[names[0]].partitions:
                raise TerseError(f"Partition {opts.partition} of topic '{names[0]}' does not exist")
            assignment = [TopicPartition(names[0], opts.partition, offset)]
        else:
            assignment = [
                TopicPartition(name, p, offset)
                for name in names
                for p in sorted(metadata.topics[name].partitions)
            ]
        self.consumer.assign(assignment)

    def run(
        self,
        emit: Callable[[ConsumedRecord], None],
        flush: Callable[[], None],
        warn: Callable[[str], None] | None = None,
        assignment_wait_s: float = 10.0,
    ) -> RunResult:
        """Consume until --max-messages, --timeout-ms of silence, or a fatal error. A group member
        that still has no partitions after `assignment_wait_s` is told so once via `warn`."""
        result = RunResult()
        check_assignment_at = time.monotonic() + assignment_wait_s if self.group_given else None
        limit = self.opts.max_messages
        idle_s = None if self.opts.timeout_ms is None else self.opts.timeout_ms / 1000
        last = time.monotonic()
        while limit is None or result.count < limit:
            wait = 0.5
            if idle_s is not None:
                wait = max(0.0, min(wait, last + idle_s - time.monotonic()))
            want = 500 if limit is None else max(1, min(500, limit - result.count))
            batch = self.consumer.consume(num_messages=want, timeout=wait)
            for message in batch:
                error = message.error()
                if error is not None:
                    if _ignorable(error):
                        continue
                    flush()
                    result.error = error.str()
                    return result
                emit(to_record(message))
                result.count += 1
                if limit is not None and result.count >= limit:
                    break
            if check_assignment_at is not None and time.monotonic() >= check_assignment_at:
                check_assignment_at = None
                if not batch and not self.consumer.assignment() and warn is not None:
                    warn(
                        f"WARN group '{self.group_id}' has no partitions assigned after "
                        f"{assignment_wait_s:g}s; the broker may not support consumer groups "
                        "(leave out --group to read without one)"
                    )
            if batch:
                flush()
                last = time.monotonic()
            elif idle_s is not None and time.monotonic() - last >= idle_s:
                result.timed_out = True
                break
        return result

    def close(self) -> None:
        self.consumer.close()
