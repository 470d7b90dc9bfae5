"""DescribeConfigs entries (values, sources, synonyms) and IncrementalAlterConfigs ops."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kcli.broker.admin_manager import AdminError
from kcli.broker.config import from_properties
from kcli.broker.handlers.incremental_alter_configs import APPEND, DELETE, SET, SUBTRACT, apply_ops
from kcli.broker.log_config import ConfigSource, ConfigType, broker_entries, topic_entries
from kcli.protocol.errors import ErrorCode


def _config(**props: str) -> object:
    return from_properties({"zookeeper.connect": "127.0.0.1:2181", "broker.id": "0", **props})


def _by_name(entries: list) -> dict:  # type: ignore[type-arg]
    return {e.name: e for e in entries}


def test_topic_entries_follow_kafkas_config_helper() -> None:
    # The packaged server.properties sets log.retention.hours=168 and log.segment.bytes.
    config = _config(**{"log.retention.hours": "24", "log.segment.bytes": "1073741824"})
    entries = _by_name(topic_entries(config, {"cleanup.policy": "compact"}))  # type: ignore[arg-type]
    retention = entries["retention.ms"]
    # The value follows log.retention.hours, but Kafka cuts the synonym list before the first
    # log.retention.ms entry, so the source is DEFAULT_CONFIG with no synonyms.
    assert (retention.value, retention.source, retention.synonyms) == (
        "86400000", ConfigSource.DEFAULT_CONFIG, (),
    )  # fmt: skip
    segment = entries["segment.bytes"]  # why a stock broker's describe shows segment.bytes
    assert (segment.value, segment.source) == ("1073741824", ConfigSource.STATIC_BROKER_CONFIG)
    assert [(s.name, s.value, s.source) for s in segment.synonyms] == [
        ("log.segment.bytes", "1073741824", ConfigSource.STATIC_BROKER_CONFIG),
        ("log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG),
    ]
    policy = entries["cleanup.policy"]
    assert (policy.value, policy.source, policy.type) == (
        "compact", ConfigSource.DYNAMIC_TOPIC_CONFIG, ConfigType.LIST,
    )  # fmt: skip
    assert [(s.name, s.source) for s in policy.synonyms] == [
        ("cleanup.policy", ConfigSource.DYNAMIC_TOPIC_CONFIG),
        ("log.cleanup.policy", ConfigSource.DEFAULT_CONFIG),
    ]
    size = entries["max.message.bytes"]
    assert (size.value, size.source, size.read_only) == (
        "1048588", ConfigSource.DEFAULT_CONFIG, False,
    )  # fmt: skip


def test_explicit_primary_synonym_is_a_static_source() -> None:
    config = _config(**{"log.retention.ms": "1000", "log.retention.hours": "5"})
    retention = _by_name(topic_entries(config, {}, ["retention.ms", "nope"]))  # type: ignore[arg-type]
    assert list(retention) == ["retention.ms"]
    entry = retention["retention.ms"]
    assert (entry.value, entry.source) == ("1000", ConfigSource.STATIC_BROKER_CONFIG)
    assert [(s.name, s.value, s.source) for s in entry.synonyms] == [
        ("log.retention.ms", "1000", ConfigSource.STATIC_BROKER_CONFIG),
        ("log.retention.hours", "5", ConfigSource.STATIC_BROKER_CONFIG),
        ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
    ]


def test_broker_entries_are_read_only_with_sources() -> None:
    entries = _by_name(broker_entries(_config(**{"num.partitions": "1"})))  # type: ignore[arg-type]
    assert entries["num.partitions"].value == "1"  # set explicitly, even to the default
    assert entries["num.partitions"].source == ConfigSource.STATIC_BROKER_CONFIG
    assert entries["log.retention.hours"].source == ConfigSource.DEFAULT_CONFIG
    assert entries["auto.create.topics.enable"].value == "true"
    assert all(e.read_only for e in entries.values())
    assert entries["log.retention.ms"].value is None


@dataclass
class Op:
    name: str
    config_operation: int
    value: str | None


def test_incremental_ops() -> None:
    current = {"retention.ms": "5", "segment.ms": "100"}
    new = apply_ops(
        current,
        [
            Op("retention.ms", SET, "7"),
            Op("segment.ms", DELETE, None),
            Op("cleanup.policy", APPEND, "compact"),
        ],
    )
    assert new == {"retention.ms": "7", "cleanup.policy": "delete,compact"}
    assert apply_ops(
        {"cleanup.policy": "delete,compact"}, [Op("cleanup.policy", SUBTRACT, "delete")]
    ) == {"cleanup.policy": "compact"}
    with pytest.raises(AdminError) as info:
        apply_ops({}, [Op("retention.ms", APPEND, "1")])
    assert (info.value.code, info.value.message) == (
        ErrorCode.invalid_config, "Config value append is not allowed for config key: retention.ms",
    )  # fmt: skip
    with pytest.raises(AdminError) as info:
        apply_ops({}, [Op("retention.ms", SET, "1"), Op("retention.ms", DELETE, None)])
    assert info.value.code == ErrorCode.invalid_request
