"""Config entries for DescribeConfigs, as Kafka's ZK-mode ConfigHelper builds them.

A TOPIC entry's value is the effective one: the topic override (source DYNAMIC_TOPIC_CONFIG),
else the first broker property set among its synonyms (STATIC_BROKER_CONFIG, converted to the
topic config's unit), else Kafka's default (DEFAULT_CONFIG). Its synonyms list, when asked
for, walks the same chain: the override, each broker synonym set in server.properties, and
the broker synonym that has a default (e.g. `retention.ms` -> `log.retention.hours=168`).

BROKER entries are server.properties as the broker runs it; kcli applies no dynamic broker
configs, so all are read-only. Values differing from Kafka's default count as
STATIC_BROKER_CONFIG (the broker keeps parsed values, not which lines the file had).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from kcli.broker.config import BrokerConfig, parse_value
from kcli.broker.config_defs import KEYS, KEYS_BY_NAME
from kcli.storage.config import TOPIC_CONFIGS, resolve_config


class ConfigSource(IntEnum):
    """DescribeConfigs' wire enum (DescribeConfigsResponse.ConfigSource)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6


class ConfigType(IntEnum):
    """DescribeConfigs v3+ config_type."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


_SOURCE_OF = {
    "TOPIC_CONFIG": ConfigSource.DYNAMIC_TOPIC_CONFIG,
    "STATIC_BROKER_CONFIG": ConfigSource.STATIC_BROKER_CONFIG,
    "DEFAULT_CONFIG": ConfigSource.DEFAULT_CONFIG,
}


@dataclass(frozen=True, slots=True)
class Synonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    name: str
    value: str | None
    source: ConfigSource
    read_only: bool
    sensitive: bool
    type: ConfigType
    synonyms: tuple[Synonym, ...]


def format_value(value: object) -> str | None:
    """A parsed broker value back in server.properties text form."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _default_text(name: str) -> str | None:
    key = KEYS_BY_NAME[name]
    default = parse_value(key, key.default) if isinstance(key.default, str) else key.default
    return format_value(default)


def static_broker_props(config: BrokerConfig) -> dict[str, str]:
    """server.properties keys whose value differs from Kafka's default, as text."""
    props: dict[str, str] = {}
    for key in KEYS:
        text = format_value(config.values.get(key.name))
        if text is not None and text != _default_text(key.name):
            props[key.name] = text
    return props


def topic_entries(
    config: BrokerConfig,
    overrides: Mapping[str, str],
    names: Iterable[str] | None = None,
) -> list[ConfigEntry]:
    broker = static_broker_props(config)
    wanted = sorted(TOPIC_CONFIGS) if names is None else [n for n in names if n in TOPIC_CONFIGS]
    entries = []
    for name in wanted:
        d = TOPIC_CONFIGS[name]
        value, source, _ = resolve_config(name, broker, overrides)
        synonyms: list[Synonym] = []
        if name in overrides:
            synonyms.append(Synonym(name, overrides[name], ConfigSource.DYNAMIC_TOPIC_CONFIG))
        for synonym, _unit in d.synonyms:
            if synonym in broker:
                synonyms.append(
                    Synonym(synonym, broker[synonym], ConfigSource.STATIC_BROKER_CONFIG)
                )
            elif synonym in KEYS_BY_NAME and _default_text(synonym) is not None:
                synonyms.append(
                    Synonym(synonym, _default_text(synonym), ConfigSource.DEFAULT_CONFIG)
                )
        entries.append(
            ConfigEntry(
                name,
                value,
                _SOURCE_OF[source],
                False,
                False,
                ConfigType[d.type.upper()],
                tuple(synonyms),
            )
        )
    return entries


def broker_entries(config: BrokerConfig, names: Iterable[str] | None = None) -> list[ConfigEntry]:
    static = static_broker_props(config)
    wanted = sorted(KEYS_BY_NAME) if names is None else [n for n in names if n in KEYS_BY_NAME]
    entries = []
    for name in wanted:
        key = KEYS_BY_NAME[name]
        sensitive = key.type == "PASSWORD" or "password" in name
        value: str | None
        if name in static:
            value, source = static[name], ConfigSource.STATIC_BROKER_CONFIG
        else:
            value, source = _default_text(name), ConfigSource.DEFAULT_CONFIG
        shown = None if sensitive else value
        synonyms = (Synonym(name, shown, source),) if value is not None else ()
        entries.append(
            ConfigEntry(name, shown, source, True, sensitive, ConfigType[key.type], synonyms)
        )
    return entries
