"""Console producer/consumer option handling: Kafka's checks, precedence and defaults."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kcli.admin.console_consumer import (
    EARLIEST,
    LATEST,
    ConsumerOptions,
    check_options,
    consumer_config,
)
from kcli.admin.console_producer import producer_config, send_error_line
from kcli.errors import ConfigError, TerseError

BS = "127.0.0.1:9092"


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (ConsumerOptions(), "Exactly one of --include/--topic is required."),
        (ConsumerOptions(topic="a", include="b"), "Exactly one of --include/--topic is required."),
        (ConsumerOptions(include="a", partition=0),
         "The topic is required when partition is specified."),
        (ConsumerOptions(topic="a", partition=0, offset="1", from_beginning=True),
         "Options from-beginning and offset cannot be specified together."),
        (ConsumerOptions(topic="a", offset="1"),
         "The partition is required when offset is specified."),
        (ConsumerOptions(topic="a", partition=0, offset="-1"),
         "The provided offset value '-1' is incorrect. Valid values are 'earliest', 'latest', "
         "or a non-negative long."),
        (ConsumerOptions(topic="a", partition=0, offset="soon"),
         "The provided offset value 'soon' is incorrect. Valid values are 'earliest', 'latest', "
         "or a non-negative long."),
    ],
)  # fmt: skip
def test_consumer_option_errors(opts: ConsumerOptions, message: str) -> None:
    with pytest.raises(TerseError) as info:
        check_options(opts)
    assert info.value.message == message


def test_start_offsets() -> None:
    assert ConsumerOptions(topic="a").start_offset() == LATEST
    assert ConsumerOptions(topic="a", from_beginning=True).start_offset() == EARLIEST
    assert ConsumerOptions(topic="a", partition=1, offset="EARLIEST").start_offset() == EARLIEST
    assert ConsumerOptions(topic="a", partition=1, offset="42").start_offset() == 42


def test_consumer_without_group_gets_a_random_one_without_commits() -> None:
    config, given = consumer_config(
        BS, None, {}, ConsumerOptions(topic="a"), None, rng=random.Random(1)
    )
    assert not given
    assert config["group.id"].startswith("console-consumer-")
    assert 0 <= int(config["group.id"].rsplit("-", 1)[1]) < 100000
    assert config["enable.auto.commit"] == "false"
    assert config["auto.offset.reset"] == LATEST
    assert config["client.id"] == "console-consumer"
    assert config["bootstrap.servers"] == BS


def test_consumer_group_sources_must_agree(tmp_path: Path) -> None:
    opts = ConsumerOptions(topic="a", group="g1", from_beginning=True)
    config, given = consumer_config(BS, None, {"group.id": "g1"}, opts, "read_committed")
    assert given and config["group.id"] == "g1"
    assert config["auto.offset.reset"] == EARLIEST
    assert config["isolation.level"] == "read_committed"
    assert "enable.auto.commit" not in config
    file = tmp_path / "consumer.properties"
    file.write_text("group.id=g2\n")
    with pytest.raises(TerseError, match="Detected group ids: 'g1', 'g2'"):
        consumer_config(BS, str(file), {}, opts, None)


def test_consumer_group_and_partition_conflict() -> None:
    with pytest.raises(TerseError, match="Options group and partition cannot be specified"):
        consumer_config(BS, None, {}, ConsumerOptions(topic="a", group="g", partition=0), None)


def test_from_beginning_conflicts_with_auto_offset_reset_latest() -> None:
    opts = ConsumerOptions(topic="a", from_beginning=True)
    with pytest.raises(TerseError) as info:
        consumer_config(BS, None, {"auto.offset.reset": "latest"}, opts, None)
    assert info.value.message == (
        "Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', "
        "please remove one option"
    )


NO_OPTIONS: dict[str, str | None] = {}


def test_producer_defaults() -> None:
    config, max_block = producer_config(BS, None, {}, NO_OPTIONS, None)
    assert max_block == 60000
    assert config["acks"] == "-1"
    assert config["linger.ms"] == "1000"
    assert config["compression.type"] == "none"
    assert config["client.id"] == "console-producer"
    assert config["message.timeout.ms"] == "120000"
    assert config["request.timeout.ms"] == "1500"


def test_producer_precedence_option_over_property_over_default(tmp_path: Path) -> None:
    file = tmp_path / "producer.properties"
    file.write_text("acks=0\nlinger.ms=5\nbuffer.memory=2048\nkey.serializer=x.Y\n")
    config, _ = producer_config(
        BS,
        str(file),
        {"linger.ms": "7", "delivery.timeout.ms": "30000", "max.block.ms": "10"},
        {"request_required_acks": "all", "timeout": None},
        "zstd",
    )
    assert config["acks"] == "all"  # explicit option wins
    assert config["linger.ms"] == "7"  # --producer-property over the file
    assert config["queue.buffering.max.kbytes"] == "2"  # Java name translated
    assert config["message.timeout.ms"] == "30000"
    assert config["compression.type"] == "zstd"
    assert "key.serializer" not in config


def test_producer_linger_must_be_below_delivery_timeout() -> None:
    with pytest.raises(ConfigError):
        producer_config(BS, None, {"delivery.timeout.ms": "10"}, {"timeout": "20"}, None)


def test_send_error_line() -> None:
    line = send_error_line("t", None, b"hello", "Local: Message timed out")
    assert line.startswith("[")
    assert line.split("] ", 1)[1] == (
        "ERROR Error when sending message to topic t with key: null, value: 5 bytes with error: "
        "Local: Message timed out "
        "(org.apache.kafka.clients.producer.internals.ErrorLoggingCallback)"
    )
