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


def test_topic_defaults_static_broker_values_and_overrides() -> None:
    config = _config(**{"log.retention.hours": "24", "log.segment.bytes": "1048576"})
    entries = _by_name(topic_entries(config, {"cleanup.policy": "compact"}))  # type: ignore[arg-type]
    retention = entries["retention.ms"]
    assert (retention.value, retention.source) == ("86400000", ConfigSource.STATIC_BROKER_CONFIG)
    assert [(s.name, s.value, s.source) for s in retention.synonyms] == [
        ("log.retention.hours", "24", ConfigSource.STATIC_BROKER_CONFIG)
    ]
    assert entries["segment.bytes"].value == "1048576"
    policy = entries["cleanup.policy"]
    assert (policy.value, policy.source, policy.type) == (
        "compact", ConfigSource.DYNAMIC_TOPIC_CONFIG, ConfigType.LIST,
    )  # fmt: skip
    assert [s.source for s in policy.synonyms] == [
        ConfigSource.DYNAMIC_TOPIC_CONFIG, ConfigSource.DEFAULT_CONFIG,
    ]  # fmt: skip
    flush = entries["max.message.bytes"]
    assert (flush.value, flush.source, flush.read_only) == (
        "1048588", ConfigSource.DEFAULT_CONFIG, False,
    )  # fmt: skip


def test_default_retention_synonym_is_log_retention_hours() -> None:
    retention = _by_name(topic_entries(_config(), {}, ["retention.ms", "nope"]))  # type: ignore[arg-type]
    assert list(retention) == ["retention.ms"]
    assert [(s.name, s.value, s.source) for s in retention["retention.ms"].synonyms] == [
        ("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG)
    ]


def test_broker_entries_are_read_only_with_sources() -> None:
    entries = _by_name(broker_entries(_config(**{"num.partitions": "3"})))  # type: ignore[arg-type]
    assert entries["num.partitions"].value == "3"
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
