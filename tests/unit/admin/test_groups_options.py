"""ConsumerGroupCommandOptions.checkArgs: option combinations refused with Kafka's wording."""

from __future__ import annotations

from typing import Any

import pytest

from kcli.admin.groups_model import GroupDescription, Member, offset_rows
from kcli.admin.groups_options import (
    DRY_RUN_WARNING,
    GroupCommandOptions,
    UsageError,
    parse_states,
    parse_topic_arg,
)

BS = "localhost:9092"


def opts(*actions: str, **kw: Any) -> GroupCommandOptions:
    kw.setdefault("bootstrap_server", BS)
    return GroupCommandOptions(list(actions), **kw)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (opts(), "Command must include exactly one action: --list, --describe, --delete, "
         "--reset-offsets, --delete-offsets"),
        (opts("list", "describe", groups=["g"]),
         'Option "[group]" can\'t be used with option "[list]"'),
        (opts("list", bootstrap_server=None), 'Missing required argument "[bootstrap-server]"'),
        (opts("describe"), "Option [describe] takes one of these options: [group], [all-groups]"),
        (opts("describe", groups=["g"], members=True, state=""),
         "Option [describe] takes at most one of these options: [members], [offsets], [state]"),
        (opts("describe", groups=["g"], state="stable"),
         "Option [describe] does not take a value for [state]"),
        (opts("list", members=True),
         "Option(s) [members] are unavailable given other options on the command line"),
        (opts("delete", state=""),
         "Option(s) [state] are unavailable given other options on the command line"),
        (opts("delete"), "Option [delete] takes one of these options: [group], [all-groups]"),
        (opts("delete", groups=["g"], topics=["t"]), "The consumer does not support "
         "topic-specific offset deletion from a consumer group."),
        (opts("delete-offsets", groups=["g"]),
         "Option [delete-offsets] takes the following options: [group], [topic]"),
        (opts("reset-offsets", groups=["g"], all_topics=True, to_earliest=True, dry_run=True,
              execute=True), "Option [reset-offsets] only accepts one of [execute] and [dry-run]"),
        (opts("reset-offsets", all_topics=True, to_earliest=True),
         "Option [reset-offsets] takes one of these options: [group], [all-groups]"),
        (opts("reset-offsets", groups=["g"], all_topics=True, to_offset=3, shift_by=1),
         'Option "[to-offset]" can\'t be used with option "[shift-by]"'),
        (opts("reset-offsets", groups=["g"], all_topics=True),
         "Option '[reset-offsets]' requires one of the following scenarios: [to-offset], "
         "[to-datetime], [by-duration], [to-earliest], [to-latest], [to-current], [shift-by], "
         "[from-file]"),
        (opts("reset-offsets", groups=["g"], to_latest=True),
         "One of the reset scopes should be defined: --all-topics, --topic."),
        (opts("describe", groups=["g"], all_groups=True),
         'Option "[group]" can\'t be used with option "[all-groups]"'),
        (opts("describe", groups=["g"], topics=["t"]),
         'Option "[topic]" can\'t be used with option "[describe]"'),
        (opts("list", state="stable,bogus"), "Invalid state list 'stable,bogus'. Valid states "
         "are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty"),
    ],
)  # fmt: skip
def test_refused_with_kafkas_wording(options: GroupCommandOptions, message: str) -> None:
    with pytest.raises(UsageError) as info:
        options.check()
    assert info.value.message == message


def test_accepted_combinations() -> None:
    opts("list", state="").check()
    opts("list", state="Stable, empty").check()
    opts("describe", all_groups=True, members=True, verbose=True).check()
    opts("reset-offsets", groups=["g"], from_file="plan.csv").check()  # no scope needed
    opts("reset-offsets", groups=["a", "b"], topics=["t:0,1"], to_current=True).check()
    opts("delete-offsets", groups=["g"], topics=["t"]).check()


def test_dry_run_warning_only_without_execute_or_dry_run() -> None:
    assert opts("reset-offsets").dry_run_warning == DRY_RUN_WARNING
    assert "missing.In a future major release" in DRY_RUN_WARNING  # Kafka's missing space
    assert opts("reset-offsets", dry_run=True).dry_run_warning is None
    assert opts("reset-offsets", execute=True).dry_run_warning is None
    assert opts("describe").dry_run_warning is None


def test_parse_states_is_case_insensitive() -> None:
    assert parse_states("stable,EMPTY, preparingrebalance") == {
        "Stable",
        "Empty",
        "PreparingRebalance",
    }


def test_topic_args() -> None:
    assert parse_topic_arg("orders") == ("orders", None)
    assert parse_topic_arg("orders:0,2") == ("orders", [0, 2])
    with pytest.raises(
        UsageError, match="Invalid partition 'x' specified in topic arg 'orders:0,x'"
    ):
        parse_topic_arg("orders:0,x")


def test_offset_rows_order_like_kafka() -> None:
    """Members with more partitions first; then committed partitions nobody owns, with `-`."""
    a = Member("a-1", "a", "/10.0.0.1", None, (("t", 1),))
    b = Member("b-1", "b", "/10.0.0.2", None, (("t", 2), ("t", 0)))
    idle = Member("c-1", "c", "/10.0.0.3", None, ())
    desc = GroupDescription("g", "Stable", None, "range", (a, idle, b))
    rows = offset_rows(desc, {("t", 0): 5, ("u", 0): 3}, {("t", 0): 9, ("t", 1): 4, ("t", 2): 2})
    assert [(r.topic, r.partition, r.consumer_id) for r in rows] == [
        ("t", 0, "b-1"),
        ("t", 2, "b-1"),
        ("t", 1, "a-1"),
        ("u", 0, None),
    ]
    assert [r.lag for r in rows] == [4, None, None, None]
