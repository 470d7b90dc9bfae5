"""Apache ZooKeeper's own zkCli.sh creates, reads, lists and deletes znodes on the bundled server.

The same assertions run against a real Apache ZooKeeper, which shows they state what zkCli
really prints rather than what we hoped. zkCli is a JVM, so each test makes one or two
invocations and pipes several commands into one session where it can.
"""

from __future__ import annotations

from typing import Any

import pytest
from kazoo.client import KazooClient

pytestmark = pytest.mark.compat

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


@pytest.fixture(params=["embedded", "apache"])
def server(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(f"{request.param}_zk")


def stat_block(lines: list[str], start: int) -> dict[str, str]:
    block = lines[start : start + len(STAT_LABELS)]
    assert [line.split(" = ")[0] for line in block] == STAT_LABELS, lines
    return dict(line.split(" = ", 1) for line in block)


def test_one_shot_create_is_visible_to_kazoo_then_get_stat(server: Any, zkcli: Any) -> None:
    status, lines = zkcli(server.connect_string, "create", "/zkcli-one", "hello")
    assert status == 0
    assert lines == ["Created /zkcli-one"]
    kazoo = KazooClient(hosts=server.connect_string)
    kazoo.start(timeout=10)
    try:
        data, stat = kazoo.get("/zkcli-one")
        assert data == b"hello"
        assert stat.version == 0
    finally:
        kazoo.stop()
        kazoo.close()
    status, lines = zkcli(server.connect_string, "get", "-s", "/zkcli-one")
    assert status == 0
    assert lines[0] == "hello"
    fields = stat_block(lines, 1)
    assert fields["dataLength"] == "5"
    assert fields["ephemeralOwner"] == "0x0"
    assert fields["numChildren"] == "0"


def test_session_creates_lists_reads_updates_and_deletes(server: Any, zkcli: Any) -> None:
    script = [
        "create /zkcli-s root",
        "create /zkcli-s/b bee",
        "create -s /zkcli-s/seq- first",
        "create -e /zkcli-s/eph mine",
        "ls /zkcli-s",
        "get /zkcli-s/b",
        "stat /zkcli-s/eph",
        "set /zkcli-s/b buzz",
        "get /zkcli-s/b",
        "ls -R /zkcli-s",
        "delete /zkcli-s/seq-0000000001",
        "ls /zkcli-s",
        "deleteall /zkcli-s",
        "ls /zkcli-s",
        "quit",
    ]
    status, lines = zkcli(server.connect_string, stdin="\n".join(script) + "\n")
    expected_head = [
        "Created /zkcli-s",
        "Created /zkcli-s/b",
        "Created /zkcli-s/seq-0000000001",  # the parent's cversion counts /zkcli-s/b
        "Created /zkcli-s/eph",
        "[b, eph, seq-0000000001]",
        "bee",
    ]
    assert lines[:6] == expected_head, lines
    eph = stat_block(lines, 6)
    assert eph["ephemeralOwner"] != "0x0"
    assert eph["dataLength"] == "4"
    rest = lines[6 + len(STAT_LABELS) :]
    assert rest == [
        "buzz",
        "/zkcli-s",
        "/zkcli-s/b",
        "/zkcli-s/eph",
        "/zkcli-s/seq-0000000001",
        "[b, eph]",
        "Node does not exist: /zkcli-s",
    ]
    assert status == 1  # zkCli exits with the status of the last command that ran


def test_error_messages(server: Any, zkcli: Any) -> None:
    script = [
        "get /zkcli-missing",
        "create /zkcli-e x",
        "create /zkcli-e y",
        "create /zkcli-e/child z",
        "delete /zkcli-e",
        "set -v 9 /zkcli-e nope",
        "delete -v 0 /zkcli-e/child",
        "deleteall /zkcli-e",
        "create /zkcli-e/orphan",
    ]
    _, lines = zkcli(server.connect_string, stdin="\n".join(script) + "\n")
    assert lines == [
        "Node does not exist: /zkcli-missing",
        "Created /zkcli-e",
        "Node already exists: /zkcli-e",
        "Created /zkcli-e/child",
        "Node not empty: /zkcli-e",
        "version No is not valid : /zkcli-e",
        "Node does not exist: /zkcli-e/orphan",
    ]


def test_watches_acl_and_sync(server: Any, zkcli: Any) -> None:
    # The Java client's watcher prints each event; they must arrive for data, child and exists
    # watches, each once. Events print from zkCli's event thread, so only presence is checked.
    script = [
        "create /zkcli-w one",
        "get -w /zkcli-w",
        "set /zkcli-w two",
        "ls -w /zkcli-w",
        "create /zkcli-w/kid",
        "stat -w /zkcli-w/later",
        "create /zkcli-w/later",
        "set /zkcli-w three",
        "getAcl /zkcli-w",
        "sync /zkcli-w",
        "get /zkcli-w",
    ]
    _, lines = zkcli(server.connect_string, stdin="\n".join(script) + "\n")
    events = [line for line in lines if line.startswith("WatchedEvent")]
    assert sorted(events) == [
        "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/zkcli-w",
        "WatchedEvent state:SyncConnected type:NodeCreated path:/zkcli-w/later",
        "WatchedEvent state:SyncConnected type:NodeDataChanged path:/zkcli-w",
    ]
    rest = [line for line in lines if not line.startswith("WatchedEvent")]
    assert rest == [
        "Created /zkcli-w",
        "one",
        "[]",
        "Created /zkcli-w/kid",
        "Node does not exist: /zkcli-w/later",
        "Created /zkcli-w/later",
        "'world,'anyone",
        ": cdrwa",
        "Sync is OK",
        "three",
    ]
