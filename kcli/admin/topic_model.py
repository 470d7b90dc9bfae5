"""What `kcli topics` works with, independent of how it reaches the cluster.

`TopicCommandOptions.check()` is TopicCommandOptions.checkArgs of Kafka 2.8 (jopt-simple's
messages); `DescribeFilter` is its DescribeOptions; `IncludeList` is Kafka's topic regex. All
pure: the AdminClient path (topics.py) and the ZooKeeper path (topics_zk.py) fill in
`TopicDescription`s and the command renders them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kcli.errors import TerseError
from kcli.protocol.topic import is_internal

ACTIONS = ("list", "describe", "create", "alter", "delete")
SHORT_MAX = 32767


class TopicCommandError(TerseError):
    """A failure Kafka prints as `Error while executing topic command : <msg>`; `code` is the
    Kafka error code when a broker answered with one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def has_collision_chars(topic: str) -> bool:
    return "." in topic or "_" in topic


class IncludeList:
    """Kafka's IncludeList: commas mean `|`, spaces and surrounding quotes are dropped, and a
    topic must match the whole expression."""

    def __init__(self, raw: str) -> None:
        regex = raw.strip().replace(",", "|").replace(" ", "")
        regex = re.sub(r"^[\"']+", "", regex)
        regex = re.sub(r"[\"']+$", "", regex)
        try:
            self.pattern = re.compile(regex)
        except re.error:
            raise TerseError(f"{raw} is an invalid regex.") from None

    def allows(self, topic: str, exclude_internal: bool = False) -> bool:
        if exclude_internal and is_internal(topic):
            return False
        return self.pattern.fullmatch(topic) is not None


def select_topics(all_topics: list[str], topic: str | None, exclude_internal: bool) -> list[str]:
    """TopicService.getTopics: sorted names matching --topic (all when absent)."""
    if topic is None:
        return sorted(t for t in all_topics if not (exclude_internal and is_internal(t)))
    include = IncludeList(topic)
    return sorted(t for t in all_topics if include.allows(t, exclude_internal))


def ensure_topic_exists(found: list[str], requested: str | None, require: bool) -> None:
    if requested is not None and require and not found:
        raise TopicCommandError(f"Topic '{requested}' does not exist as expected")


def parse_topic_configs(pairs: list[str]) -> dict[str, str]:
    """--config k=v entries, split like Kafka (`\\s*=\\s*`, exactly one `=`)."""
    configs: dict[str, str] = {}
    for pair in pairs:
        parts = re.split(r"\s*=\s*", pair)
        while parts and parts[-1] == "":  # Java's String.split drops trailing empties
            parts.pop()
        if len(parts) != 2:
            raise TopicCommandError(
                'Invalid topic config: all configs to be added must be in the format "key=val".'
            )
        configs[parts[0].strip()] = parts[1].strip()
    return configs


@dataclass
class TopicCommandOptions:
    actions: list[str]
    bootstrap_server: str | None = None
    zookeeper: str | None = None
    command_config: str | None = None
    topic: str | None = None
    partitions: int | None = None
    replication_factor: int | None = None
    replica_assignment: str | None = None
    configs: list[str] = field(default_factory=list)
    delete_configs: list[str] = field(default_factory=list)
    if_exists: bool = False
    if_not_exists: bool = False
    exclude_internal: bool = False
    under_replicated: bool = False
    unavailable: bool = False
    under_min_isr: bool = False
    at_min_isr: bool = False
    topics_with_overrides: bool = False

    @property
    def action(self) -> str:
        return self.actions[0]

    def _given(self) -> set[str]:
        """jopt names of the options present (for Kafka's combination checks)."""
        flags = {
            "bootstrap-server": self.bootstrap_server is not None,
            "zookeeper": self.zookeeper is not None,
            "topic": self.topic is not None,
            "partitions": self.partitions is not None,
            "replication-factor": self.replication_factor is not None,
            "replica-assignment": self.replica_assignment is not None,
            "config": bool(self.configs),
            "delete-config": bool(self.delete_configs),
            "if-exists": self.if_exists,
            "if-not-exists": self.if_not_exists,
            "exclude-internal": self.exclude_internal,
            "under-replicated-partitions": self.under_replicated,
            "unavailable-partitions": self.unavailable,
            "under-min-isr-partitions": self.under_min_isr,
            "at-min-isr-partitions": self.at_min_isr,
            "topics-with-overrides": self.topics_with_overrides,
        }
        return {name for name, on in flags.items() if on} | set(self.actions)

    def check(self) -> None:
        """Kafka's checkArgs; raises TerseError with jopt-simple's wording."""
        if len(self.actions) != 1:
            raise TerseError(
                "Command must include exactly one action: "
                "--list, --describe, --create, --alter or --delete"
            )
        if (self.bootstrap_server is None) == (self.zookeeper is None):
            raise TerseError("Only one of --bootstrap-server or --zookeeper must be specified")
        action = self.action
        if action not in ("list", "describe") and self.topic is None:
            raise TerseError('Missing required argument "[topic]"')
        if action == "create" and self.replica_assignment is None and self.zookeeper:
            for name, value in (
                ("partitions", self.partitions),
                ("replication-factor", self.replication_factor),
            ):
                if value is None:
                    raise TerseError(f'Missing required argument "[{name}]"')
        if self.bootstrap_server is not None and action == "alter":
            if self.configs or self.delete_configs:
                raise TerseError(
                    'Option combination "[bootstrap-server],[config]" can\'t be used with option '
                    '"[alter]". To alter the config of a topic, use `kcli configs`'
                    " (kafka-configs.sh)."
                )
            if self.partitions is None:
                raise TerseError('Missing required argument "[partitions]"')
        self._check_invalid_combinations()

    def _check_invalid_combinations(self) -> None:
        given = self._given()
        report = (  # Kafka's checking order
            "under-replicated-partitions",
            "unavailable-partitions",
            "under-min-isr-partitions",
            "at-min-isr-partitions",
            "topics-with-overrides",
        )
        allowed_with: dict[str, set[str]] = {
            "config": {"alter", "create"},
            "delete-config": {"alter"},
            "partitions": {"alter", "create"},
            "replication-factor": {"create"},
            "replica-assignment": {"create", "alter"},
            "if-exists": {"alter", "delete", "describe"},
            "if-not-exists": {"create"},
            "exclude-internal": {"list", "describe"},
            **{name: {"describe"} for name in report},
        }
        extra_conflicts: dict[str, set[str]] = {
            "delete-config": {"bootstrap-server"},
            **{name: set(report) - {name} for name in report},
        }
        if "create" in given:
            extra_conflicts["replica-assignment"] = {"partitions", "replication-factor"}
        for used, allowed in allowed_with.items():
            if used not in given:
                continue
            forbidden = (set(ACTIONS) - allowed) | extra_conflicts.get(used, set())
            for other in sorted(forbidden & given):
                raise TerseError(f'Option "[{used}]" can\'t be used with option "[{other}]"')


@dataclass(frozen=True)
class PartitionDescription:
    partition: int
    leader: int | None  # None: no leader (Kafka prints `none`)
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    adding_replicas: tuple[int, ...] = ()
    removing_replicas: tuple[int, ...] = ()

    @property
    def replication_factor(self) -> int:
        # During a reassignment the adding replicas are not part of the final factor.
        return len(self.replicas) - len(self.adding_replicas)


@dataclass(frozen=True)
class TopicDescription:
    name: str
    topic_id: str | None  # Kafka's base64url form; None for the zero UUID
    partitions: tuple[PartitionDescription, ...]
    configs: dict[str, str]  # non-default entries only, in the broker's order
    min_isr: int | None = None  # known on the AdminClient path only
    marked_for_deletion: bool = False
    internal: bool = False

    @property
    def replication_factor(self) -> int:
        return self.partitions[0].replication_factor if self.partitions else 0


@dataclass(frozen=True)
class DescribeFilter:
    """Kafka's DescribeOptions: which headers and partition lines --describe prints."""

    under_replicated: bool = False
    unavailable: bool = False
    under_min_isr: bool = False
    at_min_isr: bool = False
    topics_with_overrides: bool = False
    live_brokers: frozenset[int] = frozenset()

    @property
    def describe_configs(self) -> bool:
        return not (self.unavailable or self.under_replicated or self.under_min_isr
                    or self.at_min_isr)  # fmt: skip

    @property
    def describe_partitions(self) -> bool:
        return not self.topics_with_overrides

    def shows_header(self, topic: TopicDescription) -> bool:
        return self.describe_configs and (not self.topics_with_overrides or bool(topic.configs))

    def shows_partition(self, topic: TopicDescription, p: PartitionDescription) -> bool:
        if not self.describe_partitions:
            return False
        if self.describe_configs:
            return True
        has_leader = p.leader is not None
        if self.under_replicated and p.replication_factor - len(p.isr) > 0:
            return True
        if self.unavailable and (not has_leader or p.leader not in self.live_brokers):
            return True
        if self.under_min_isr and (
            not has_leader or (topic.min_isr is not None and len(p.isr) < topic.min_isr)
        ):
            return True
        return self.at_min_isr and topic.min_isr is not None and len(p.isr) == topic.min_isr


class TopicService(Protocol):
    """What both paths (AdminClient, ZooKeeper) offer the command."""

    def list_topics(self, opts: TopicCommandOptions) -> tuple[list[str], set[str]]: ...
    def describe(self, opts: TopicCommandOptions) -> list[TopicDescription]: ...
    def live_brokers(self) -> frozenset[int]: ...
    def create(self, opts: TopicCommandOptions, out: Callable[[str], None]) -> None: ...
    def alter(self, opts: TopicCommandOptions, out: Callable[[str], None]) -> None: ...
    def delete(self, opts: TopicCommandOptions, out: Callable[[str], None]) -> None: ...
    def close(self) -> None: ...
