from __future__ import annotations

import logging

import pytest

from kcli.broker.config import KEYS_BY_NAME, ZkConnect, from_properties, parse_value
from kcli.commands.server_start import default_config_path
from kcli.errors import ConfigError
from kcli.properties import load_properties

ZK = {"zookeeper.connect": "localhost:2181"}


def test_defaults_are_kafkas() -> None:
    config = from_properties(ZK)
    assert config.broker_id == -1
    assert [str(e) for e in config.listeners] == ["PLAINTEXT://:9092"]
    assert config.log_dirs == ("/tmp/kafka-logs",)
    assert config.zk_session_timeout_ms == 18000
    assert config.zk_connection_timeout_ms == 18000  # falls back to the session timeout
    assert config.socket_request_max_bytes == 104857600
    assert config.get_int("message.max.bytes") == 1048588
    assert config.get_int("num.partitions") == 1
    assert config.get_int("offsets.topic.num.partitions") == 50
    assert config.get_bool("auto.create.topics.enable") is True
    assert config.get_bool("unclean.leader.election.enable") is False
    assert config.log_retention_ms == 168 * 3_600_000
    assert config.values["log.cleanup.policy"] == ("delete",)


def test_packaged_server_properties_parse() -> None:
    config = from_properties(load_properties(default_config_path()))
    assert config.broker_id == 0
    assert config.zookeeper == ZkConnect("localhost:2181", "")
    assert config.get_int("group.initial.rebalance.delay.ms") == 0
    assert config.get_int("offsets.topic.replication.factor") == 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("broker.id", "abc",
         "Invalid value abc for configuration broker.id: Not a number of type INT"),
        ("log.retention.ms", "1.5", "Not a number of type LONG"),
        ("broker.id", "99999999999", "Not a number of type INT"),
        ("auto.create.topics.enable", "yes", "Expected value to be either true or false"),
        ("num.partitions", "0",
         "Invalid value 0 for configuration num.partitions: Value must be at least 1"),
        ("log.cleanup.policy", "delete,shred",
         "Invalid value shred for configuration log.cleanup.policy"),
        ("log.cleaner.min.cleanable.ratio", "x", "Not a number of type DOUBLE"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_with_kafkas_wording(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        from_properties({**ZK, key: value})


def test_values_are_trimmed_and_typed() -> None:
    config = from_properties({**ZK, "broker.id": " 7 ", "log.cleanup.policy": "compact, delete"})
    assert config.broker_id == 7
    assert config.values["log.cleanup.policy"] == ("compact", "delete")
    assert parse_value(KEYS_BY_NAME["log.preallocate"], "TRUE") is True


def test_missing_zookeeper_connect() -> None:
    with pytest.raises(ConfigError, match=r'Missing required configuration "zookeeper\.connect"'):
        from_properties({})


def test_unknown_keys_warn_once_each(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config = from_properties({**ZK, "foo.bar": "1", "baz": "2"})
    assert config.unknown_keys == ("foo.bar", "baz")
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "The configuration 'foo.bar' was supplied but isn't a known config.",
        "The configuration 'baz' was supplied but isn't a known config.",
    ]


def test_retention_and_roll_precedence() -> None:
    assert from_properties({**ZK, "log.retention.minutes": "5"}).log_retention_ms == 300_000
    both = {**ZK, "log.retention.minutes": "5", "log.retention.ms": "1234"}
    assert from_properties(both).log_retention_ms == 1234
    assert from_properties({**ZK, "log.retention.ms": "-5"}).log_retention_ms == -1
    assert from_properties({**ZK, "log.roll.hours": "2"}).log_roll_ms == 7_200_000
    assert from_properties({**ZK, "log.roll.ms": "10"}).log_roll_ms == 10


def test_listeners_and_advertised_listeners() -> None:
    config = from_properties(
        {
            **ZK,
            "listeners": "PLAINTEXT://0.0.0.0:9093",
            "advertised.listeners": "PLAINTEXT://kafka1.example:19093",
        }
    )
    assert (config.listeners[0].host, config.listeners[0].port) == ("0.0.0.0", 9093)
    assert str(config.advertised_listeners[0]) == "PLAINTEXT://kafka1.example:19093"
    # Custom listener names through the protocol map.
    named = from_properties(
        {
            **ZK,
            "listeners": "CLIENT://127.0.0.1:9094",
            "listener.security.protocol.map": "CLIENT:PLAINTEXT",
        }
    )
    assert named.listeners[0].listener_name == "CLIENT"


def test_legacy_host_name_and_port() -> None:
    config = from_properties({**ZK, "host.name": "127.0.0.1", "port": "9099"})
    assert str(config.listeners[0]) == "PLAINTEXT://127.0.0.1:9099"
    adv = from_properties(
        {**ZK, "port": "9099", "advertised.host.name": "h", "advertised.port": "1"}
    )
    assert str(adv.advertised_listeners[0]) == "PLAINTEXT://h:1"


def test_empty_listener_host_is_advertised_as_a_host_name() -> None:
    config = from_properties(ZK)
    assert config.listeners[0].host == ""
    assert config.advertised_listeners[0].host != ""


@pytest.mark.parametrize(
    ("listeners", "message"),
    [
        ("SSL://:9093", "serves PLAINTEXT listeners only"),
        ("garbage", "Unable to parse garbage to a broker endpoint"),
        ("FOO://:1", "No security protocol defined for listener FOO"),
        ("PLAINTEXT://:1,PLAINTEXT://:2", "Each listener must have a different name"),
    ],
)
def test_bad_listeners(listeners: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_properties({**ZK, "listeners": listeners})


def test_log_dirs_win_over_log_dir() -> None:
    assert from_properties({**ZK, "log.dir": "/a"}).log_dirs == ("/a",)
    assert from_properties({**ZK, "log.dir": "/a", "log.dirs": "/b, /c"}).log_dirs == ("/b", "/c")


def test_zookeeper_chroot() -> None:
    assert ZkConnect.parse("h1:2181,h2:2181/kafka/prod") == ZkConnect(
        "h1:2181,h2:2181", "/kafka/prod"
    )
    assert ZkConnect.parse("h1:2181/") == ZkConnect("h1:2181", "")
    assert ZkConnect.parse("h1:2181") == ZkConnect("h1:2181", "")


def test_config_is_frozen() -> None:
    config = from_properties(ZK)
    with pytest.raises(AttributeError):
        config.broker_id = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.values["broker.id"] = 3  # type: ignore[index]


def test_wildcard_address_cannot_be_advertised() -> None:
    with pytest.raises(ConfigError, match=r"nonroutable meta-address 0\.0\.0\.0"):
        from_properties({**ZK, "listeners": "PLAINTEXT://0.0.0.0:9092"})
    ok = from_properties(
        {
            **ZK,
            "listeners": "PLAINTEXT://0.0.0.0:9092",
            "advertised.listeners": "PLAINTEXT://127.0.0.1:9092",
        }
    )
    assert ok.listeners[0].host == "0.0.0.0"
