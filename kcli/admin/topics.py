"""`kcli topics` on the AdminClient (Kafka's TopicCommand.AdminClientTopicService).

Every call is bounded by the command's timeout. Broker errors keep the broker's message when it
sent one; librdkafka's generic texts (`Broker: Topic already exists`) are replaced by the
messages a ZooKeeper-mode Kafka broker sends, so output matches kafka-topics.sh either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kcli.admin.assignment import parse_replica_assignment
from kcli.admin.client import (
    client_config,
    cluster_metadata,
    is_connection_error,
    kafka_error_code,
    kafka_error_text,
    new_client,
    unreachable,
)
from kcli.admin.kafka_znodes import kafka_uuid_text
from kcli.admin.topic_model import (
    SHORT_MAX,
    PartitionDescription,
    TopicCommandError,
    TopicCommandOptions,
    TopicDescription,
    ensure_topic_exists,
    parse_topic_configs,
    select_topics,
)
from kcli.errors import TerseError
from kcli.protocol.topic import is_internal

Out = Callable[[str], None]

# Kafka error codes (org.apache.kafka.common.protocol.Errors) and librdkafka's local ones.
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC = 17
TOPIC_ALREADY_EXISTS = 36
INVALID_REPLICATION_FACTOR = 38
UNSUPPORTED_VERSION = 35
LOCAL_UNSUPPORTED_FEATURE = -165


def kafka_topic_id(uuid: Any) -> str | None:
    """confluent-kafka's Uuid as Kafka prints it (base64url, no padding); None for zero."""
    if uuid is None:
        return None
    msb = uuid.get_most_significant_bits() & (2**64 - 1)
    lsb = uuid.get_least_significant_bits() & (2**64 - 1)
    if msb == 0 and lsb == 0:
        return None
    return kafka_uuid_text(msb.to_bytes(8, "big") + lsb.to_bytes(8, "big"))


class AdminClientTopicService:
    def __init__(self, opts: TopicCommandOptions, timeout_s: float, verbose: bool = False) -> None:
        assert opts.bootstrap_server is not None
        self.bootstrap = opts.bootstrap_server
        self.timeout_s = timeout_s
        config = client_config(self.bootstrap, opts.command_config, verbose=verbose)
        config.setdefault("client.id", "kcli-topics")
        self.admin = new_client("admin", config)
        self.metadata = cluster_metadata(self.admin, self.bootstrap, timeout_s)

    # -- helpers ------------------------------------------------------------------------------

    def _topics(self, topic: str | None, exclude_internal: bool) -> list[str]:
        return select_topics(list(self.metadata.topics), topic, exclude_internal)

    def _result(self, future: Any, topic: str, what: str, rf: int | None = None) -> Any:
        from confluent_kafka import KafkaException

        try:
            return future.result(timeout=self.timeout_s + 5)
        except KafkaException as exc:
            raise self._error(exc, topic, what, rf) from None
        except TimeoutError:
            raise unreachable(self.bootstrap, self.timeout_s) from None

    def _error(
        self, exc: BaseException, topic: str, what: str, rf: int | None = None
    ) -> TerseError:
        code = kafka_error_code(exc)
        text = kafka_error_text(exc)
        generic = text.startswith("Broker: ") or not text
        if code in (LOCAL_UNSUPPORTED_FEATURE, UNSUPPORTED_VERSION):
            return TopicCommandError(f"the broker at {self.bootstrap} does not support {what}")
        if is_connection_error(exc):
            return unreachable(self.bootstrap, self.timeout_s)
        if not generic:
            return TopicCommandError(text, code)
        if code == TOPIC_ALREADY_EXISTS:
            return TopicCommandError(f"Topic '{topic}' already exists.", code)
        if code == UNKNOWN_TOPIC_OR_PARTITION:
            return TopicCommandError(f"Topic '{topic}' does not exist as expected", code)
        if code == INVALID_REPLICATION_FACTOR and rf is not None:
            brokers = len(self.metadata.brokers)
            return TopicCommandError(
                f"Replication factor: {rf} larger than available brokers: {brokers}.", code
            )
        if code == INVALID_TOPIC:
            from kcli.protocol.topic import topic_name_error

            return TopicCommandError(topic_name_error(topic) or text, code)
        return TopicCommandError(text, code)

    # -- actions ------------------------------------------------------------------------------

    def list_topics(self, opts: TopicCommandOptions) -> tuple[list[str], set[str]]:
        return self._topics(opts.topic, opts.exclude_internal), set()

    def live_brokers(self) -> frozenset[int]:
        return frozenset(int(b) for b in self.metadata.brokers)

    def create(self, opts: TopicCommandOptions, out: Out) -> None:
        from confluent_kafka.admin import NewTopic  # type: ignore[attr-defined]  # re-exported from cimpl

        assert opts.topic is not None
        rf, partitions = opts.replication_factor, opts.partitions
        if rf is not None and not 1 <= rf <= SHORT_MAX:
            raise TopicCommandError(
                f"The replication factor must be between 1 and {SHORT_MAX} inclusive"
            )
        if partitions is not None and partitions < 1:
            raise TopicCommandError("The partitions must be greater than 0")
        configs = parse_topic_configs(opts.configs)
        if opts.replica_assignment is not None:
            assignment = parse_replica_assignment(opts.replica_assignment)
            # confluent-kafka reads num_partitions=-1 as "broker default", which it refuses
            # next to an assignment; the count must be the assignment's.
            new_topic = NewTopic(
                opts.topic,
                num_partitions=len(assignment),
                replica_assignment=[assignment[p] for p in sorted(assignment)],
                config=configs,
            )
        else:
            new_topic = NewTopic(
                opts.topic,
                num_partitions=-1 if partitions is None else partitions,
                replication_factor=-1 if rf is None else rf,
                config=configs,
            )
        futures = self.admin.create_topics(
            [new_topic], operation_timeout=self.timeout_s, request_timeout=self.timeout_s
        )
        try:
            self._result(futures[opts.topic], opts.topic, "CreateTopics", rf)
        except TopicCommandError as exc:
            if exc.code == TOPIC_ALREADY_EXISTS and opts.if_not_exists:
                return
            raise
        out(f"Created topic {opts.topic}.")

    def describe(self, opts: TopicCommandOptions) -> list[TopicDescription]:
        names = self._topics(opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        if not names:
            return []
        configs = self._configs(names)
        try:
            described = self._describe_topics(names)
        except TopicCommandError as exc:
            if "does not support" not in exc.message:
                raise
            described = {}  # an old broker: fall back to Metadata (no topic ids)
        result: list[TopicDescription] = []
        for name in names:
            topic_configs, min_isr = configs.get(name, ({}, None))
            topic_id, partitions = described.get(name) or (None, self._metadata_partitions(name))
            result.append(
                TopicDescription(
                    name, topic_id, partitions, topic_configs, min_isr, internal=is_internal(name)
                )
            )
        return result

    def _describe_topics(
        self, names: list[str]
    ) -> dict[str, tuple[str | None, tuple[PartitionDescription, ...]]]:
        from confluent_kafka import TopicCollection

        futures = self.admin.describe_topics(TopicCollection(names), request_timeout=self.timeout_s)
        result = {}
        for name, future in futures.items():
            desc = self._result(future, name, "DescribeTopics (Metadata v10+)")
            partitions = tuple(
                PartitionDescription(
                    p.id,
                    p.leader.id if p.leader is not None and p.leader.id >= 0 else None,
                    tuple(n.id for n in p.replicas),
                    tuple(n.id for n in p.isr),
                )
                for p in desc.partitions
            )
            result[name] = (kafka_topic_id(desc.topic_id), partitions)
        return result

    def _metadata_partitions(self, name: str) -> tuple[PartitionDescription, ...]:
        topic = self.metadata.topics[name]
        return tuple(
            PartitionDescription(
                p.id, p.leader if p.leader >= 0 else None, tuple(p.replicas), tuple(p.isrs)
            )
            for p in topic.partitions.values()
        )

    def _configs(self, names: list[str]) -> dict[str, tuple[dict[str, str], int | None]]:
        """Non-default configs and min.insync.replicas per topic ({} if unsupported)."""
        from confluent_kafka.admin import ConfigResource  # type: ignore[attr-defined]  # re-exported from cimpl

        resources = [ConfigResource("topic", n) for n in names]
        futures = self.admin.describe_configs(resources, request_timeout=self.timeout_s)
        result: dict[str, tuple[dict[str, str], int | None]] = {}
        for resource, future in futures.items():
            try:
                entries = self._result(future, resource.name, "DescribeConfigs")
            except TopicCommandError as exc:
                if "does not support" in exc.message:
                    return {}
                raise
            non_default = {
                e.name: "" if e.value is None else e.value
                for e in entries.values()
                if not e.is_default
            }
            min_isr_entry = entries.get("min.insync.replicas")
            min_isr = int(min_isr_entry.value) if min_isr_entry and min_isr_entry.value else None
            result[resource.name] = (non_default, min_isr)
        return result

    def alter(self, opts: TopicCommandOptions, out: Out) -> None:
        from confluent_kafka.admin import NewPartitions  # type: ignore[attr-defined]  # re-exported from cimpl

        names = self._topics(opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        assert opts.partitions is not None
        assignment = (
            parse_replica_assignment(opts.replica_assignment) if opts.replica_assignment else None
        )
        requests = []
        for name in names:
            if is_internal(name):
                raise TopicCommandError(
                    f"The number of partitions for the internal topic {name} cannot be changed."
                )
            existing = len(self.metadata.topics[name].partitions)
            if assignment is not None:
                extra = [assignment[p] for p in sorted(assignment) if p >= existing]
                requests.append(NewPartitions(name, opts.partitions, extra))
            else:
                requests.append(NewPartitions(name, opts.partitions))
        if not requests:
            return
        futures = self.admin.create_partitions(
            requests, operation_timeout=self.timeout_s, request_timeout=self.timeout_s
        )
        for name, future in futures.items():
            self._result(future, name, "CreatePartitions")

    def delete(self, opts: TopicCommandOptions, out: Out) -> None:
        names = self._topics(opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        if not names:
            return
        futures = self.admin.delete_topics(
            names, operation_timeout=self.timeout_s, request_timeout=self.timeout_s
        )
        for name, future in futures.items():
            self._result(future, name, "DeleteTopics")

    def close(self) -> None:
        """AdminClient has no close(); dropping it ends its threads."""
        self.admin = None
