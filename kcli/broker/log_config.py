"""Config entries for DescribeConfigs, as Kafka's ZK-mode ConfigHelper builds them.

A TOPIC entry's value is the effective one: the topic override, else the first broker
property set among its synonyms (converted to the topic config's unit), else Kafka's default.
Its source and synonyms follow Kafka's ConfigHelper exactly, quirks included: the broker
synonyms (e.g. `log.retention.ms`, `.minutes`, `.hours` for `retention.ms`) are listed
static-config ones first, then those with a Kafka default, and the list is cut before the
first entry named like the primary synonym (`log.retention.ms`). So with
`log.retention.hours=168` in server.properties, `retention.ms` shows source DEFAULT_CONFIG
and no synonyms, while `log.segment.bytes=1073741824` makes `segment.bytes` a
STATIC_BROKER_CONFIG (which is why `kafka-topics.sh --describe` prints
`Configs: segment.bytes=1073741824` on a stock broker). An override adds a
DYNAMIC_TOPIC_CONFIG synonym in front and becomes the source.

BROKER entries are server.properties as the broker runs it: keys set there (or by
--override) are STATIC_BROKER_CONFIG, the others DEFAULT_CONFIG. kcli applies no dynamic
broker configs, so all are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from kcli.broker.config import BrokerConfig, parse_value
from kcli.broker.config_defs import KEYS_BY_NAME
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
    """server.properties keys the broker was given (Kafka's originals), as text."""
    props: dict[str, str] = {}
    for name in sorted(config.explicit_keys):
        text = format_value(config.values.get(name))
        if text is not None:
            props[name] = text
    return props


def _broker_synonyms(
    synonyms: tuple[tuple[str, int], ...], static: Mapping[str, str]
) -> list[Synonym]:
    """ConfigHelper.configSynonyms: static ones, then defaults, cut before the primary."""
    found = [Synonym(s, static[s], ConfigSource.STATIC_BROKER_CONFIG)
             for s, _ in synonyms if s in static]  # fmt: skip
    for s, _ in synonyms:
        default = _default_text(s) if s in KEYS_BY_NAME else None
        if default is not None:
            found.append(Synonym(s, default, ConfigSource.DEFAULT_CONFIG))
    primary = synonyms[0][0] if synonyms else ""
    while found and found[0].name != primary:
        found.pop(0)
    return found


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
        value, _, _ = resolve_config(name, broker, overrides)
        synonyms = _broker_synonyms(d.synonyms, broker)
        if name in overrides:
            synonyms.insert(0, Synonym(name, overrides[name], ConfigSource.DYNAMIC_TOPIC_CONFIG))
        source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
        entries.append(
            ConfigEntry(
                name,
                value,
                source,
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
        synonyms = _broker_synonyms(((name, 1),), static)
        if sensitive:
            synonyms = [Synonym(x.name, None, x.source) for x in synonyms]
        entries.append(
            ConfigEntry(name, shown, source, True, sensitive, ConfigType[key.type], tuple(synonyms))
        )
    return entries
