"""kafka-topics option checks (TopicCommandOptions.checkArgs), topic regexes and --config."""

from __future__ import annotations

import pytest

from kcli.admin.topic_model import (
    DescribeFilter,
    IncludeList,
    PartitionDescription,
    TopicCommandError,
    TopicCommandOptions,
    TopicDescription,
    ensure_topic_exists,
    parse_topic_configs,
    select_topics,
)
from kcli.errors import TerseError

BS = "localhost:9092"


def check(**kw: object) -> str | None:
    kw.setdefault("bootstrap_server", BS)
    try:
        TopicCommandOptions(**kw).check()  # type: ignore[arg-type]
    except TerseError as exc:
        return exc.message
    return None


def test_valid_commands() -> None:
    assert check(actions=["list"]) is None
    assert check(actions=["describe"], topic="a.*", exclude_internal=True) is None
    assert check(actions=["create"], topic="t") is None  # KIP-464: broker defaults
    assert check(actions=["alter"], topic="t", partitions=3) is None
    assert check(actions=["delete"], topic="t", if_exists=True) is None
    assert check(actions=["describe"], under_replicated=True) is None
    zk = {"bootstrap_server": None, "zookeeper": "localhost:2181"}
    assert check(actions=["create"], topic="t", partitions=1, replication_factor=1, **zk) is None
    assert check(actions=["create"], topic="t", replica_assignment="0:1", **zk) is None
    assert check(actions=["alter"], topic="t", configs=["a=b"], delete_configs=["c"], **zk) is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"actions": []},
            "Command must include exactly one action: --list, --describe, "
            "--create, --alter or --delete",
        ),
        (
            {"actions": ["list", "create"]},
            "Command must include exactly one action: --list, "
            "--describe, --create, --alter or --delete",
        ),
        (
            {"actions": ["list"], "bootstrap_server": None},
            "Only one of --bootstrap-server or --zookeeper must be specified",
        ),
        (
            {"actions": ["list"], "zookeeper": "z:2181"},
            "Only one of --bootstrap-server or --zookeeper must be specified",
        ),
        ({"actions": ["create"]}, 'Missing required argument "[topic]"'),
        (
            {
                "actions": ["create"],
                "topic": "t",
                "bootstrap_server": None,
                "zookeeper": "z",
                "partitions": 1,
            },
            'Missing required argument "[replication-factor]"',
        ),
        ({"actions": ["alter"], "topic": "t"}, 'Missing required argument "[partitions]"'),
        (
            {"actions": ["list"], "partitions": 3},
            'Option "[partitions]" can\'t be used with option "[list]"',
        ),
        (
            {"actions": ["alter"], "topic": "t", "partitions": 3, "replication_factor": 2},
            'Option "[replication-factor]" can\'t be used with option "[alter]"',
        ),
        (
            {"actions": ["create"], "topic": "t", "replica_assignment": "0", "partitions": 1},
            'Option "[replica-assignment]" can\'t be used with option "[partitions]"',
        ),
        (
            {"actions": ["create"], "topic": "t", "if_exists": True},
            'Option "[if-exists]" can\'t be used with option "[create]"',
        ),
        (
            {"actions": ["delete"], "topic": "t", "if_not_exists": True},
            'Option "[if-not-exists]" can\'t be used with option "[delete]"',
        ),
        (
            {"actions": ["describe"], "under_replicated": True, "unavailable": True},
            'Option "[under-replicated-partitions]" can\'t be used with option '
            '"[unavailable-partitions]"',
        ),
        (
            {"actions": ["list"], "topics_with_overrides": True},
            'Option "[topics-with-overrides]" can\'t be used with option "[list]"',
        ),
        (
            {"actions": ["create"], "topic": "t", "delete_configs": ["x"]},
            'Option "[delete-config]" can\'t be used with option "[bootstrap-server]"',
        ),
    ],
)
def test_option_errors(kw: dict[str, object], message: str) -> None:
    assert check(**kw) == message


def test_alter_config_with_bootstrap_server_points_to_configs() -> None:
    message = check(actions=["alter"], topic="t", partitions=2, configs=["a=b"])
    assert message is not None
    assert message.startswith(
        'Option combination "[bootstrap-server],[config]" can\'t be used with option "[alter]"'
    )


def test_include_list_is_kafkas_regex() -> None:
    inc = IncludeList(" 'lab.*, other' ")
    assert inc.allows("lab-1") and inc.allows("other")
    assert not inc.allows("xlab") and not inc.allows("others")
    assert IncludeList("__consumer_offsets").allows("__consumer_offsets")
    assert not IncludeList(".*").allows("__consumer_offsets", exclude_internal=True)
    with pytest.raises(TerseError, match="is an invalid regex"):
        IncludeList("a(")


def test_select_topics_sorts_and_filters() -> None:
    names = ["b", "__consumer_offsets", "a1", "a2"]
    assert select_topics(names, None, False) == ["__consumer_offsets", "a1", "a2", "b"]
    assert select_topics(names, None, True) == ["a1", "a2", "b"]
    assert select_topics(names, "a.", False) == ["a1", "a2"]
    assert select_topics(names, r"a\.", False) == []


def test_ensure_topic_exists() -> None:
    ensure_topic_exists([], None, True)
    ensure_topic_exists([], "x", False)
    with pytest.raises(TopicCommandError, match=r"^Topic 'x' does not exist as expected$"):
        ensure_topic_exists([], "x", True)


def test_parse_topic_configs() -> None:
    assert parse_topic_configs(["a=1", " b = x y ", "c="[:-1] + "=2"]) == {
        "a": "1",
        "b": "x y",
        "c": "2",
    }
    for bad in ("a", "a=", "a=b=c"):
        with pytest.raises(TopicCommandError) as info:
            parse_topic_configs([bad])
        assert info.value.message == (
            'Invalid topic config: all configs to be added must be in the format "key=val".'
        )


def topic(
    isr: tuple[int, ...], leader: int | None = 1, min_isr: int | None = 2
) -> TopicDescription:
    return TopicDescription(
        "t", None, (PartitionDescription(0, leader, (1, 2, 3), isr),), {}, min_isr
    )


def test_describe_filter_partition_predicates() -> None:
    live = frozenset({1, 2, 3})
    flt = DescribeFilter(under_replicated=True, live_brokers=live)
    assert not flt.describe_configs
    t = topic((1, 2))
    assert flt.shows_partition(t, t.partitions[0])
    t = topic((1, 2, 3))
    assert not flt.shows_partition(t, t.partitions[0])

    flt = DescribeFilter(unavailable=True, live_brokers=frozenset({2, 3}))
    t = topic((1, 2, 3), leader=1)
    assert flt.shows_partition(t, t.partitions[0])  # leader 1 is not alive
    t = topic((2, 3), leader=None)
    assert flt.shows_partition(t, t.partitions[0])

    flt = DescribeFilter(under_min_isr=True)
    assert flt.shows_partition(topic((1,)), topic((1,)).partitions[0])
    assert not flt.shows_partition(topic((1, 2)), topic((1, 2)).partitions[0])
    flt = DescribeFilter(at_min_isr=True)
    assert flt.shows_partition(topic((1, 2)), topic((1, 2)).partitions[0])
    assert not flt.shows_partition(topic((1, 2), min_isr=None), topic((1, 2)).partitions[0])


def test_describe_filter_topics_with_overrides() -> None:
    flt = DescribeFilter(topics_with_overrides=True)
    plain = topic((1, 2, 3))
    overridden = TopicDescription("o", None, plain.partitions, {"retention.ms": "1"})
    assert not flt.shows_header(plain)
    assert flt.shows_header(overridden)
    assert not flt.shows_partition(overridden, overridden.partitions[0])
