"""Lab 0 walkthrough: ZooKeeper's data model with `kcli zookeeper-start` and `zookeeper-shell`.

    python labs/00-zookeeper/walkthrough.py            # guided: pauses before every step
    python labs/00-zookeeper/walkthrough.py --auto     # unattended, checks every step
    python labs/00-zookeeper/walkthrough.py --auto --port zookeeper=12181

See README.md in this folder for the story behind each step.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))

from labkit import Lab, Port, described


def owner_is_a_session(output: str) -> str | None:
    match = re.search(r"^ephemeralOwner = (0x[0-9a-f]+)$", output, re.MULTILINE)
    if match is None:
        return "no ephemeralOwner line in the Stat"
    if match.group(1) == "0x0":
        return "ephemeralOwner is 0x0: the node is not ephemeral"
    return None


def main() -> None:
    lab = Lab(
        __file__,
        "Lab 0: ZooKeeper, the coordination service under Kafka",
        ports={"zookeeper": Port("ZK_PORT", 2181)},
    )
    with lab:
        lab.reset_dir("data/zookeeper")
        lab.render_properties(
            "zookeeper.properties",
            "ZK_CONFIG",
            {
                "clientPort": str(lab.port("zookeeper")),
                "dataDir": (
                    "data/zookeeper"
                    if lab.work_dir == lab.folder
                    else str(lab.work_dir / "data" / "zookeeper")
                ),
            },
        )
        zookeeper = lab.start(
            "Start ZooKeeper",
            "run-zookeeper.sh",
            name="zookeeper",
            ready_port="zookeeper",
            explain="""
One ZooKeeper server, configured by zookeeper.properties: it listens on the client port and
keeps its transaction log and snapshots in data/zookeeper. Kafka brokers use it to find each
other, elect a controller and store topic metadata.""",
        )
        lab.step(
            "Create znodes",
            "create-znodes.sh",
            explain="""
Znodes form a tree of paths, like files that can also have children. `create -s` appends a
10-digit counter kept by the parent, so several clients can each get a unique name.""",
            expect=["Created /lab", "Created /lab/config", "Created /lab/task-0000000001"],
        )
        lab.step(
            "List znodes",
            "list-znodes.sh",
            explain="`ls` shows the children of one znode (sorted); `ls -R` walks the subtree.",
            expect=["[config, task-0000000001, task-0000000002]", "/lab/task-0000000002"],
        )
        lab.step(
            "Read a znode and its Stat",
            "read-znode.sh",
            explain="""
`get -s` prints the data and the Stat: the zxids (ZooKeeper's global transaction numbers)
of the create and of the last change, the data version, and the owner of an ephemeral node.""",
            expect=["color=blue", "dataVersion = 0", "ephemeralOwner = 0x0"],
        )
        lab.step(
            "Update with and without a version",
            "update-znode.sh",
            explain="""
Every `set` bumps dataVersion. `set -v N` succeeds only if the node is still at version N:
this is how clients update shared state without locks (compare-and-set).""",
            expect=["color=green", "dataVersion = 1", "version No is not valid : /lab/config"],
        )
        session = lab.start(
            "Open a long-lived session",
            "open-session.sh",
            name="session",
            stdin=True,
            explain="""
An interactive zookeeper-shell holds one session open. Ephemeral znodes belong to a session:
Kafka brokers register themselves this way under /brokers/ids.""",
        )
        lab.send(
            session,
            "Create an ephemeral znode in that session",
            ["create -e /lab/alive i-am-here"],
            wait_for_log="Created /lab/alive",
        )
        lab.step(
            "See the ephemeral znode from another client",
            "read-znode.sh",
            "/lab/alive",
            expect=["i-am-here"],
            checks=[described("ephemeralOwner is the session's id", owner_is_a_session)],
        )
        lab.end_input(
            session,
            "Close the session",
            explain="Ending the shell closes its session; ZooKeeper deletes the session's "
            "ephemeral znodes at once.",
        )
        lab.step("The ephemeral znode is gone", "list-znodes.sh", absent=["alive"])
        lab.step(
            "Delete znodes",
            "delete-znodes.sh",
            explain="`delete` removes one znode without children; a parent must be emptied first.",
            expect=["Node not empty: /lab", "[config, task-0000000001]"],
        )
        lab.step(
            "Stop ZooKeeper",
            "stop-zookeeper.sh",
            explain="""
`kcli zookeeper-stop zookeeper.properties` stops the server on that file's port cleanly (as
Ctrl-C in its terminal would). Every acknowledged write is already in the transaction log.""",
            expect=["Stopped ZooKeeper"],
        )
        lab.expect_exit(zookeeper)
        restarted = lab.start(
            "Start ZooKeeper again",
            "run-zookeeper.sh",
            name="zookeeper-restarted",
            ready_port="zookeeper",
            explain="On start ZooKeeper loads its latest snapshot and replays the log after it.",
        )
        lab.step(
            "The data survived the restart",
            "read-znode.sh",
            expect=["color=green", "dataVersion = 1"],
        )
        lab.step("Remove the lab's znodes", "cleanup-znodes.sh", absent=["lab"])
        lab.step("Stop ZooKeeper for good", "stop-zookeeper.sh", expect=["Stopped ZooKeeper"])
        lab.expect_exit(restarted)


if __name__ == "__main__":
    main()
