"""`kcli topics --zookeeper`: Kafka 2.x's ZookeeperTopicService and AdminZkClient on kazoo.

The legacy path talks to no broker: create writes `/config/topics/<t>` and then
`/brokers/topics/<t>` (the controller creates the partition state znodes and leaders), delete
writes `/admin/delete_topics/<t>`, alter rewrites the assignment or the config plus a change
notification, and list/describe read the znodes. Every ZooKeeper wait is bounded.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable
from typing import Any

from kcli.admin import kafka_znodes as zn
from kcli.admin.assignment import (
    assign_replicas_to_brokers,
    parse_replica_assignment,
    validate_assignment_brokers,
)
from kcli.admin.topic_model import (
    PartitionDescription,
    TopicCommandError,
    TopicCommandOptions,
    TopicDescription,
    ensure_topic_exists,
    has_collision_chars,
    parse_topic_configs,
    select_topics,
)
from kcli.errors import ConfigError, TerseError
from kcli.protocol.topic import is_internal

Out = Callable[[str], None]


def _collides(a: str, b: str) -> bool:
    return a.replace(".", "_") == b.replace(".", "_")


class ZookeeperTopicService:
    def __init__(
        self,
        opts: TopicCommandOptions,
        timeout_s: float,
        verbose: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        from kazoo.client import KazooClient
        from kazoo.handlers.threading import KazooTimeoutError

        from kcli.admin.zk_session import probe, quiet_kazoo, split_connect_string

        assert opts.zookeeper is not None
        self.connect = opts.zookeeper
        self.timeout_s = timeout_s
        self.rng = rng
        quiet_kazoo(verbose)
        hosts, _ = split_connect_string(self.connect)
        reason = probe(hosts, min(timeout_s, 5.0))
        if reason is not None:
            raise TerseError(f"cannot connect to ZooKeeper at {self.connect} ({reason})")
        self._closed = False
        self.zk = KazooClient(hosts=self.connect, timeout=max(timeout_s, 6.0))
        try:
            self.zk.start(timeout=timeout_s)
        except KazooTimeoutError:
            self.close()
            raise TerseError(
                f"cannot connect to ZooKeeper at {self.connect} (no session after {timeout_s:g}s)"
            ) from None

    def close(self) -> None:
        """stop() closes the session; bounded, since a dead server can stall kazoo's stop."""
        zk = self.zk
        if self._closed:
            return
        self._closed = True

        def stop() -> None:
            with contextlib.suppress(Exception):
                zk.stop()
                zk.close()

        stopper = threading.Thread(target=stop, daemon=True)
        stopper.start()
        stopper.join(3.0)

    # -- bounded kazoo calls ------------------------------------------------------------------

    def _wait(self, result: Any) -> Any:
        from kazoo.exceptions import ConnectionLoss, SessionExpiredError
        from kazoo.handlers.threading import KazooTimeoutError

        try:
            return result.get(timeout=self.timeout_s)
        except (KazooTimeoutError, ConnectionLoss, SessionExpiredError):
            raise TerseError(
                f"lost the ZooKeeper session at {self.connect} (no answer in {self.timeout_s:g}s)"
            ) from None

    def _children(self, path: str) -> list[str]:
        from kazoo.exceptions import NoNodeError

        try:
            return list(self._wait(self.zk.get_children_async(path)))
        except NoNodeError:
            return []

    def _data(self, path: str) -> bytes | None:
        from kazoo.exceptions import NoNodeError

        try:
            data, _stat = self._wait(self.zk.get_async(path))
        except NoNodeError:
            return None
        return bytes(data) if data is not None else b""

    def _exists(self, path: str) -> bool:
        return self._wait(self.zk.exists_async(path)) is not None

    # -- reads ----------------------------------------------------------------------------------

    def broker_ids(self) -> list[int]:
        return sorted(int(b) for b in self._children(zn.BROKER_IDS) if b.isdigit())

    def _all_topics(self) -> list[str]:
        return self._children(zn.TOPICS)

    def _marked_for_deletion(self) -> set[str]:
        return set(self._children(zn.DELETE_TOPICS))

    def _assignment(self, topic: str) -> zn.TopicAssignment | None:
        data = self._data(zn.topic_path(topic))
        return None if data is None else zn.TopicAssignment.decode(data)

    def _topic_config(self, topic: str) -> dict[str, str]:
        return zn.decode_entity_config(self._data(zn.topic_config_path(topic)))

    def list_topics(self, opts: TopicCommandOptions) -> tuple[list[str], set[str]]:
        return select_topics(self._all_topics(), opts.topic, opts.exclude_internal), (
            self._marked_for_deletion()
        )

    def live_brokers(self) -> frozenset[int]:
        return frozenset(self.broker_ids())

    def describe(self, opts: TopicCommandOptions) -> list[TopicDescription]:
        names = select_topics(self._all_topics(), opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        marked = self._marked_for_deletion()
        result = []
        for name in names:
            assignment = self._assignment(name)
            if assignment is None:  # deleted since it was listed
                continue
            partitions = []
            for p, replicas in sorted(assignment.partitions.items()):
                state_data = self._data(zn.partition_state_path(name, p))
                state = zn.LeaderAndIsr.decode(state_data) if state_data else None
                leader = state.leader if state is not None and state.leader >= 0 else None
                partitions.append(
                    PartitionDescription(
                        p,
                        leader,
                        tuple(replicas),
                        state.isr if state is not None else (),
                        tuple(assignment.adding.get(p, ())),
                        tuple(assignment.removing.get(p, ())),
                    )
                )
            result.append(
                TopicDescription(
                    name,
                    assignment.topic_id,
                    tuple(partitions),
                    self._topic_config(name),
                    None,
                    name in marked,
                    is_internal(name),
                )
            )
        return result

    # -- writes ---------------------------------------------------------------------------------

    def create(self, opts: TopicCommandOptions, out: Out) -> None:
        from kazoo.exceptions import NodeExistsError

        topic = opts.topic
        assert topic is not None
        configs = parse_topic_configs(opts.configs)
        if opts.replica_assignment is not None:
            assignment = parse_replica_assignment(opts.replica_assignment)
        else:
            assert opts.partitions is not None and opts.replication_factor is not None
            assignment = assign_replicas_to_brokers(
                self.broker_ids(), opts.partitions, opts.replication_factor, rng=self.rng
            )
        try:
            self._validate_create(topic, assignment, configs)
            self._write_config(topic, configs, notify=False)
            data = zn.TopicAssignment(assignment, zn.new_topic_id()).encode()
            self._wait(self.zk.create_async(zn.topic_path(topic), data, makepath=True))
        except NodeExistsError:
            if opts.if_not_exists:
                return
            raise TopicCommandError(f"Topic '{topic}' already exists.") from None
        except TopicCommandError as exc:
            if opts.if_not_exists and exc.message == f"Topic '{topic}' already exists.":
                return
            raise
        out(f"Created topic {topic}.")

    def _validate_create(
        self, topic: str, assignment: dict[int, list[int]], configs: dict[str, str]
    ) -> None:
        """AdminZkClient.validateTopicCreate."""
        from kcli.protocol.topic import topic_name_error
        from kcli.storage.config import validate_topic_overrides

        if topic in self._marked_for_deletion():
            raise TopicCommandError(f"Topic '{topic}' is marked for deletion.")
        name_error = topic_name_error(topic)
        if name_error:
            raise TopicCommandError(name_error)
        if self._exists(zn.topic_path(topic)):
            raise TopicCommandError(f"Topic '{topic}' already exists.")
        if has_collision_chars(topic):
            colliding = [t for t in self._all_topics() if _collides(topic, t)]
            if colliding:
                raise TopicCommandError(
                    f"Topic '{topic}' collides with existing topics: {', '.join(colliding)}"
                )
        if sorted(assignment) != list(range(len(assignment))):
            raise TopicCommandError("partitions should be a consecutive 0-based integer sequence")
        try:
            validate_topic_overrides(configs)
        except ConfigError as exc:
            raise TopicCommandError(exc.message) from None

    def _write_config(self, topic: str, configs: dict[str, str], notify: bool) -> None:
        path = zn.topic_config_path(topic)
        data = zn.encode_entity_config(configs)
        if self._exists(path):
            self._wait(self.zk.set_async(path, data))
        else:
            self._wait(self.zk.create_async(path, data, makepath=True))
        if notify:
            change = zn.encode_config_change(f"topics/{topic}")
            self._wait(
                self.zk.create_async(zn.CONFIG_CHANGE_PREFIX, change, sequence=True, makepath=True)
            )

    def alter(self, opts: TopicCommandOptions, out: Out) -> None:
        from kcli.storage.config import validate_topic_overrides

        names = select_topics(self._all_topics(), opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        to_add = parse_topic_configs(opts.configs)
        for name in names:
            if opts.configs or opts.delete_configs:
                out(
                    "WARNING: Altering topic configuration from this script has been deprecated "
                    "and may be removed in future releases."
                )
                out("         Going forward, please use kafka-configs.sh for this functionality")
                configs = {**self._topic_config(name), **to_add}
                for key in opts.delete_configs:
                    configs.pop(key.strip(), None)
                try:
                    validate_topic_overrides(configs)
                except ConfigError as exc:
                    raise TopicCommandError(exc.message) from None
                self._write_config(name, configs, notify=True)
                out(f"Updated config for topic {name}.")
            if opts.partitions is not None:
                self._add_partitions(name, opts, out)

    def _add_partitions(self, name: str, opts: TopicCommandOptions, out: Out) -> None:
        """AdminZkClient.addPartitions: new partitions continue the existing pattern."""
        assert opts.partitions is not None
        if is_internal(name):
            raise TopicCommandError(
                f"The number of partitions for the internal topic {name} cannot be changed."
            )
        out(
            "WARNING: If partitions are increased for a topic that has a key, the partition "
            "logic or ordering of the messages will be affected"
        )
        current = self._assignment(name)
        if current is None or not current.partitions:
            raise TopicCommandError(f"The topic {name} does not exist")
        existing = len(current.partitions)
        if opts.partitions <= existing:
            raise TopicCommandError(
                "The number of partitions for a topic can only be increased. "
                f"Topic {name} currently has {existing} partitions, "
                f"{opts.partitions} would not be an increase."
            )
        brokers = self.broker_ids()
        first = current.partitions[0]
        if opts.replica_assignment:
            given = parse_replica_assignment(opts.replica_assignment)
            added = {p: r for p, r in given.items() if p >= existing}
            validate_assignment_brokers(added, brokers)
        else:
            start = next((i for i, b in enumerate(brokers) if b >= first[0]), 0)
            added = assign_replicas_to_brokers(
                brokers,
                opts.partitions - existing,
                len(first),
                fixed_start_index=start,
                start_partition_id=existing,
            )
        current.partitions.update(added)
        self._wait(self.zk.set_async(zn.topic_path(name), current.encode()))
        out("Adding partitions succeeded!")

    def delete(self, opts: TopicCommandOptions, out: Out) -> None:
        from kazoo.exceptions import NodeExistsError

        names = select_topics(self._all_topics(), opts.topic, opts.exclude_internal)
        ensure_topic_exists(names, opts.topic, not opts.if_exists)
        for name in names:
            if is_internal(name):
                raise TopicCommandError(
                    f"Topic {name} is a kafka internal topic and is not allowed to be marked "
                    "for deletion."
                )
            try:
                self._wait(self.zk.create_async(zn.delete_topic_path(name), b"", makepath=True))
            except NodeExistsError:
                out(f"Topic {name} is already marked for deletion.")
                continue
            out(f"Topic {name} is marked for deletion.")
            out("Note: This will have no impact if delete.topic.enable is not set to true.")
