"""Kafka's broker config keys (KafkaConfig / LogConfig, ZooKeeper mode): name, type, default,
lower bound and allowed values. BrokerConfig (config.py) parses server.properties against this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
LIMITS = {"INT": 2**31, "LONG": 2**63, "SHORT": 2**15}


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
    _k("kcli.max.in.flight.requests.per.connection", "INT", 16, 1),  # network/socket_server.py
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
