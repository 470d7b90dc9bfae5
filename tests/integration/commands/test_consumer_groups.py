"""`kcli consumer-groups` against kcli brokers with real groups: a live confluent-kafka consumer
(in a thread of this process) and an Empty group whose consumer has left. Text is compared line
for line with Kafka's layout (widths worked out here from Kafka's rules; ids read from JSON)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from kcli.testing.process import free_port
from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration

TOPIC = "cg-orders"
BASE_TS = 1_700_000_000_000  # record i of a partition is stamped BASE_TS + i seconds
PER_PARTITION = 10


def cg(kafka: Cluster, *args: str) -> tuple[int, list[str], list[str]]:
    res = kcli("consumer-groups", "--bootstrap-server", kafka.bootstrap, *args)
    return res.returncode, lines(res.stdout), lines(res.stderr)


def row(values: list[object], widths: list[int]) -> str:
    """Kafka's `%-Ns` columns, the last one unpadded."""
    cells = [f"{v!s:<{w}}" for v, w in zip(values, widths, strict=False)]
    return " ".join(cells + [str(v) for v in values[len(widths) :]])


@dataclass
class Groups:
    live: str
    idle: str
    consumer_id: str


def consume_some(consumer: Consumer, count: int, timeout: float = 30.0) -> int:
    got = 0
    deadline = time.monotonic() + timeout
    while got < count and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is not None and msg.error() is None:
            got += 1
    return got


@pytest.fixture(scope="module")
def groups(kafka: Cluster) -> Iterator[Groups]:
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(30)
    producer = Producer({"bootstrap.servers": kafka.bootstrap})
    for p in range(3):
        for i in range(PER_PARTITION):
            producer.produce(TOPIC, f"{p}-{i}".encode(), partition=p, timestamp=BASE_TS + i * 1000)
    assert producer.flush(30) == 0

    # The Empty group: consumed everything, committed, left.
    idle = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "cg-idle",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
    try:
        idle.subscribe([TOPIC])
        assert consume_some(idle, 3 * PER_PARTITION) == 3 * PER_PARTITION
        idle.commit(asynchronous=False)
    finally:
        idle.close()

    # The live group: one member owning all three partitions, commits once, keeps polling.
    ready, stop = threading.Event(), threading.Event()
    live = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "cg-live",
                     "client.id": "cg-live-client", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})  # fmt: skip

    def run() -> None:
        live.subscribe([TOPIC])
        if consume_some(live, 3 * PER_PARTITION) == 3 * PER_PARTITION:
            live.commit(asynchronous=False)
            ready.set()
        while not stop.is_set():
            live.poll(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert ready.wait(60), "the live consumer never consumed its partitions"
        # Three more records on partition 0 that the live group has not committed: lag 3.
        for i in range(3):
            producer.produce(TOPIC, b"late", partition=0, timestamp=BASE_TS + 60_000 + i)
        assert producer.flush(30) == 0
        code, out, err = cg(kafka, "--describe", "--group", "cg-live", "--members",
                            "--format", "json")  # fmt: skip
        assert code == 0, err
        member = json.loads("\n".join(out))[0]["members"][0]
        yield Groups("cg-live", "cg-idle", member["consumer_id"])
    finally:
        stop.set()
        thread.join(30)
        live.close()


def test_list_and_states(kafka: Cluster, groups: Groups) -> None:
    code, out, _ = cg(kafka, "--list")
    assert code == 0 and {groups.live, groups.idle} <= set(out)
    code, out, _ = cg(kafka, "--list", "--state")
    width = max([15, *(len(line.split()[0]) for line in out[1:])])
    assert out[0] == row(["GROUP", "STATE"], [width])
    assert row([groups.live, "Stable"], [width]) in out
    assert row([groups.idle, "Empty"], [width]) in out
    code, out, _ = cg(kafka, "--list", "--state", "empty")
    assert groups.idle in [line.split()[0] for line in out[1:]]
    assert groups.live not in [line.split()[0] for line in out[1:]]
    code, _, err = cg(kafka, "--list", "--state", "sleepy")
    assert code == 1 and err[-1].startswith("Error: Invalid state list 'sleepy'.")


def test_describe_live_group_offsets(kafka: Cluster, groups: Groups) -> None:
    code, out, err = cg(kafka, "--describe", "--group", groups.live)
    assert (code, err) == (0, [])
    widths = [15, 15, 10, 15, 15, 15, max(15, len(groups.consumer_id)), 15]
    member = [groups.consumer_id, "/127.0.0.1", "cg-live-client"]
    assert out == [
        "",
        row(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
             "CONSUMER-ID", "HOST", "CLIENT-ID"], widths),
        row([groups.live, TOPIC, 0, 10, 13, 3, *member], widths),
        row([groups.live, TOPIC, 1, 10, 10, 0, *member], widths),
        row([groups.live, TOPIC, 2, 10, 10, 0, *member], widths),
        "",
        row(["GROUP", "TOTAL-LAG"], [15]),
        row([groups.live, 3], [15]),
    ]  # fmt: skip
    code, out, _ = cg(kafka, "--describe", "--group", groups.live, "--format", "json")
    [described] = json.loads("\n".join(out))
    assert described["state"] == "Stable" and described["total_lag"] == 3
    assert [p["lag"] for p in described["partitions"]] == [3, 0, 0]


def test_describe_live_group_members_and_state(kafka: Cluster, groups: Groups) -> None:
    widths = [15, max(15, len(groups.consumer_id)), 15, 15, 15]
    code, out, err = cg(kafka, "--describe", "--group", groups.live, "--members")
    assert (code, err) == (0, [])
    assert out == [
        "",
        row(["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"], widths) + " ",
        row([groups.live, groups.consumer_id, "/127.0.0.1", "cg-live-client", 3], widths) + " ",
    ]
    code, out, _ = cg(kafka, "--describe", "--group", groups.live, "--members", "--verbose")
    assert out[1].endswith("#PARTITIONS     ASSIGNMENT")
    assert out[2].endswith(f"3               {TOPIC}(0,1,2)")
    code, out, err = cg(kafka, "--describe", "--group", groups.live, "--state")
    assert (code, err) == (0, [])
    coordinator = next(
        f"{b.host}:{b.port} ({b.broker_id})" for b in kafka.brokers if f"({b.broker_id})" in out[2]
    )
    state_widths = [max(25, len(coordinator)), 25, 20, 15]
    assert out == [
        "",
        row(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
            state_widths),
        row([groups.live, coordinator, "range", "Stable", 1], state_widths),
    ]  # fmt: skip


def test_describe_empty_and_missing_groups(kafka: Cluster, groups: Groups) -> None:
    code, out, err = cg(kafka, "--describe", "--group", groups.idle, "--group", "cg-absent")
    assert code == 1
    assert err == [
        "Error: Consumer group 'cg-absent' does not exist.",
        "",
        f"Consumer group '{groups.idle}' has no active members.",
    ]
    widths = [15, 15, 10, 15, 15, 15, 15, 15]
    assert out[:3] == [
        "",
        row(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
             "CONSUMER-ID", "HOST", "CLIENT-ID"], widths),
        row([groups.idle, TOPIC, 0, 10, 13, 3, "-", "-", "-"], widths),
    ]  # fmt: skip
    code, out, err = cg(kafka, "--describe", "--group", groups.idle, "--members")
    assert (code, out, err) == (
        0,
        [],
        ["", f"Consumer group '{groups.idle}' has no active members."],
    )
    code, out, _ = cg(kafka, "--describe", "--group", groups.idle, "--state")
    assert out[2].split() == [groups.idle, *out[2].split()[1:3], "Empty", "0"]


def test_reset_offsets_plans_executes_and_exports(
    kafka: Cluster, groups: Groups, tmp_path: Path
) -> None:
    widths = [30, 30, 10, 15]
    base = ["--reset-offsets", "--group", groups.idle]
    code, out, err = cg(kafka, *base, "--topic", f"{TOPIC}:0,2", "--to-earliest")
    assert code == 0
    assert err[0].startswith("WARN: No action will be performed as the --execute option is")
    assert out == [
        "",
        row(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], widths),
        row([groups.idle, TOPIC, 0, 0], widths),
        row([groups.idle, TOPIC, 2, 0], widths),
    ]
    # Clamped to the log end, with Kafka's WARN.
    code, out, err = cg(kafka, *base, "--topic", f"{TOPIC}:1", "--to-offset", "99", "--dry-run")
    assert out[2] == row([groups.idle, TOPIC, 1, 10], widths)
    assert "New offset (99) is higher than latest offset for topic partition cg-orders-1. " \
        "Value will be set to 10" in err[0]  # fmt: skip
    # --to-datetime: first record at or after the time; --shift-by from the commit.
    code, out, _ = cg(kafka, *base, "--topic", f"{TOPIC}:1", "--to-datetime",
                      "2023-11-14T22:13:25.000Z", "--dry-run")  # fmt: skip
    assert out[2] == row([groups.idle, TOPIC, 1, 5], widths)  # BASE_TS is 22:13:20 UTC
    code, out, _ = cg(kafka, *base, "--all-topics", "--shift-by", "-4", "--dry-run")
    assert [line.split()[2:] for line in out[2:]] == [["0", "6"], ["1", "6"], ["2", "6"]]
    # Nothing changed yet; now export a plan, edit it, and execute it from the file.
    code, out, _ = cg(kafka, *base, "--all-topics", "--to-earliest", "--export", "--dry-run")
    assert out == [f"{TOPIC},0,0", f"{TOPIC},1,0", f"{TOPIC},2,0", ""]
    plan = tmp_path / "plan.csv"
    plan.write_text(f"{TOPIC},0,2\n{TOPIC},1,500\n")
    code, out, err = cg(kafka, *base, "--from-file", str(plan), "--execute")
    assert code == 0, err
    assert out[2:] == [
        row([groups.idle, TOPIC, 0, 2], widths),
        row([groups.idle, TOPIC, 1, 10], widths),
    ]
    code, out, _ = cg(kafka, "--describe", "--group", groups.idle, "--format", "json")
    offsets = {
        p["partition"]: p["current_offset"] for p in json.loads("\n".join(out))[0]["partitions"]
    }
    assert offsets == {0: 2, 1: 10, 2: 10}


def test_reset_refused_for_an_active_group(kafka: Cluster, groups: Groups) -> None:
    code, out, err = cg(kafka, "--reset-offsets", "--group", groups.live, "--all-topics",
                        "--to-earliest", "--execute")  # fmt: skip
    assert code == 1
    assert err == [
        f"Error: Assignments can only be reset if the group '{groups.live}' is inactive, but "
        "the current state is Stable."
    ]
    code, out, _ = cg(kafka, "--describe", "--group", groups.live, "--format", "json")
    assert [p["current_offset"] for p in json.loads("\n".join(out))[0]["partitions"]] == [10] * 3


def test_delete_offsets_and_delete(kafka: Cluster, groups: Groups) -> None:
    # A group that exists only through committed offsets (reset of a group with no members).
    code, _, err = cg(kafka, "--reset-offsets", "--group", "cg-doomed", "--topic", TOPIC,
                      "--to-latest", "--execute")  # fmt: skip
    assert code == 0, err
    code, out, err = cg(kafka, "--delete-offsets", "--group", "cg-doomed", "--topic", f"{TOPIC}:0")
    assert (code, err) == (0, [])
    assert out == [
        f"Request succeed for deleting offsets with topic {TOPIC}:0 group cg-doomed",
        "",
        row(["TOPIC", "PARTITION", "STATUS"], [30, 15, 15]),
        row([TOPIC, 0, "Successful"], [30, 15, 15]),
    ]
    code, out, err = cg(kafka, "--delete-offsets", "--group", groups.live, "--topic", TOPIC)
    assert code == 1
    assert err == ["Error: Encounter some partition level error, see the follow-up details:"]
    assert out[3].endswith("Error: Deleting offsets of a topic is forbidden while the consumer "
                           "group is actively subscribed to it.")  # fmt: skip
    code, out, err = cg(kafka, "--delete", "--group", "cg-doomed", "--group", groups.live)
    assert code == 1
    assert err == [
        "Error: Deletion of some consumer groups failed:",
        f"* Group '{groups.live}' could not be deleted due to: "
        "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.",
    ]
    assert out == ["", "These consumer groups were deleted successfully: 'cg-doomed'"]
    assert "cg-doomed" not in cg(kafka, "--list")[1]


def test_unreachable_cluster_is_one_line_and_bounded() -> None:
    started = time.monotonic()
    res = kcli("consumer-groups", "--bootstrap-server", f"127.0.0.1:{free_port()}", "--list",
               "--timeout", "1000")  # fmt: skip
    assert res.returncode == 1
    assert lines(res.stderr)[-1].startswith("Error: cannot reach any broker at 127.0.0.1:")
    assert time.monotonic() - started < 20
