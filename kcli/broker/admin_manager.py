"""The broker's topic and config administration (Kafka's ZkAdminManager + AdminZkClient checks).

Handlers call this; it validates with Kafka's rules and messages, writes Kafka's znodes through
`AdminZk` (implemented in kcli.broker.controller.admin_zk_client; handlers never see ZooKeeper)
and waits, up to the request's timeout, until the controller's work shows in this broker's
metadata cache: new partitions with live leaders, deleted topics gone.

Failures are `AdminError(code, message)`; handlers turn them into per-topic errors.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from kcli.broker.config import BrokerConfig
from kcli.broker.metadata_cache import MetadataCache
from kcli.clock import Clock
from kcli.errors import ConfigError
from kcli.protocol.assignment import (
    AssignmentError,
    assign_new_partitions,
    assign_replicas_to_brokers,
    validate_assignment,
)
from kcli.protocol.errors import ErrorCode
from kcli.protocol.topic import topic_name_error
from kcli.storage.config import validate_topic_overrides

Assignment = dict[int, tuple[int, ...]]


class AdminZk(Protocol):
    """Kafka's znode writes for admin operations (AdminZkClient)."""

    async def topic_names(self) -> list[str]: ...
    async def topics_marked_for_deletion(self) -> list[str]: ...
    async def get_assignment(self, topic: str) -> tuple[Assignment, uuid.UUID | None, int] | None:
        """(partitions, topic id, zkVersion of /brokers/topics/<t>), None if absent."""
        ...

    async def create_topic(
        self, topic: str, topic_id: uuid.UUID, assignment: Assignment, config: Mapping[str, str]
    ) -> bool:
        """Write /config/topics/<t> then /brokers/topics/<t>; False if the topic exists."""
        ...

    async def set_assignment(
        self, topic: str, topic_id: uuid.UUID | None, assignment: Assignment, version: int
    ) -> bool:
        """Conditional setData of /brokers/topics/<t>; False if it changed meanwhile."""
        ...

    async def mark_for_deletion(self, topic: str) -> bool:
        """Create /admin/delete_topics/<t>; False if already marked."""
        ...

    async def get_topic_config(self, topic: str) -> dict[str, str]: ...
    async def set_topic_config(self, topic: str, config: Mapping[str, str]) -> None:
        """Write /config/topics/<t> and a /config/changes notification."""
        ...


class AdminError(Exception):
    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class NewTopic:
    name: str
    topic_id: uuid.UUID
    assignment: Assignment
    config: dict[str, str]

    @property
    def replication_factor(self) -> int:
        return len(self.assignment[0]) if self.assignment else 0


def timeout_ms(value: object) -> int:
    """A request's timeout field (kio gives a timedelta) in milliseconds."""
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return int(value) if isinstance(value, int) else 0


def topic_not_found(topic: str) -> AdminError:
    return AdminError(ErrorCode.unknown_topic_or_partition, f"The topic '{topic}' does not exist.")


def _assignment_error(exc: AssignmentError) -> AdminError:
    return AdminError(ErrorCode[exc.error], str(exc))


def validate_config(config: Mapping[str, str | None]) -> dict[str, str]:
    nulls = [k for k, v in config.items() if v is None]
    if nulls:
        raise AdminError(
            ErrorCode.invalid_request, f"Null value not supported for topic configs: {nulls[0]}"
        )
    values = {k: v for k, v in config.items() if v is not None}
    try:
        validate_topic_overrides(values)
    except ConfigError as exc:
        raise AdminError(ErrorCode.invalid_config, exc.message) from None
    return values


class AdminManager:
    def __init__(
        self, config: BrokerConfig, metadata: MetadataCache, zk: AdminZk, clock: Clock
    ) -> None:
        self.config = config
        self.metadata = metadata
        self.zk = zk
        self.clock = clock

    def live_broker_ids(self) -> list[int]:
        return sorted(self.metadata.brokers)

    # --- CreateTopics -------------------------------------------------------------------------
    async def prepare_topic(
        self,
        name: str,
        num_partitions: int,
        replication_factor: int,
        assignment: Mapping[int, Sequence[int]] | None,
        config: Mapping[str, str | None],
    ) -> NewTopic:
        """Every check Kafka makes before writing anything (also all validate_only does)."""
        problem = topic_name_error(name)
        if problem:
            raise AdminError(ErrorCode.invalid_topic_exception, problem)
        if assignment and (num_partitions != -1 or replication_factor != -1):
            raise AdminError(
                ErrorCode.invalid_request,
                "Both numPartitions or replicationFactor and replicasAssignments were set. "
                "Both cannot be used at the same time.",
            )
        values = validate_config(config)
        existing = await self.zk.topic_names()
        if name in existing:
            raise AdminError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        if name in await self.zk.topics_marked_for_deletion():
            raise AdminError(
                ErrorCode.topic_already_exists, f'Topic "{name}" is queued for deletion.'
            )
        colliding = [t for t in existing if _collision_key(t) == _collision_key(name)]
        if colliding:
            raise AdminError(
                ErrorCode.invalid_topic_exception,
                f"Topic '{name}' collides with existing topics: {', '.join(colliding)}",
            )
        try:
            if assignment:
                validate_assignment(assignment)
                replicas: Assignment = {p: tuple(r) for p, r in assignment.items()}
            else:
                replicas = assign_replicas_to_brokers(
                    self.live_broker_ids(),
                    num_partitions
                    if num_partitions != -1
                    else self.config.get_int("num.partitions"),
                    replication_factor
                    if replication_factor != -1
                    else self.config.get_int("default.replication.factor"),
                )
        except AssignmentError as exc:
            raise _assignment_error(exc) from None
        return NewTopic(name, uuid.uuid4(), replicas, values)

    async def create_topic(self, topic: NewTopic) -> None:
        if not await self.zk.create_topic(
            topic.name, topic.topic_id, topic.assignment, topic.config
        ):
            raise AdminError(
                ErrorCode.topic_already_exists, f"Topic '{topic.name}' already exists."
            )

    def partitions_live(self, topic: str, partitions: Sequence[int] | None = None) -> bool:
        """Every (given) partition has a state whose leader is a live broker."""
        info = self.metadata.topics.get(topic)
        if info is None:
            return False
        wanted = info.assignment if partitions is None else partitions
        return all(
            p in info.states and info.states[p].leader in self.metadata.brokers for p in wanted
        )

    async def wait_until(self, done: Callable[[], bool], timeout_ms: int) -> bool:
        """Until `done()` holds for the metadata cache (kept current by ZooKeeper watches and
        UpdateMetadata), re-checked on each change of it, or until the request's timeout (a
        network timeout, so the event loop's clock)."""
        try:
            async with asyncio.timeout(max(0, timeout_ms) / 1000):
                while not done():
                    await self.metadata.wait_for_change()
        except TimeoutError:
            return done()
        return True

    # --- DeleteTopics -------------------------------------------------------------------------
    async def delete_topic(self, name: str) -> None:
        if name not in await self.zk.topic_names():
            raise AdminError(
                ErrorCode.unknown_topic_or_partition, f"Topic `{name}` to delete does not exist"
            )
        # Already marked: Kafka swallows TopicAlreadyMarkedForDeletion and waits as well.
        await self.zk.mark_for_deletion(name)

    # --- CreatePartitions ---------------------------------------------------------------------
    async def add_partitions(
        self,
        name: str,
        count: int,
        assignments: Sequence[Sequence[int]] | None,
        validate_only: bool,
    ) -> list[int]:
        """ZkAdminManager.createPartitions; returns the new partition ids."""
        found = await self.zk.get_assignment(name)
        if found is None:
            raise topic_not_found(name)
        if name in await self.zk.topics_marked_for_deletion():
            raise AdminError(ErrorCode.invalid_topic_exception,
                             f"The topic '{name}' is queued for deletion.")  # fmt: skip
        existing, topic_id, version = found
        increment = count - len(existing)
        live = self.live_broker_ids()
        try:
            if increment > 0 and assignments is not None:
                added = self._explicit_new_partitions(existing, increment, assignments, live)
            else:
                added = assign_new_partitions(live, existing, count)
        except AssignmentError as exc:
            raise _assignment_error(exc) from None
        if validate_only:
            return sorted(added)
        if not await self.zk.set_assignment(name, topic_id, {**existing, **added}, version):
            raise AdminError(ErrorCode.reassignment_in_progress,
                             f"Topic {name} was changed concurrently; retry")  # fmt: skip
        return sorted(added)

    @staticmethod
    def _explicit_new_partitions(
        existing: Assignment, increment: int, assignments: Sequence[Sequence[int]], live: list[int]
    ) -> Assignment:
        unknown = sorted({b for r in assignments for b in r} - set(live))
        if unknown:
            raise AdminError(
                ErrorCode.invalid_replica_assignment,
                f"Unknown broker(s) in replica assignment: {', '.join(map(str, unknown))}.",
            )
        if len(assignments) != increment:
            raise AdminError(
                ErrorCode.invalid_replica_assignment,
                f"Increasing the number of partitions by {increment} but {len(assignments)} "
                "assignments provided.",
            )
        rf = len(existing.get(0, ()))
        added = {len(existing) + i: tuple(r) for i, r in enumerate(assignments)}
        for p, replicas in added.items():
            if len(set(replicas)) != len(replicas):
                raise AdminError(
                    ErrorCode.invalid_replica_assignment,
                    f"Duplicate brokers not allowed in replica assignment: "
                    f"{', '.join(map(str, replicas))} for partition id {p}.",
                )
            if len(replicas) != rf:
                raise AdminError(
                    ErrorCode.invalid_replica_assignment,
                    f"Inconsistent replication factor between partitions, partition 0 has {rf} "
                    f"while partitions [{p}] have replication factors [{len(replicas)}], "
                    "respectively.",
                )
        return added

    # --- topic configs ------------------------------------------------------------------------
    async def topic_config(self, topic: str) -> dict[str, str]:
        if topic not in await self.zk.topic_names():
            raise topic_not_found(topic)
        return await self.zk.get_topic_config(topic)

    async def alter_topic_config(
        self, topic: str, config: Mapping[str, str | None], validate_only: bool
    ) -> None:
        """Replace the topic's overrides (AlterConfigs) after validating them."""
        if topic not in await self.zk.topic_names():
            raise topic_not_found(topic)
        values = validate_config(config)
        if not validate_only:
            await self.zk.set_topic_config(topic, values)


def _collision_key(name: str) -> str:
    return name.replace(".", "_")
