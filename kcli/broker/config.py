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

from kcli.errors import ConfigError

log = logging.getLogger("kafka.server.KafkaConfig")

INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
_LIMITS = {"INT": 2**31, "LONG": 2**63, "SHORT": 2**15}


@dataclass(frozen=True, slots=True)
class ConfigKey:
    name: str
    type: str  # INT, LONG, SHORT, DOUBLE, BOOLEAN, STRING, LIST, PASSWORD
    default: object
    at_least: float | None = None
    choices: tuple[str, ...] = ()


def _k(
    name: str, type_: str, default: object, at_least: float | None = None, *choices: str
) -> ConfigKey:
    return ConfigKey(name, type_, default, at_least, choices)


_PROTOCOL_MAP = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

# Kafka 2.8/3.x ZooKeeper-mode defaults (KafkaConfig / LogConfig / ZkConfigs).
KEYS: tuple[ConfigKey, ...] = (
    _k("broker.id", "INT", -1),
    _k("broker.id.generation.enable", "BOOLEAN", True),
    _k("reserved.broker.max.id", "INT", 1000, 0),
    _k("broker.rack", "STRING", None),
    _k("listeners", "STRING", None),
    _k("advertised.listeners", "STRING", None),
    _k("listener.security.protocol.map", "STRING", _PROTOCOL_MAP),
    _k("inter.broker.listener.name", "STRING", None),
    _k("security.inter.broker.protocol", "STRING", "PLAINTEXT"),
    _k("port", "INT", 9092),
    _k("host.name", "STRING", ""),
    _k("advertised.host.name", "STRING", None),
    _k("advertised.port", "INT", None),
    _k("log.dirs", "STRING", None),
    _k("log.dir", "STRING", "/tmp/kafka-logs"),
    _k("zookeeper.connect", "STRING", None),
    _k("zookeeper.session.timeout.ms", "INT", 18000),
    _k("zookeeper.connection.timeout.ms", "INT", None),
    _k("zookeeper.max.in.flight.requests", "INT", 10, 1),
    _k("zookeeper.set.acl", "BOOLEAN", False),
    _k("num.partitions", "INT", 1, 1),
    _k("default.replication.factor", "INT", 1, 1),
    _k("auto.create.topics.enable", "BOOLEAN", True),
    _k("delete.topic.enable", "BOOLEAN", True),
    _k("log.retention.hours", "INT", 168),
    _k("log.retention.minutes", "INT", None),
    _k("log.retention.ms", "LONG", None),
    _k("log.retention.bytes", "LONG", -1),
    _k("log.retention.check.interval.ms", "LONG", 300000, 1),
    _k("log.segment.bytes", "INT", 1073741824, 14),
    _k("log.segment.delete.delay.ms", "LONG", 60000, 0),
    _k("log.roll.hours", "INT", 168, 1),
    _k("log.roll.ms", "LONG", None),
    _k("log.roll.jitter.hours", "INT", 0, 0),
    _k("log.roll.jitter.ms", "LONG", None),
    _k("log.cleanup.policy", "LIST", "delete", None, "delete", "compact"),
    _k("log.cleaner.enable", "BOOLEAN", True),
    _k("log.cleaner.threads", "INT", 1, 0),
    _k("log.cleaner.dedupe.buffer.size", "LONG", 134217728),
    _k("log.cleaner.io.buffer.size", "INT", 524288, 0),
    _k("log.cleaner.io.buffer.load.factor", "DOUBLE", 0.9),
    _k("log.cleaner.io.max.bytes.per.second", "DOUBLE", float(2**1024 - 2**971)),
    _k("log.cleaner.backoff.ms", "LONG", 15000, 0),
    _k("log.cleaner.min.cleanable.ratio", "DOUBLE", 0.5, 0),
    _k("log.cleaner.delete.retention.ms", "LONG", 86400000, 0),
    _k("log.cleaner.min.compaction.lag.ms", "LONG", 0, 0),
    _k("log.cleaner.max.compaction.lag.ms", "LONG", LONG_MAX, 1),
    _k("log.index.size.max.bytes", "INT", 10485760, 4),
    _k("log.index.interval.bytes", "INT", 4096, 0),
    _k("log.flush.interval.messages", "LONG", LONG_MAX, 1),
    _k("log.flush.interval.ms", "LONG", None),
    _k("log.flush.scheduler.interval.ms", "LONG", LONG_MAX),
    _k("log.flush.offset.checkpoint.interval.ms", "INT", 60000, 0),
    _k("log.flush.start.offset.checkpoint.interval.ms", "INT", 60000, 0),
    _k("log.preallocate", "BOOLEAN", False),
    _k("log.message.timestamp.type", "STRING", "CreateTime", None, "CreateTime", "LogAppendTime"),
    _k("log.message.timestamp.difference.max.ms", "LONG", LONG_MAX, 0),
    _k("log.message.format.version", "STRING", "3.0-IV1"),
    _k("inter.broker.protocol.version", "STRING", "3.0-IV1"),
    _k(
        "compression.type",
        "STRING",
        "producer",
        None,
        "uncompressed",
        "zstd",
        "lz4",
        "snappy",
        "gzip",
        "producer",
    ),
    _k("message.max.bytes", "INT", 1048588, 0),
    _k("socket.request.max.bytes", "INT", 104857600, 1),
    _k("socket.send.buffer.bytes", "INT", 102400),
    _k("socket.receive.buffer.bytes", "INT", 102400),
    _k("connections.max.idle.ms", "LONG", 600000),
    _k("fetch.max.bytes", "INT", 57671680, 1024),
    _k("min.insync.replicas", "INT", 1, 1),
    _k("offsets.topic.replication.factor", "SHORT", 3, 1),
    _k("offsets.topic.num.partitions", "INT", 50, 1),
    _k("offsets.topic.segment.bytes", "INT", 104857600, 1),
    _k("offsets.topic.compression.codec", "INT", 0),
    _k("offsets.retention.minutes", "INT", 10080, 1),
    _k("offsets.retention.check.interval.ms", "LONG", 600000, 1),
    _k("offsets.commit.timeout.ms", "INT", 5000, 1),
    _k("offsets.load.buffer.size", "INT", 5242880, 1),
    _k("transaction.state.log.replication.factor", "SHORT", 3, 1),
    _k("transaction.state.log.num.partitions", "INT", 50, 1),
    _k("transaction.state.log.min.isr", "INT", 2, 1),
    _k("transaction.state.log.segment.bytes", "INT", 104857600, 1),
    _k("transaction.max.timeout.ms", "INT", 900000, 1),
    _k("transactional.id.expiration.ms", "INT", 604800000, 1),
    _k("producer.id.expiration.ms", "INT", 86400000, 1),
    _k("replica.lag.time.max.ms", "LONG", 30000),
    _k("replica.fetch.max.bytes", "INT", 1048576, 0),
    _k("replica.fetch.response.max.bytes", "INT", 10485760, 0),
    _k("replica.fetch.wait.max.ms", "INT", 500),
    _k("replica.fetch.min.bytes", "INT", 1),
    _k("replica.fetch.backoff.ms", "INT", 1000, 0),
    _k("replica.socket.timeout.ms", "INT", 30000),
    _k("replica.high.watermark.checkpoint.interval.ms", "LONG", 5000),
    _k("unclean.leader.election.enable", "BOOLEAN", False),
    _k("auto.leader.rebalance.enable", "BOOLEAN", True),
    _k("leader.imbalance.check.interval.seconds", "LONG", 300, 1),
    _k("leader.imbalance.per.broker.percentage", "INT", 10),
    _k("controlled.shutdown.enable", "BOOLEAN", True),
    _k("controlled.shutdown.max.retries", "INT", 3),
    _k("controlled.shutdown.retry.backoff.ms", "LONG", 5000),
    _k("controller.socket.timeout.ms", "INT", 30000),
    _k("group.initial.rebalance.delay.ms", "INT", 3000),
    _k("group.min.session.timeout.ms", "INT", 6000),
    _k("group.max.session.timeout.ms", "INT", 1800000),
    _k("group.max.size", "INT", INT_MAX, 1),
    _k("request.timeout.ms", "INT", 30000),
    _k("metric.reporters", "LIST", ""),
    _k("authorizer.class.name", "STRING", ""),
    # Accepted for compatibility; kcli's broker runs one asyncio loop and ignores these.
    _k("num.network.threads", "INT", 3, 1),
    _k("num.io.threads", "INT", 8, 1),
    _k("num.recovery.threads.per.data.dir", "INT", 1, 1),
    _k("num.replica.fetchers", "INT", 1),
    _k("background.threads", "INT", 10, 1),
    _k("queued.max.requests", "INT", 500, 1),
    _k("max.connections", "INT", INT_MAX, 0),
    _k("max.connections.per.ip", "INT", INT_MAX, 0),
)
KEYS_BY_NAME: Mapping[str, ConfigKey] = MappingProxyType({k.name: k for k in KEYS})

IGNORED = frozenset({
    "num.network.threads", "num.io.threads", "num.recovery.threads.per.data.dir",
    "num.replica.fetchers", "background.threads", "queued.max.requests", "socket.send.buffer.bytes",
    "socket.receive.buffer.bytes", "max.connections", "max.connections.per.ip",
    "log.cleaner.io.buffer.load.factor", "log.cleaner.io.max.bytes.per.second",
    "metric.reporters", "zookeeper.max.in.flight.requests", "inter.broker.protocol.version",
    "log.message.format.version",
})  # fmt: skip


def _invalid(key: ConfigKey, raw: object, why: str) -> ConfigError:
    return ConfigError(f"Invalid value {raw} for configuration {key.name}: {why}")


def parse_value(key: ConfigKey, raw: str) -> object:
    """One value from text, as ConfigDef.parseType does (values are trimmed first)."""
    text = raw.strip()
    value: object
    if key.type in _LIMITS:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise _invalid(key, text, f"Not a number of type {key.type}")
        value = int(text)
        if not -_LIMITS[key.type] <= value < _LIMITS[key.type]:
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
        k.name: parse_value(k, k.default) if isinstance(k.default, str) else k.default
        for k in KEYS
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
    )


def _warn_unknown(name: str) -> None:
    log.warning("The configuration '%s' was supplied but isn't a known config.", name)
