"""Views of `kcli consumer-groups`: Kafka 2.8-3.x layouts byte for byte (widths, trailing
spaces, blank lines, which stream), the TOTAL-LAG extra after them, JSON keys; and the
command's usage errors and help (no cluster)."""

from __future__ import annotations

import pytest

from kcli.admin.groups import DeleteOffsetsResult, GroupReset
from kcli.admin.groups_model import (
    Coordinator,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    Member,
    offset_rows,
)
from kcli.admin.groups_reset import ResetPlan
from kcli.cli import main
from kcli.commands import _consumer_groups_view as view

COORD = Coordinator(1, "localhost", 9092)
LONG_ID = "consumer-1-0c4e6c3a-6b1e-4b84-a3a2-0b4a3f0d1c2e"
M1 = Member(LONG_ID, "consumer-1", "/127.0.0.1", None, (("orders", 1), ("orders", 0)))
STABLE = GroupDescription("lab", "Stable", COORD, "range", (M1,))
EMPTY = GroupDescription("idle", "Empty", COORD, "", ())
DEAD = GroupDescription("gone", "Dead", COORD, "", ())


def out_lines(output: view.Output) -> list[str]:
    return [line for to_err, line in output.lines if not to_err]


def err_lines(output: view.Output) -> list[str]:
    return [line for to_err, line in output.lines if to_err]


def test_describe_offsets_layout() -> None:
    ends = {("orders", 0): 50, ("orders", 1): 50}
    rows = offset_rows(STABLE, {("orders", 0): 40, ("orders", 1): 50}, ends)
    idle_rows = offset_rows(EMPTY, {("orders", 2): 3}, {("orders", 2): 9})
    output = view.describe_offsets([GroupOffsets(STABLE, rows), GroupOffsets(EMPTY, idle_rows)])
    pad = " " * (len(LONG_ID) - len("CONSUMER-ID"))
    assert out_lines(output) == [
        "",
        "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG      "
        f"       CONSUMER-ID{pad} HOST            CLIENT-ID",
        "lab             orders          0          40              50              10       "
        f"       {LONG_ID} /127.0.0.1      consumer-1",
        "lab             orders          1          50              50              0        "
        f"       {LONG_ID} /127.0.0.1      consumer-1",
        "",
        "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG      "
        "       CONSUMER-ID     HOST            CLIENT-ID",
        "idle            orders          2          3               9               6        "
        "       -               -               -",
        "",
        "GROUP           TOTAL-LAG",
        "lab             10",
        "idle            6",
    ]
    assert err_lines(output) == ["", "Consumer group 'idle' has no active members."]
    assert not output.failed


def test_describe_offsets_without_commits_or_groups() -> None:
    rows = offset_rows(STABLE, {}, {("orders", 0): 5})
    output = view.describe_offsets([GroupOffsets(STABLE, rows), GroupOffsets(DEAD, ())])
    lines = out_lines(output)
    assert lines[2].split() == ["lab", "orders", "0", "-", "5", "-", LONG_ID, "/127.0.0.1",
                                "consumer-1"]  # fmt: skip
    assert lines[3].split()[3:6] == ["-", "-", "-"]  # partition 1: no commit, no log end
    assert lines[-1] == "lab             -"
    assert err_lines(output) == ["Error: Consumer group 'gone' does not exist."]
    assert output.failed
    empty = view.describe_offsets([GroupOffsets(EMPTY, ())])
    assert out_lines(empty) == []  # Kafka prints only the state message


def test_rebalancing_warning() -> None:
    desc = GroupDescription("lab", "PreparingRebalance", COORD, "", ())
    output = view.describe_state([desc])
    assert err_lines(output) == ["", "Warning: Consumer group 'lab' is rebalancing."]
    assert out_lines(output)[2].startswith("lab ")


def test_describe_members_layout() -> None:
    m2 = Member("c-2", "c", "/10.1.1.1", None, ())
    desc = GroupDescription("lab", "Stable", COORD, "range", (M1, m2))
    pad = " " * (len(LONG_ID) - len("CONSUMER-ID"))
    plain = out_lines(view.describe_members([desc], verbose=False))
    assert plain == [
        "",
        # `%-15s ` after #PARTITIONS: padded to 15, then one more space.
        f"GROUP           CONSUMER-ID{pad} HOST            CLIENT-ID       {'#PARTITIONS':15} ",
        f"lab             {LONG_ID} /127.0.0.1      consumer-1      {'2':15} ",
        f"lab             c-2{' ' * (len(LONG_ID) - 3)} /10.1.1.1       c               {'0':15} ",
    ]
    verbose = out_lines(view.describe_members([desc], verbose=True))
    assert verbose[1].endswith("#PARTITIONS     ASSIGNMENT")
    assert verbose[2].endswith("2               orders(0,1)")
    assert verbose[3].endswith("0               -")


def test_members_with_a_static_member_get_the_instance_column() -> None:
    static = Member("s-1", "c", "/h", "instance-a", (("b", 0), ("a", 3), ("a", 1)))
    desc = GroupDescription("lab", "Stable", COORD, "range", (static,))
    lines = out_lines(view.describe_members([desc], verbose=True))
    assert lines[1] == (
        "GROUP           CONSUMER-ID     GROUP-INSTANCE-ID HOST            CLIENT-ID       "
        "#PARTITIONS     ASSIGNMENT"
    )
    assert lines[2].endswith(
        "instance-a        /h              c               3               a(1,3), b(0)"
    )


def test_describe_state_layout() -> None:
    lines = out_lines(view.describe_state([STABLE, EMPTY]))
    assert lines == [
        "",
        "GROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           "
        "#MEMBERS",
        "lab                       localhost:9092 (1)        range                Stable          "
        "1",
        "",
        "GROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           "
        "#MEMBERS",
        "idle                      localhost:9092 (1)                             Empty           "
        "0",
    ]
    wide = Coordinator(2, "broker-with-a-long-name.example", 19092)
    lines = out_lines(view.describe_state([GroupDescription("g", "Stable", wide, "range", ())]))
    width = len("broker-with-a-long-name.example:19092 (2)")
    assert lines[1].startswith("GROUP".ljust(width) + " COORDINATOR (ID)  ")


def test_list_layouts() -> None:
    listings = [GroupListing("a", "Stable"), GroupListing("a-much-longer-group", "Empty")]
    assert view.list_lines(listings, with_state=False) == ["a", "a-much-longer-group"]
    assert view.list_lines(listings, with_state=True) == [
        "GROUP               STATE",
        "a                   Stable",
        "a-much-longer-group Empty",
    ]
    assert view.list_lines([], with_state=True) == ["GROUP           STATE"]
    assert view.list_json(listings)[0] == {"group": "a", "state": "Stable"}


def test_reset_layout() -> None:
    results = [
        GroupReset("lab", ResetPlan({("orders", 1): 7, ("orders", 0): 12})),
        GroupReset("busy", error="refused"),
    ]
    assert view.reset_lines(results) == [
        "",
        "GROUP                          TOPIC                          PARTITION  NEW-OFFSET     ",
        "lab                            orders                         0          12             ",
        "lab                            orders                         1          7              ",
    ]
    assert view.reset_lines([]) == []
    assert view.reset_json(results)[0] == {
        "group": "lab",
        "topic": "orders",
        "partition": 0,
        "current_offset": None,
        "new_offset": 12,
    }


def test_reset_messages() -> None:
    plan = ResetPlan({("t", 0): 5}, warnings=["New offset (9) is higher ..."],
                     notices=["Warn: Partition 0 from topic t is empty. Falling back to latest "
                              "known offset."])  # fmt: skip
    results = [GroupReset("busy", error="Assignments can only be reset ..."), GroupReset("g", plan)]
    output = view.reset_messages(results, "2024-05-01 09:00:00,000", notices_to_stdout=True)
    assert output.failed
    assert err_lines(output) == [
        "Error: Assignments can only be reset ...",
        "[2024-05-01 09:00:00,000] WARN New offset (9) is higher ... "
        "(kafka.admin.ConsumerGroupCommand$)",
    ]
    assert out_lines(output) == ["", plan.notices[0]]
    quiet = view.reset_messages(results, "x", notices_to_stdout=False)
    assert out_lines(quiet) == [] and plan.notices[0] in err_lines(quiet)


def test_delete_messages() -> None:
    ok = view.delete_output([("a", None), ("b", None)])
    assert out_lines(ok) == ["Deletion of requested consumer groups ('a', 'b') was successful."]
    mixed = view.delete_output(
        [("a", None), ("b", "GroupNotEmptyException: The group is not empty.")]
    )
    assert mixed.failed
    assert err_lines(mixed) == [
        "Error: Deletion of some consumer groups failed:",
        "* Group 'b' could not be deleted due to: GroupNotEmptyException: The group is not empty.",
    ]
    assert out_lines(mixed) == ["", "These consumer groups were deleted successfully: 'a'"]


def test_delete_offsets_messages() -> None:
    result = DeleteOffsetsResult(0, [("t", 1, None), ("t", 0, None)])
    output = view.delete_offsets_output("g", ["t"], result)
    assert out_lines(output) == [
        "Request succeed for deleting offsets with topic t group g",
        "",
        "TOPIC                          PARTITION       STATUS         ",
        "t                              0               Successful     ",
        "t                              1               Successful     ",
    ]
    assert not output.failed
    unknown = "This server does not host this topic-partition."
    partly = DeleteOffsetsResult(86, [("t", 0, "Deleting offsets ..."), ("x", -1, unknown)])
    output = view.delete_offsets_output("g", ["t", "x"], partly)
    assert err_lines(output) == [
        "Error: Encounter some partition level error, see the follow-up details:"
    ]
    assert out_lines(output)[-1].startswith(
        "x                              Not Provided    Error: "
    )
    missing = view.delete_offsets_output("g", ["t"], DeleteOffsetsResult(69, []))
    assert err_lines(missing) == ["Error: 'g' does not exist."]
    assert view.delete_offsets_json("g", partly)["error"] == "GROUP_SUBSCRIBED_TO_TOPIC"


def test_json_views_have_stable_keys() -> None:
    rows = offset_rows(STABLE, {("orders", 0): 40}, {("orders", 0): 50, ("orders", 1): 50})
    [lab, gone] = view.offsets_json([GroupOffsets(STABLE, rows), GroupOffsets(DEAD, ())])
    assert list(lab) == ["group", "state", "error", "coordinator", "total_lag", "partitions"]
    assert lab["total_lag"] == 10 and gone["error"] == "Consumer group 'gone' does not exist."
    assert list(lab["partitions"][0]) == ["topic", "partition", "current_offset",
                                          "log_end_offset", "lag", "consumer_id", "host",
                                          "client_id"]  # fmt: skip
    member = view.members_json([STABLE])[0]["members"][0]
    assert member["assignment"] == [{"topic": "orders", "partition": 0},
                                    {"topic": "orders", "partition": 1}]  # fmt: skip
    assert view.state_json([STABLE])[0]["coordinator"] == {"id": 1, "host": "localhost",
                                                           "port": 9092}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["consumer-groups", *args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_help_has_worked_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "kcli consumer-groups --bootstrap-server localhost:9092 --describe --group lab" in out
    assert "TOTAL-LAG" in out and "after all of Kafka's lines" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--list"], 'Missing required argument "[bootstrap-server]"'),
        (["--bootstrap-server", "x:1"], "Command must include exactly one action: --list, "
         "--describe, --delete, --reset-offsets, --delete-offsets"),
        (["--bootstrap-server", "x:1", "--reset-offsets", "--group", "g", "--to-earliest"],
         "One of the reset scopes should be defined: --all-topics, --topic."),
        (["--bootstrap-server", "x:1", "--describe", "--group", "g", "--state", "stable"],
         "Option [describe] does not take a value for [state]"),
        (["--bootstrap-server", "x:1", "--reset-offsets", "--group", "g", "--all-topics",
          "--to-latest", "--to-earliest"],
         'Option "[to-earliest]" can\'t be used with option "[to-latest]"'),
        (["--bootstrap-server", "x:1", "--reset-offsets", "--group", "g", "--all-topics",
          "--by-duration", "1H"],
         "Executing consumer group command failed due to Text cannot be parsed to a Duration"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == f"Error: {message}"
