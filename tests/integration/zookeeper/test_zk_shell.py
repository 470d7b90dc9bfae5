"""`kcli zookeeper-shell` one-shot and piped, against the bundled server and a real Apache one.

Every test runs against both servers: the same zkCli-style output must come back from each.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from typing import Any

import pytest

from kcli.testing.process import free_port, kcli_argv

pytestmark = pytest.mark.integration

STAT_LABELS = [
    "cZxid",
    "ctime",
    "mZxid",
    "mtime",
    "pZxid",
    "cversion",
    "dataVersion",
    "aclVersion",
    "ephemeralOwner",
    "dataLength",
    "numChildren",
]


def shell(
    zk: Any, *args: str, stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    argv = kcli_argv("zookeeper-shell", zk.connect_string, *args)
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


def ok(zk: Any, *args: str) -> str:
    res = shell(zk, *args)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    return res.stdout


def fails(zk: Any, *args: str) -> str:
    res = shell(zk, *args)
    assert res.returncode == 1, res.stdout
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_create_get_set_delete_cycle(zk: Any) -> None:
    assert ok(zk, "create", "/cycle", "hello") == "Created /cycle\n"
    assert ok(zk, "get", "/cycle") == "hello\n"
    assert ok(zk, "set", "/cycle", "world") == ""
    assert ok(zk, "get", "/cycle") == "world\n"
    assert re.fullmatch(r"\[.*\bcycle\b.*\]\n", ok(zk, "ls", "/"))
    assert ok(zk, "delete", "/cycle") == ""
    assert fails(zk, "get", "/cycle") == "Node does not exist: /cycle"


def test_node_without_data_reads_null(zk: Any) -> None:
    ok(zk, "create", "/empty")
    assert ok(zk, "get", "/empty") == "null\n"


def test_stat_block_matches_zkcli(zk: Any) -> None:
    ok(zk, "create", "/stat", "abc")
    out = ok(zk, "stat", "/stat").splitlines()
    assert [line.split(" = ")[0] for line in out] == STAT_LABELS
    fields = dict(line.split(" = ", 1) for line in out)
    assert fields["dataLength"] == "3"
    assert fields["ephemeralOwner"] == "0x0"
    assert fields["cZxid"].startswith("0x")
    # java.util.Date.toString(): "Sat Nov 21 20:26:48 UTC 2026"
    assert re.fullmatch(r"\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}", fields["ctime"])
    got = ok(zk, "get", "-s", "/stat").splitlines()
    assert got[0] == "abc"
    assert [line.split(" = ")[0] for line in got[1:]] == STAT_LABELS


def test_ls_sorted_with_stat_and_recursive(zk: Any) -> None:
    ok(zk, "create", "/tree")
    for child in ("b", "a", "c"):
        ok(zk, "create", f"/tree/{child}", child)
    ok(zk, "create", "/tree/a/deep")
    assert ok(zk, "ls", "/tree") == "[a, b, c]\n"
    with_stat = ok(zk, "ls", "-s", "/tree").splitlines()
    assert with_stat[0] == "[a, b, c]"
    assert "numChildren = 3" in with_stat
    assert ok(zk, "ls", "-R", "/tree").splitlines() == [
        "/tree",
        "/tree/a",
        "/tree/b",
        "/tree/c",
        "/tree/a/deep",
    ]
    assert fails(zk, "delete", "/tree") == "Node not empty: /tree"
    assert ok(zk, "deleteall", "/tree") == ""
    assert fails(zk, "ls", "/tree") == "Node does not exist: /tree"


def test_rmr_is_deleteall(zk: Any) -> None:
    ok(zk, "create", "/rmr")
    ok(zk, "create", "/rmr/x")
    assert ok(zk, "rmr", "/rmr") == ""
    assert fails(zk, "stat", "/rmr") == "Node does not exist: /rmr"


def test_sequential_and_ephemeral(zk: Any) -> None:
    ok(zk, "create", "/seq")
    first = ok(zk, "create", "-s", "/seq/job-", "x").strip()
    second = ok(zk, "create", "-s", "/seq/job-").strip()
    assert first == "Created /seq/job-0000000000"
    assert second == "Created /seq/job-0000000001"
    # A one-shot shell closes its session on exit, so its ephemeral node goes with it.
    assert ok(zk, "create", "-e", "/short-lived", "x") == "Created /short-lived\n"
    assert fails(zk, "stat", "/short-lived") == "Node does not exist: /short-lived"


def test_errors_are_zkcli_lines(zk: Any) -> None:
    ok(zk, "create", "/dup", "1")
    assert fails(zk, "create", "/dup") == "Node already exists: /dup"
    assert fails(zk, "create", "/missing/child") == "Node does not exist: /missing/child"
    assert fails(zk, "set", "/dup", "2", "7") == "version No is not valid : /dup"
    assert fails(zk, "set", "-v", "7", "/dup", "2") == "version No is not valid : /dup"
    assert fails(zk, "delete", "-v", "7", "/dup") == "version No is not valid : /dup"
    assert fails(zk, "ls", "relative") == "Path must start with / character"
    assert fails(zk, "frobnicate").startswith("Command not found: frobnicate")
    assert fails(zk, "get") == "get [-s] [-w] path"
    # The matching version succeeds, and bumps it.
    ok(zk, "set", "-v", "0", "/dup", "2")
    ok(zk, "delete", "/dup", "1")


def test_get_acl_and_sync(zk: Any) -> None:
    ok(zk, "create", "/acl")
    assert ok(zk, "getAcl", "/acl") == "'world,'anyone\n: cdrwa\n"
    assert ok(zk, "sync", "/acl") == "Sync is OK\n"


def test_json_output(zk: Any) -> None:
    ok(zk, "create", "/js", "payload")
    ok(zk, "create", "/js/kid")
    got = json.loads(ok(zk, "--format", "json", "get", "-s", "/js"))
    assert got["data"] == "payload"
    assert got["stat"]["numChildren"] == 1
    assert got["stat"]["dataLength"] == 7
    listed = json.loads(ok(zk, "--format", "json", "ls", "/js"))
    assert listed == {"path": "/js", "children": ["kid"]}
    stat = json.loads(ok(zk, "--format", "json", "stat", "/js/kid"))
    assert stat["stat"]["ephemeralOwner"] == 0


def test_chroot(zk: Any) -> None:
    ok(zk, "create", "/jail")
    res = subprocess.run(
        kcli_argv("zookeeper-shell", f"{zk.connect_string}/jail", "create", "/inside", "1"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.stdout == "Created /inside\n", res.stderr
    assert ok(zk, "ls", "/jail") == "[inside]\n"


def test_piped_commands_run_in_one_session(zk: Any) -> None:
    script = "\n".join(
        [
            "create /piped one",
            "create -e /piped/mine here",
            "ls /piped",
            "get /piped/nothing",
            "stat /piped/mine",
            "# a comment, then a blank line",
            "",
            "get /piped",
        ]
    )
    res = shell(zk, stdin=script + "\n")
    assert res.returncode == 0, res.stderr  # zkCli exits with the last command's status
    out = res.stdout.splitlines()
    assert out[:2] == ["Created /piped", "Created /piped/mine"]
    assert out[2] == "[mine]"  # the ephemeral lives while the session does
    assert any(
        line.startswith("ephemeralOwner = 0x") and line != "ephemeralOwner = 0x0" for line in out
    )
    assert out[-1] == "one"
    assert res.stderr.strip() == "Node does not exist: /piped/nothing"
    assert ok(zk, "ls", "/piped") == "[]\n"  # session closed: ephemeral gone
    failing = shell(zk, stdin="ls /\nget /nope\n")
    assert failing.returncode == 1
    quitting = shell(zk, stdin="get /nope\nquit\nls /\n")
    assert quitting.returncode == 1
    assert quitting.stdout == ""


def test_unreachable_server_is_one_line_and_quick() -> None:
    port = free_port()
    started = time.monotonic()
    res = subprocess.run(
        kcli_argv("zookeeper-shell", f"localhost:{port}", "--timeout", "3", "ls", "/"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 15
    assert res.returncode == 1
    assert res.stderr == (
        f"Error: cannot connect to ZooKeeper at localhost:{port} (connection refused)\n"
    )


def test_silent_server_times_out_within_the_bound() -> None:
    # Accepts TCP connections but never answers the handshake.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        res = subprocess.run(
            kcli_argv("zookeeper-shell", f"127.0.0.1:{port}", "--timeout", "2", "ls", "/"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert res.returncode == 1
    assert res.stderr == (
        f"Error: cannot connect to ZooKeeper at 127.0.0.1:{port} (no session after 2s)\n"
    )
    assert elapsed < 12  # 2s plus interpreter start, with a wide margin for a busy machine


def test_bad_connect_string() -> None:
    res = subprocess.run(
        kcli_argv("zookeeper-shell", "localhost:notaport", "ls", "/"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 1
    assert res.stderr.startswith("Error: invalid ZooKeeper connect string")
    assert "Traceback" not in res.stderr


def test_help_has_worked_example() -> None:
    res = subprocess.run(
        kcli_argv("zookeeper-shell", "--help"), capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 0
    assert "kcli zookeeper-shell localhost:2181 ls /" in res.stdout
