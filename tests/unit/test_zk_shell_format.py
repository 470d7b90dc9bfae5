"""zookeeper-shell's pure parts: zkCli's text layouts, path rules, command parsing."""

from __future__ import annotations

import time
from collections import namedtuple

import pytest

from kcli.admin.zk_format import (
    format_acl,
    format_children,
    format_data,
    format_stat,
    java_date,
    java_hex,
    stat_to_dict,
    validate_path,
)
from kcli.admin.zk_session import ZkCommandError, split_connect_string
from kcli.admin.zk_shell import ZkShell, parse_command
from kcli.errors import TerseError

Stat = namedtuple(
    "Stat",
    "czxid mzxid ctime mtime version cversion aversion ephemeralOwner dataLength numChildren pzxid",
)


def test_stat_block_order_and_formats() -> None:
    stat = Stat(0x1A, 0x2B, 0, 1_000, 3, 4, 0, 0x1000003E6110000, 5, 2, 0x2C)
    lines = format_stat(stat)
    assert lines[0] == "cZxid = 0x1a"
    assert lines[2] == "mZxid = 0x2b"
    assert lines[4:] == [
        "pZxid = 0x2c",
        "cversion = 4",
        "dataVersion = 3",
        "aclVersion = 0",
        "ephemeralOwner = 0x1000003e6110000",
        "dataLength = 5",
        "numChildren = 2",
    ]
    assert lines[1] == f"ctime = {java_date(0)}"
    assert stat_to_dict(stat)["dataVersion"] == 3


def test_java_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert java_date(0) == "Thu Jan 01 00:00:00 UTC 1970"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert java_hex(0) == "0x0"
    assert java_hex(-1) == "0xffffffffffffffff"


def test_acl_lines() -> None:
    assert format_acl("world", "anyone", 31) == ["'world,'anyone", ": cdrwa"]
    assert format_acl("digest", "bob:x", 1 | 2) == ["'digest,'bob:x", ": rw"]


def test_children_and_data() -> None:
    assert format_children([]) == "[]"
    assert format_children(["zookeeper", "b", "a"]) == "[a, b, zookeeper]"
    assert format_data(None) == "null"
    assert format_data(b"") == ""
    assert format_data(b"h\xc3\xa9") == "hé"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/", None),
        ("/a/b", None),
        ("", "Path length must be > 0"),
        ("a", "Path must start with / character"),
        ("/a/", "Path must not end with / character"),
        ("/a//b", "empty node name specified @3"),
        ("/a/../b", "relative paths not allowed @3"),
    ],
)
def test_validate_path(path: str, problem: str | None) -> None:
    assert validate_path(path) == problem


def test_sequential_prefix_may_end_with_slash() -> None:
    assert validate_path("/jobs/", sequential=True) is None


def test_connect_strings() -> None:
    assert split_connect_string("localhost:2181") == ([("localhost", 2181)], "")
    assert split_connect_string("a:1,b:2/kafka/") == ([("a", 1), ("b", 2)], "/kafka")
    assert split_connect_string("zk1") == ([("zk1", 2181)], "")
    with pytest.raises(TerseError):
        split_connect_string("host:port")


def test_parse_command_options_anywhere_and_usage() -> None:
    parsed = parse_command(["ls", "/", "-s", "-R"])
    assert parsed.flags == {"s", "R"}
    assert parsed.args == ["/"]
    assert parse_command(["create", "-es", "/a-"]).flags == {"e", "s"}
    parsed = parse_command(["set", "-v", "3", "/a", "-5"])
    assert parsed.values == {"v": "3"}
    assert parsed.args == ["/a", "-5"]  # data that looks like a number stays data
    with pytest.raises(ZkCommandError, match=r"^get \[-s\] \[-w\] path$"):
        parse_command(["get"])
    with pytest.raises(ZkCommandError, match="Command not found"):
        parse_command(["nope"])


def test_commands_without_session_say_not_connected() -> None:
    out: list[str] = []
    err: list[str] = []
    shell = ZkShell("localhost:2181", out=out.append, err=err.append)
    assert shell.run_line("ls /") is False
    assert err == ["Not connected"]
    assert shell.prompt() == "[zk: localhost:2181(CLOSED) 1] "
    assert shell.run_line("   ") is True
    shell.run_line("help")
    assert any("create [-s] [-e] path [data]" in line for line in out)
