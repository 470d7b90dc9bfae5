"""LogConfig: Kafka's defaults, broker synonyms and their precedence, validation wording."""

from __future__ import annotations

import pytest

from kcli.errors import ConfigError
from kcli.storage.config import LONG_MAX, TOPIC_CONFIGS, LogConfig, resolve_config


def test_defaults_are_kafkas() -> None:
    c = LogConfig.from_properties()
    assert c == LogConfig()
    assert c.segment_bytes == 1 << 30 and c.segment_ms == 7 * 24 * 3_600_000
    assert c.segment_index_bytes == 10 << 20 and c.index_interval_bytes == 4096
    assert c.retention_ms == 604_800_000 and c.retention_bytes == -1
    assert c.max_message_bytes == 1_048_588 and c.cleanup_policy == ("delete",)
    assert c.min_cleanable_dirty_ratio == 0.5 and c.min_compaction_lag_ms == 0
    assert c.delete_retention_ms == 86_400_000 and c.message_timestamp_type == "CreateTime"
    assert c.flush_messages == LONG_MAX and c.flush_ms == LONG_MAX
    assert c.file_delete_delay_ms == 60_000
    assert all(name.replace(".", "_") in LogConfig.__dataclass_fields__ for name in TOPIC_CONFIGS)


def test_retention_precedence_ms_over_minutes_over_hours() -> None:
    assert LogConfig.from_properties({"log.retention.hours": "2"}).retention_ms == 7_200_000
    both = {"log.retention.hours": "2", "log.retention.minutes": "3"}
    assert LogConfig.from_properties(both).retention_ms == 180_000
    three = {**both, "log.retention.ms": "-1"}
    assert LogConfig.from_properties(three).retention_ms == -1
    assert LogConfig.from_properties(three, {"retention.ms": "5"}).retention_ms == 5
    assert resolve_config("retention.ms", both, {}) == (
        "180000",
        "STATIC_BROKER_CONFIG",
        "log.retention.minutes",
    )
    assert resolve_config("retention.ms", {}, {}) == ("604800000", "DEFAULT_CONFIG", "retention.ms")
    assert LogConfig.from_properties({"log.roll.hours": "1"}).segment_ms == 3_600_000


def test_broker_synonyms_and_overrides() -> None:
    c = LogConfig.from_properties(
        {"message.max.bytes": "2000", "log.segment.bytes": "1000", "log.cleanup.policy": "compact"},
        {"cleanup.policy": "compact,delete", "message.timestamp.type": "LogAppendTime"},
    )
    assert c.max_message_bytes == 2000 and c.segment_bytes == 1000
    assert c.compact and c.delete and c.log_append_time


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"retention.ms": "abc"},
            "Invalid value abc for configuration retention.ms: Not a number of type LONG",
        ),
        (
            {"segment.bytes": "10"},
            "Invalid value 10 for configuration segment.bytes: Value must be at least 14",
        ),
        ({"cleanup.policy": "keep"}, "String must be one of: compact, delete"),
        ({"min.cleanable.dirty.ratio": "1.5"}, "Value must be no more than 1"),
        ({"no.such.config": "1"}, "Unknown topic config name: no.such.config"),
        ({"preallocate": "yes"}, "Expected value to be either true or false"),
    ],
)
def test_bad_values(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        LogConfig.from_properties({}, overrides)
    assert message in str(err.value)
