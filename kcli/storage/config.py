"""Topic-level log configuration with Kafka's names, defaults and broker-level synonyms.

A topic's effective value is, in order: the topic override (`/config/topics/<t>` or
`--config`), then the first broker property present among its synonyms (server.properties),
then Kafka's default. Time synonyms follow Kafka's precedence, e.g. `log.retention.ms` >
`log.retention.minutes` > `log.retention.hours`; `-1` means unlimited for retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kcli.errors import ConfigError

LONG_MAX = 9_223_372_036_854_775_807

ConfigType = Literal["int", "long", "double", "string", "list", "boolean"]
ConfigSource = Literal["TOPIC_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG"]


@dataclass(frozen=True, slots=True)
class ConfigDef:
    name: str
    type: ConfigType
    default: str
    synonyms: tuple[tuple[str, int], ...]  # (broker property, multiplier to this config's unit)
    minimum: float | None = None
    choices: tuple[str, ...] | None = None


_MIN = 60_000
_HOUR = 3_600_000

TOPIC_CONFIGS: dict[str, ConfigDef] = {
    d.name: d
    for d in (
        ConfigDef("cleanup.policy", "list", "delete", (("log.cleanup.policy", 1),),
                  choices=("compact", "delete")),
        ConfigDef("compression.type", "string", "producer", (("compression.type", 1),),
                  choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
        ConfigDef("delete.retention.ms", "long", "86400000",
                  (("log.cleaner.delete.retention.ms", 1),), minimum=0),
        ConfigDef("file.delete.delay.ms", "long", "60000", (("log.segment.delete.delay.ms", 1),),
                  minimum=0),
        ConfigDef("flush.messages", "long", str(LONG_MAX), (("log.flush.interval.messages", 1),),
                  minimum=1),
        ConfigDef("flush.ms", "long", str(LONG_MAX),
                  (("log.flush.interval.ms", 1), ("log.flush.scheduler.interval.ms", 1)),
                  minimum=0),
        ConfigDef("index.interval.bytes", "int", "4096", (("log.index.interval.bytes", 1),),
                  minimum=0),
        ConfigDef("max.compaction.lag.ms", "long", str(LONG_MAX),
                  (("log.cleaner.max.compaction.lag.ms", 1),), minimum=1),
        ConfigDef("max.message.bytes", "int", "1048588", (("message.max.bytes", 1),), minimum=0),
        ConfigDef("message.downconversion.enable", "boolean", "true",
                  (("log.message.downconversion.enable", 1),)),
        ConfigDef("message.timestamp.difference.max.ms", "long", str(LONG_MAX),
                  (("log.message.timestamp.difference.max.ms", 1),), minimum=0),
        ConfigDef("message.timestamp.type", "string", "CreateTime",
                  (("log.message.timestamp.type", 1),), choices=("CreateTime", "LogAppendTime")),
        ConfigDef("min.cleanable.dirty.ratio", "double", "0.5",
                  (("log.cleaner.min.cleanable.ratio", 1),), minimum=0),
        ConfigDef("min.compaction.lag.ms", "long", "0",
                  (("log.cleaner.min.compaction.lag.ms", 1),), minimum=0),
        ConfigDef("min.insync.replicas", "int", "1", (("min.insync.replicas", 1),), minimum=1),
        ConfigDef("preallocate", "boolean", "false", (("log.preallocate", 1),)),
        ConfigDef("retention.bytes", "long", "-1", (("log.retention.bytes", 1),)),
        ConfigDef("retention.ms", "long", "604800000",
                  (("log.retention.ms", 1), ("log.retention.minutes", _MIN),
                   ("log.retention.hours", _HOUR)), minimum=-1),
        ConfigDef("segment.bytes", "int", "1073741824", (("log.segment.bytes", 1),), minimum=14),
        ConfigDef("segment.index.bytes", "int", "10485760", (("log.index.size.max.bytes", 1),),
                  minimum=4),
        ConfigDef("segment.jitter.ms", "long", "0",
                  (("log.roll.jitter.ms", 1), ("log.roll.jitter.hours", _HOUR)), minimum=0),
        ConfigDef("segment.ms", "long", "604800000",
                  (("log.roll.ms", 1), ("log.roll.hours", _HOUR)), minimum=1),
        ConfigDef("unclean.leader.election.enable", "boolean", "false",
                  (("unclean.leader.election.enable", 1),)),
    )
}  # fmt: skip


def _check(d: ConfigDef, raw: str) -> object:
    """Parse and validate one value; ConfigError with Kafka's wording when it is unusable."""
    text = raw.strip()
    bad = f"Invalid value {raw} for configuration {d.name}"
    value: object
    if d.type in ("int", "long"):
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{bad}: Not a number of type {d.type.upper()}") from None
        limit = 2**31 - 1 if d.type == "int" else LONG_MAX
        if not -limit - 1 <= value <= limit:
            raise ConfigError(f"{bad}: Not a number of type {d.type.upper()}")
    elif d.type == "double":
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{bad}: Not a number of type DOUBLE") from None
    elif d.type == "boolean":
        if text.lower() not in ("true", "false"):
            raise ConfigError(f"{bad}: Expected value to be either true or false")
        value = text.lower() == "true"
    elif d.type == "list":
        items = tuple(p.strip() for p in text.split(",") if p.strip())
        if d.choices is not None:
            for item in items:
                if item not in d.choices:
                    raise ConfigError(f"{bad}: String must be one of: {', '.join(d.choices)}")
        value = items
    else:
        if d.choices is not None and text not in d.choices:
            raise ConfigError(f"{bad}: String must be one of: {', '.join(d.choices)}")
        value = text
    if d.minimum is not None and isinstance(value, int | float) and value < d.minimum:
        shown = int(d.minimum) if d.type != "double" else d.minimum
        raise ConfigError(f"{bad}: Value must be at least {shown}")
    if d.name == "min.cleanable.dirty.ratio" and isinstance(value, float) and value > 1:
        raise ConfigError(f"{bad}: Value must be no more than 1")
    return value


def resolve_config(
    name: str, broker: Mapping[str, str], overrides: Mapping[str, str]
) -> tuple[str, ConfigSource, str]:
    """(raw value in this config's unit, where it came from, the property name that set it)."""
    d = TOPIC_CONFIGS[name]
    if name in overrides:
        return overrides[name], "TOPIC_CONFIG", name
    for synonym, multiplier in d.synonyms:
        if synonym in broker:
            raw = broker[synonym]
            if multiplier != 1:
                number = _check(ConfigDef(synonym, "long", "0", ()), raw)
                assert isinstance(number, int)
                raw = str(number * multiplier if number >= 0 else number)
            return raw, "STATIC_BROKER_CONFIG", synonym
    return d.default, "DEFAULT_CONFIG", name


def validate_topic_overrides(overrides: Mapping[str, str]) -> None:
    """ConfigError for an unknown topic config or an unusable value (CreateTopics, AlterConfigs)."""
    for name, raw in overrides.items():
        d = TOPIC_CONFIGS.get(name)
        if d is None:
            raise ConfigError(f"Unknown topic config name: {name}")
        _check(d, raw)


@dataclass(frozen=True, slots=True)
class LogConfig:
    """The effective configuration of one partition log. Immutable; replace it to change it.

    Build with `LogConfig.from_properties(broker_props, topic_overrides)`; `LogConfig()` gives
    Kafka's defaults. Field names are the Kafka names with dots as underscores.
    """

    cleanup_policy: tuple[str, ...] = ("delete",)
    compression_type: str = "producer"
    delete_retention_ms: int = 86_400_000
    file_delete_delay_ms: int = 60_000
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    index_interval_bytes: int = 4096
    max_compaction_lag_ms: int = LONG_MAX
    max_message_bytes: int = 1_048_588
    message_downconversion_enable: bool = True
    message_timestamp_difference_max_ms: int = LONG_MAX
    message_timestamp_type: str = "CreateTime"
    min_cleanable_dirty_ratio: float = 0.5
    min_compaction_lag_ms: int = 0
    min_insync_replicas: int = 1
    preallocate: bool = False
    retention_bytes: int = -1
    retention_ms: int = 604_800_000
    segment_bytes: int = 1_073_741_824
    segment_index_bytes: int = 10_485_760
    segment_jitter_ms: int = 0
    segment_ms: int = 604_800_000
    unclean_leader_election_enable: bool = False

    @classmethod
    def from_properties(
        cls, broker: Mapping[str, str] | None = None, overrides: Mapping[str, str] | None = None
    ) -> LogConfig:
        """Broker properties (server.properties names) + topic overrides (topic config names)."""
        broker = broker or {}
        overrides = overrides or {}
        validate_topic_overrides(overrides)
        values: dict[str, object] = {}
        for name, d in TOPIC_CONFIGS.items():
            raw, _, _ = resolve_config(name, broker, overrides)
            values[name.replace(".", "_")] = _check(d, raw)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy

    @property
    def log_append_time(self) -> bool:
        return self.message_timestamp_type == "LogAppendTime"
