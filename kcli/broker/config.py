"""BrokerConfig: server.properties with Kafka's key names, types, defaults and error wording.

Values are parsed and validated the way Kafka's `ConfigDef` does it, so a bad value fails with
Kafka's sentence (`Invalid value abc for configuration broker.id: Not a number of type INT`).
Keys Kafka knows but kcli ignores (thread counts, buffer sizes) are accepted quietly and listed
in IGNORED; keys nobody knows get one warning each, as Kafka's `AbstractConfig.logUnused` does.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kcli.broker.config_defs import KEYS, KEYS_BY_NAME, LIMITS, ConfigKey
from kcli.errors import ConfigError

log = logging.getLogger("kafka.server.KafkaConfig")


def _invalid(key: ConfigKey, raw: object, why: str) -> ConfigError:
    return ConfigError(f"Invalid value {raw} for configuration {key.name}: {why}")


def parse_value(key: ConfigKey, raw: str) -> object:
    """One value from text, as ConfigDef.parseType does (values are trimmed first)."""
    text = raw.strip()
    value: object
    if key.type in LIMITS:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise _invalid(key, text, f"Not a number of type {key.type}")
        value = int(text)
        if not -LIMITS[key.type] <= value < LIMITS[key.type]:
            raise _invalid(key, text, f"Not a number of type {key.type}")
    elif key.type == "DOUBLE":
        try:
            value = float(text)
        except ValueError:
            raise _invalid(key, text, "Not a number of type DOUBLE") from None
    elif key.type == "BOOLEAN":
        if text.lower() not in ("true", "false"):
            raise _invalid(key, text, "Expected value to be either true or false")
        value = text.lower() == "true"
    elif key.type == "LIST":
        value = tuple(item.strip() for item in text.split(",") if item.strip())
    else:
        value = text
    _validate(key, value, text)
    return value


def _validate(key: ConfigKey, value: object, text: str) -> None:
    if key.at_least is not None and isinstance(value, int | float) and value < key.at_least:
        bound = int(key.at_least) if float(key.at_least).is_integer() else key.at_least
        raise _invalid(key, text, f"Value must be at least {bound}")
    if key.choices:
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if item not in key.choices:
                raise _invalid(key, item, f"String must be one of: {', '.join(key.choices)}")


@dataclass(frozen=True, slots=True)
class EndPoint:
    """One listener: `PLAINTEXT://host:port` (an empty host binds every interface)."""

    listener_name: str
    security_protocol: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listener_name}://{host}:{self.port}"


_ENDPOINT = re.compile(r"^([A-Za-z0-9_]+)://\[?([0-9a-zA-Z\-%._:]*?)\]?:(-?[0-9]+)$")


def parse_endpoints(value: str, protocol_map: Mapping[str, str], key: str) -> tuple[EndPoint, ...]:
    """Listeners as Kafka writes them; only PLAINTEXT listeners can be served by kcli."""
    endpoints: list[EndPoint] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        match = _ENDPOINT.match(item)
        if match is None:
            raise ConfigError(
                f"Error creating broker listeners from '{value}': "
                f"Unable to parse {item} to a broker endpoint"
            )
        name, host, port = match.group(1).upper(), match.group(2), int(match.group(3))
        if name not in protocol_map:
            raise ConfigError(f"No security protocol defined for listener {name} in {key}={value}")
        protocol = protocol_map[name]
        if protocol != "PLAINTEXT":
            raise ConfigError(
                f"Listener {item} uses security protocol {protocol}; "
                "kcli's broker serves PLAINTEXT listeners only"
            )
        if not 0 <= port <= 65535:
            raise ConfigError(f"Invalid port {port} in {key}={value}")
        endpoints.append(EndPoint(name, protocol, host, port))
    names = [e.listener_name for e in endpoints]
    if len(set(names)) != len(names):
        raise ConfigError(f"Each listener must have a different name, listeners: {value}")
    return tuple(endpoints)


def _protocol_map(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        name, sep, proto = pair.partition(":")
        if not sep:
            raise ConfigError(
                f"Invalid value {text} for configuration listener.security.protocol.map: "
                "Map entry should be of form <key>:<value>"
            )
        result[name.strip().upper()] = proto.strip().upper()
    return result


@dataclass(frozen=True, slots=True)
class ZkConnect:
    """`host:port[,host:port...][/chroot]`, split the way Kafka splits it."""

    hosts: str
    chroot: str  # "" when there is none

    @classmethod
    def parse(cls, text: str) -> ZkConnect:
        hosts, slash, path = text.strip().partition("/")
        chroot = ("/" + path).rstrip("/") if slash else ""
        if not hosts:
            raise ConfigError(f"Invalid value {text} for configuration zookeeper.connect")
        return cls(hosts, chroot)


@dataclass(frozen=True)
class BrokerConfig:
    """Typed broker settings. `values` holds every known key (Kafka name -> parsed value)."""

    values: Mapping[str, object]
    broker_id: int
    listeners: tuple[EndPoint, ...]
    advertised_listeners: tuple[EndPoint, ...]
    log_dirs: tuple[str, ...]
    zookeeper: ZkConnect
    zk_session_timeout_ms: int
    zk_connection_timeout_ms: int
    unknown_keys: tuple[str, ...] = ()
    # Known keys set in server.properties or by --override (DescribeConfigs reports them as
    # STATIC_BROKER_CONFIG, the rest as DEFAULT_CONFIG, as Kafka does with its originals).
    explicit_keys: frozenset[str] = frozenset()

    def get_int(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int), name
        return value

    def get_bool(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool), name
        return value

    @property
    def log_retention_ms(self) -> int:
        """log.retention.ms, else .minutes, else .hours (Kafka's precedence); -1 keeps forever."""
        ms = self.values["log.retention.ms"]
        if isinstance(ms, int):
            return ms if ms >= 0 else -1
        minutes = self.values["log.retention.minutes"]
        if isinstance(minutes, int):
            return minutes * 60_000
        return self.get_int("log.retention.hours") * 3_600_000

    @property
    def log_roll_ms(self) -> int:
        ms = self.values["log.roll.ms"]
        return ms if isinstance(ms, int) else self.get_int("log.roll.hours") * 3_600_000

    @property
    def socket_request_max_bytes(self) -> int:
        return self.get_int("socket.request.max.bytes")


def _derive_listeners(
    values: Mapping[str, object], pmap: Mapping[str, str]
) -> tuple[tuple[EndPoint, ...], tuple[EndPoint, ...]]:
    listeners_text = values["listeners"]
    if isinstance(listeners_text, str) and listeners_text:
        listeners = parse_endpoints(listeners_text, pmap, "listeners")
    else:  # legacy host.name / port
        listeners = (EndPoint("PLAINTEXT", "PLAINTEXT", str(values["host.name"]), _port(values)),)
    if not listeners:
        raise ConfigError("listeners must name at least one PLAINTEXT://host:port endpoint")
    adv_text = values["advertised.listeners"]
    if isinstance(adv_text, str) and adv_text:
        advertised = parse_endpoints(adv_text, pmap, "advertised.listeners")
    elif values["advertised.host.name"] is not None or values["advertised.port"] is not None:
        first = listeners[0]
        host = values["advertised.host.name"]
        port = values["advertised.port"]
        advertised = (
            EndPoint(
                first.listener_name,
                first.security_protocol,
                host if isinstance(host, str) else first.host,
                port if isinstance(port, int) else first.port,
            ),
        )
    else:
        advertised = listeners
    for e in advertised:
        if e.host in ("0.0.0.0", "::"):
            raise ConfigError(
                f"requirement failed: advertised.listeners cannot use the nonroutable "
                f"meta-address {e.host}. Use a routable IP address."
            )
    # An empty host binds every interface; clients are told the canonical host name instead.
    advertised = tuple(
        e if e.host else EndPoint(e.listener_name, e.security_protocol, socket.getfqdn(), e.port)
        for e in advertised
    )
    return listeners, advertised


def _port(values: Mapping[str, object]) -> int:
    port = values["port"]
    assert isinstance(port, int)
    return port


def from_properties(
    props: Mapping[str, str], on_unknown: Callable[[str], None] | None = None
) -> BrokerConfig:
    """Validate server.properties (overrides already applied) into a BrokerConfig."""
    values: dict[str, object] = {
        k.name: parse_value(k, k.default) if isinstance(k.default, str) else k.default for k in KEYS
    }
    unknown: list[str] = []
    for name, raw in props.items():
        key = KEYS_BY_NAME.get(name)
        if key is None:
            unknown.append(name)
            continue
        values[name] = parse_value(key, raw)
    for name in unknown:
        (on_unknown or _warn_unknown)(name)
    zk_text = values["zookeeper.connect"]
    if not isinstance(zk_text, str) or not zk_text.strip():
        raise ConfigError(
            'Missing required configuration "zookeeper.connect" which has no default value.'
        )
    pmap = _protocol_map(str(values["listener.security.protocol.map"]))
    listeners, advertised = _derive_listeners(values, pmap)
    dirs_text = values["log.dirs"] if values["log.dirs"] is not None else values["log.dir"]
    log_dirs = tuple(d.strip() for d in str(dirs_text).split(",") if d.strip())
    if not log_dirs:
        raise ConfigError("log.dirs must name at least one directory")
    session = values["zookeeper.session.timeout.ms"]
    connection = values["zookeeper.connection.timeout.ms"]
    assert isinstance(session, int)
    broker_id = values["broker.id"]
    assert isinstance(broker_id, int)
    if broker_id < -1:
        raise _invalid(KEYS_BY_NAME["broker.id"], broker_id, "broker.id must be >= -1")
    return BrokerConfig(
        values=MappingProxyType(values),
        broker_id=broker_id,
        listeners=listeners,
        advertised_listeners=advertised,
        log_dirs=log_dirs,
        zookeeper=ZkConnect.parse(zk_text),
        zk_session_timeout_ms=session,
        zk_connection_timeout_ms=connection if isinstance(connection, int) else session,
        unknown_keys=tuple(unknown),
        explicit_keys=frozenset(k for k in props if k in KEYS_BY_NAME),
    )


def _warn_unknown(name: str) -> None:
    log.warning("The configuration '%s' was supplied but isn't a known config.", name)
