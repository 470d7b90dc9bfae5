"""`kcli consumer-groups` on confluent-kafka's AdminClient (Kafka's ConsumerGroupService).

Every call is bounded by --timeout. Results come back as groups_model's plain data; deciding
what to print is the command's view. Broker errors are reported as Kafka's tool reports them
(the Java exception's class and message), not as librdkafka's texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kcli.admin.client import (
    client_config,
    cluster_metadata,
    is_connection_error,
    kafka_error_code,
    kafka_error_text,
    new_client,
    unreachable,
)
from kcli.admin.groups_model import (
    TP,
    Coordinator,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    Member,
    error_message,
    error_string,
    offset_rows,
    partitions_of_rows,
)
from kcli.admin.groups_options import GroupCommandOptions, parse_topic_arg
from kcli.admin.groups_reset import (
    FAILED,
    LogOffsets,
    ResetError,
    ResetPlan,
    Scenario,
    parse_datetime_ms,
    parse_duration_ms,
    parse_reset_plan,
    plan_reset,
)
from kcli.errors import TerseError

UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_ERRORS = (14, 15, 16)
# confluent-kafka's ConsumerGroupState member names -> Kafka's state names.
STATE_NAMES = {
    "UNKNOWN": "Unknown",
    "PREPARING_REBALANCING": "PreparingRebalance",
    "COMPLETING_REBALANCING": "CompletingRebalance",
    "STABLE": "Stable",
    "DEAD": "Dead",
    "EMPTY": "Empty",
}


class GroupCommandError(TerseError):
    """A failure of one call, worded as Kafka's tool words it; `code` is the Kafka error code
    when the broker sent one, `detail` the Java exception text alone."""

    def __init__(self, message: str, code: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail or message


@dataclass
class GroupReset:
    group: str
    plan: ResetPlan = field(default_factory=ResetPlan)
    committed: dict[TP, int] = field(default_factory=dict)
    error: str | None = None  # refused (active group) or no plan for it in --from-file


@dataclass
class DeleteOffsetsResult:
    top_error: int  # 0, or the first error (Kafka's `all()` future)
    partitions: list[tuple[str, int, str | None]]  # partition -1: topic not found


def scenario_of(opts: GroupCommandOptions, now_ms: int) -> Scenario:
    """The chosen --to-* option, with --to-datetime/--by-duration resolved to a timestamp."""
    kind = opts.scenarios()[0]
    if kind == "to-offset":
        return Scenario(kind, opts.to_offset)
    if kind == "shift-by":
        return Scenario(kind, opts.shift_by)
    if kind == "to-datetime":
        assert opts.to_datetime is not None
        return Scenario(kind, parse_datetime_ms(opts.to_datetime))
    if kind == "by-duration":
        assert opts.by_duration is not None
        return Scenario(kind, now_ms - parse_duration_ms(opts.by_duration))
    return Scenario(kind)


class ConsumerGroupService:
    def __init__(self, opts: GroupCommandOptions, verbose: bool = False) -> None:
        assert opts.bootstrap_server is not None
        self.bootstrap = opts.bootstrap_server
        self.timeout_s = max(opts.timeout_ms, 1) / 1000
        self.config = client_config(self.bootstrap, opts.command_config, verbose=verbose)
        self.config.setdefault("client.id", "kcli-consumer-groups")
        self.admin = new_client("admin", self.config)
        self.metadata = cluster_metadata(self.admin, self.bootstrap, self.timeout_s)

    def _result(self, future: Any) -> Any:
        from confluent_kafka import KafkaException

        try:
            return future.result(timeout=self.timeout_s + 5)
        except KafkaException as exc:
            if is_connection_error(exc):
                raise unreachable(self.bootstrap, self.timeout_s) from None
            code = kafka_error_code(exc)
            text = kafka_error_text(exc)
            java = error_string(code, text) if code is not None and code > 0 else text
            raise GroupCommandError(FAILED + java, code, java) from None
        except TimeoutError:
            raise unreachable(self.bootstrap, self.timeout_s) from None

    # -- reads ---------------------------------------------------------------------------------

    def list_groups(self, states: set[str] | None = None) -> list[GroupListing]:
        from confluent_kafka import ConsumerGroupState

        kwargs: dict[str, Any] = {"request_timeout": self.timeout_s}
        if states:
            by_kafka = {v: k for k, v in STATE_NAMES.items()}
            kwargs["states"] = {ConsumerGroupState[by_kafka[s]] for s in states}
        result = self._result(self.admin.list_consumer_groups(**kwargs))
        listings = [
            GroupListing(
                g.group_id, STATE_NAMES.get(g.state.name, "Unknown") if g.state else "Unknown"
            )
            for g in result.valid
        ]
        return sorted(listings, key=lambda g: g.group)

    def group_ids(self, opts: GroupCommandOptions) -> list[str]:
        if opts.all_groups:
            return [g.group for g in self.list_groups()]
        return list(dict.fromkeys(opts.groups))

    def describe(self, groups: list[str]) -> dict[str, GroupDescription]:
        """Descriptions by group id, sorted (Kafka collects them in a TreeMap)."""
        groups = sorted(set(groups))
        if not groups:
            return {}
        futures = self.admin.describe_consumer_groups(groups, request_timeout=self.timeout_s)
        result: dict[str, GroupDescription] = {}
        for group in groups:
            d = self._result(futures[group])
            coordinator = (
                Coordinator(d.coordinator.id, d.coordinator.host, d.coordinator.port)
                if d.coordinator is not None
                else None
            )
            members = tuple(
                Member(
                    m.member_id,
                    m.client_id,
                    m.host,
                    m.group_instance_id,
                    tuple((tp.topic, tp.partition) for tp in m.assignment.topic_partitions),
                )
                for m in d.members
            )
            state = STATE_NAMES.get(d.state.name, "Unknown") if d.state else "Unknown"
            result[group] = GroupDescription(
                group, state, coordinator, d.partition_assignor or "", members
            )
        return result

    def committed(self, group: str) -> dict[TP, int]:
        from confluent_kafka import ConsumerGroupTopicPartitions

        futures = self.admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout_s
        )
        answer = self._result(futures[group])
        return {
            (tp.topic, tp.partition): tp.offset
            for tp in answer.topic_partitions or []
            if tp.error is None and tp.offset >= 0
        }

    def log_offsets(self, partitions: set[TP] | list[TP], spec: str | int) -> dict[TP, int]:
        """ListOffsets per partition: "earliest", "latest" or a timestamp; failed ones left out."""
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec  # type: ignore[attr-defined]  # re-exported

        if not partitions:
            return {}
        if spec == "earliest":
            offset_spec = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
        elif spec == "latest":
            offset_spec = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        else:
            offset_spec = OffsetSpec.for_timestamp(int(spec))
        request = {TopicPartition(t, p): offset_spec for t, p in sorted(partitions)}
        futures = self.admin.list_offsets(request, request_timeout=self.timeout_s)
        found: dict[TP, int] = {}
        for tp, future in futures.items():
            try:
                found[(tp.topic, tp.partition)] = int(self._result(future).offset)
            except GroupCommandError:
                continue
        return found

    def collect_offsets(self, groups: list[str]) -> list[GroupOffsets]:
        described = self.describe(groups)
        committed = {g: self.committed(g) for g, d in described.items() if d.state != "Dead"}
        log_end = self.log_offsets(
            partitions_of_rows(list(described.values()), committed), "latest"
        )
        return [
            GroupOffsets(d, offset_rows(d, committed.get(g, {}), log_end))
            for g, d in described.items()
        ]

    def topic_partitions(self, topic: str) -> list[TP]:
        known = self.metadata.topics.get(topic)
        if known is None or known.error is not None:
            raise GroupCommandError(FAILED + error_string(UNKNOWN_TOPIC_OR_PARTITION), 3)
        return [(topic, p) for p in sorted(known.partitions)]

    def _scope(self, opts: GroupCommandOptions, committed: Mapping[TP, int]) -> list[TP]:
        if opts.all_topics:
            return sorted(committed)
        partitions: list[TP] = []
        for arg in opts.topics:
            topic, explicit = parse_topic_arg(arg)
            if explicit is None:
                partitions.extend(self.topic_partitions(topic))
                continue
            existing = set(self.topic_partitions(topic))
            for p in explicit:
                if (topic, p) not in existing:
                    raise GroupCommandError(FAILED + error_string(UNKNOWN_TOPIC_OR_PARTITION), 3)
                partitions.append((topic, p))
        return list(dict.fromkeys(partitions))

    # -- writes --------------------------------------------------------------------------------

    def reset(self, opts: GroupCommandOptions, now_ms: int) -> list[GroupReset]:
        """Plan (and with --execute, commit) new offsets for each inactive group."""
        scenario = scenario_of(opts, now_ms)
        file_plan: dict[str, dict[TP, int]] | None = None
        if opts.from_file is not None:
            try:
                with open(opts.from_file, encoding="utf-8") as f:
                    text = f.read()
            except OSError as exc:
                raise ResetError(FAILED + f"{opts.from_file} ({exc.strerror})") from None
            file_plan = parse_reset_plan(text, opts.groups)
        groups = self.group_ids(opts)
        results: list[GroupReset] = []
        for group, desc in self.describe(groups).items():
            if desc.state not in ("Empty", "Dead"):
                results.append(GroupReset(group, error=(
                    f"Assignments can only be reset if the group '{group}' is inactive, but the "
                    f"current state is {desc.state}."
                )))  # fmt: skip
                continue
            committed = self.committed(group)
            from_file = None
            if file_plan is not None:
                if group not in file_plan:
                    results.append(
                        GroupReset(group, error=f"No reset plan for group {group} found")
                    )
                    continue
                from_file = file_plan[group]
                partitions = sorted(from_file)
            else:
                partitions = self._scope(opts, committed)
            logs = LogOffsets(
                earliest=self.log_offsets(partitions, "earliest"),
                latest=self.log_offsets(partitions, "latest"),
            )
            if scenario.kind in ("to-datetime", "by-duration"):
                assert scenario.value is not None
                logs.by_time = self.log_offsets(partitions, scenario.value)
            plan = plan_reset(scenario, partitions, committed, logs, from_file)
            if opts.execute and plan.offsets:
                self._alter(group, plan.offsets)
            results.append(GroupReset(group, plan, committed))
        return results

    def _alter(self, group: str, offsets: Mapping[TP, int]) -> None:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(
            group, [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        )
        futures = self.admin.alter_consumer_group_offsets([request], request_timeout=self.timeout_s)
        answer = self._result(futures[group])
        for tp in answer.topic_partitions or []:
            if tp.error is not None:
                code = int(tp.error.code())
                raise GroupCommandError(FAILED + error_string(code, tp.error.str()), code)

    def delete(self, groups: list[str]) -> list[tuple[str, str | None]]:
        """DeleteGroups: (group, None) when deleted, else Kafka's `exception.toString`."""
        if not groups:
            return []
        futures = self.admin.delete_consumer_groups(groups, request_timeout=self.timeout_s)
        results: list[tuple[str, str | None]] = []
        for group in groups:
            try:
                self._result(futures[group])
                results.append((group, None))
            except GroupCommandError as exc:
                results.append((group, exc.detail))
        return results

    def delete_offsets(self, group: str, topics: list[str]) -> DeleteOffsetsResult:
        from kcli.admin.groups_wire import offset_delete

        protocol = str(self.config.get("security.protocol", "PLAINTEXT")).upper()
        if protocol != "PLAINTEXT":
            raise TerseError(
                "--delete-offsets speaks OffsetDelete itself and supports only PLAINTEXT "
                f"listeners, not {protocol}"
            )
        rows: list[tuple[str, int, str | None]] = []
        wanted: list[TP] = []
        for arg in topics:
            topic, explicit = parse_topic_arg(arg)
            if explicit is not None:
                wanted.extend((topic, p) for p in explicit)
            elif topic in self.metadata.topics and self.metadata.topics[topic].error is None:
                wanted.extend(self.topic_partitions(topic))
            else:
                rows.append((topic, -1, error_message(UNKNOWN_TOPIC_OR_PARTITION)))
        wanted = list(dict.fromkeys(wanted))
        top, errors = 0, dict[TP, int]()
        for _attempt in range(3):  # the coordinator may move between describe and request
            coordinator = self.describe([group])[group].coordinator
            if coordinator is None:
                raise GroupCommandError(FAILED + error_string(15), 15)
            top, errors = offset_delete(coordinator.host, coordinator.port, group, wanted,
                                        self.timeout_s)  # fmt: skip
            if top not in COORDINATOR_ERRORS:
                break
        for tp in wanted:
            code = top or errors.get(tp, 0)
            rows.append((tp[0], tp[1], error_message(code) if code else None))
        first = top or next((c for c in errors.values() if c), 0)
        return DeleteOffsetsResult(first, rows)

    def close(self) -> None:
        """AdminClient has no close(); dropping it ends its threads."""
        self.admin = None
