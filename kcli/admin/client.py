"""confluent-kafka clients configured as Kafka's tools configure theirs.

Configuration is layered as in Kafka's tools: the properties file (--command-config,
--producer.config, --consumer.config) first, then `k=v` options, then the connection option
(--bootstrap-server wins, as the tools put it last). librdkafka's own log lines go to a silent
logger unless -v, so a user sees one clear line instead of a stream of retry notices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from kcli.errors import ConfigError, TerseError
from kcli.properties import load_properties

DEFAULT_TIMEOUT_S = 10.0
RDKAFKA_LOGGER = "kcli.rdkafka"


def parse_key_values(pairs: Iterable[str], option: str) -> dict[str, str]:
    """`k=v` options (--producer-property, --consumer-property, --property) to a dict."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Invalid {option} '{pair}': expected key=value")
        result[key.strip()] = value
    return result


def client_config(
    bootstrap_servers: str,
    config_file: str | None = None,
    overrides: Mapping[str, str] | None = None,
    *,
    verbose: bool = False,
) -> dict[str, Any]:
    """A confluent-kafka config dict: file, then overrides, then the bootstrap servers."""
    # Java's clients always set TCP_NODELAY; without it librdkafka's first request can sit
    # behind a delayed ACK (~40 ms), which a one-shot command pays on every call.
    config: dict[str, Any] = {"socket.nagle.disable": True}
    if config_file:
        config.update(load_properties(config_file))
    config.update(overrides or {})
    config["bootstrap.servers"] = bootstrap_servers
    config["logger"] = rdkafka_logger(verbose)
    return config


def rdkafka_logger(verbose: bool) -> logging.Logger:
    logger = logging.getLogger(RDKAFKA_LOGGER)
    if not logger.handlers:
        if verbose:
            handler: logging.Handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(message)s"))
        else:
            handler = logging.NullHandler()
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.DEBUG if verbose else logging.CRITICAL)
    return logger


def unreachable(bootstrap_servers: str, timeout_s: float) -> TerseError:
    return TerseError(f"cannot reach any broker at {bootstrap_servers} within {timeout_s:g}s")


def kafka_error_text(exc: BaseException) -> str:
    """The message of a KafkaException/KafkaError without librdkafka's repr wrapping."""
    err = exc.args[0] if exc.args else exc
    text = err.str() if hasattr(err, "str") else str(err)
    return str(text)


def kafka_error_code(exc: BaseException) -> int | None:
    err = exc.args[0] if exc.args else None
    code = err.code() if err is not None and hasattr(err, "code") else None
    return int(code) if code is not None else None


def is_connection_error(exc: BaseException) -> bool:
    from confluent_kafka import KafkaError

    return kafka_error_code(exc) in (
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._RESOLVE,
    )


def new_client(kind: str, config: Mapping[str, Any]) -> Any:
    """A confluent-kafka "admin", "producer" or "consumer"; a refused config is one line."""
    import confluent_kafka
    from confluent_kafka.admin import AdminClient

    factory = {
        "admin": AdminClient,
        "producer": confluent_kafka.Producer,
        "consumer": confluent_kafka.Consumer,
    }[kind]
    settings = dict(config)
    if kind == "admin":
        # Connect at once rather than when the first request is queued: saves a wake-up round
        # (tens of ms) in a command that makes one or two requests and exits.
        settings.setdefault("enable.sparse.connections", False)
    try:
        return factory(settings)
    except (confluent_kafka.KafkaException, ValueError, TypeError) as exc:
        raise ConfigError(f"Invalid {kind} configuration: {kafka_error_text(exc)}") from None


def cluster_metadata(
    client: Any, bootstrap_servers: str, timeout_s: float, topic: str | None = None
) -> Any:
    """ClusterMetadata (all topics, or one) from any client; no answer in time is one line."""
    from confluent_kafka import KafkaException

    try:
        return client.list_topics(topic, timeout=timeout_s)
    except KafkaException as exc:
        if is_connection_error(exc):
            raise unreachable(bootstrap_servers, timeout_s) from None
        raise TerseError(kafka_error_text(exc)) from None
