"""Lab 1 walkthrough: one ZooKeeper, one broker, a 13-partition topic, console producer/consumer.

    python labs/01-single-node/walkthrough.py           # guided: pauses before every step
    python labs/01-single-node/walkthrough.py --auto    # unattended, checks every step
    python labs/01-single-node/walkthrough.py --auto --zk-port 12181 --broker-port 19092

Ports also come from ZK_PORT / BROKER_PORT, or `--port zookeeper=N --port broker=N`;
`--free-ports` picks free ones. See README.md in this folder for the story behind each step.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))

from labkit import Background, Check, Lab, LabFailed, Port, described

READY_LINE = "started (kafka.server.KafkaServer)"
MESSAGES = [f"This is message {n}" for n in range(1, 6)]
ORDERED = ["step 1: open the account", "step 2: deposit 100", "step 3: withdraw 30",
           "step 4: close the account"]  # fmt: skip
KEYED = ["alice:logged in", "bob:logged in", "carol:logged in", "alice:added a book",
         "bob:searched", "alice:paid", "carol:logged out", "bob:paid",
         "alice:logged out"]  # fmt: skip
# A producer sticks to one partition while it fills a batch (librdkafka: for 2 x linger.ms,
# 2 s in the console producer), so keyless lines typed quickly land together. Lines typed a
# little over 2 s apart each get a partition of their own, as when a person types them.
SLOW_TYPING = 2.1
QUICK_TYPING = 0.2


def port_options(argv: Sequence[str]) -> list[str]:
    """`--zk-port N` / `--broker-port N` become labkit's `--port zookeeper=N` / `broker=N`."""
    names = {"--zk-port": "zookeeper", "--broker-port": "broker"}
    out: list[str] = []
    items = list(argv)
    while items:
        item = items.pop(0)
        flag, eq, value = item.partition("=")
        if flag in names:
            if not eq:
                if not items:
                    raise SystemExit(f"{flag} needs a port number")
                value = items.pop(0)
            out += ["--port", f"{names[flag]}={value}"]
        else:
            out.append(item)
    return out


def all_lines_arrived(lines: Sequence[str]) -> Check:
    def check(output: str) -> str | None:
        missing = [line for line in lines if line not in output]
        return f"missing: {missing}" if missing else None

    return described(f"all {len(lines)} lines arrived", check)


def in_send_order(lines: Sequence[str]) -> Check:
    def check(output: str) -> str | None:
        seen = [line for line in output.splitlines() if line in lines]
        return None if seen == list(lines) else f"order was {seen}, sent {list(lines)}"

    return described("they arrived in exactly the order they were sent", check)


def keyed_records(output: str) -> list[tuple[int, str, str]]:
    """(partition, key, value) of each `Partition:P<TAB>key<TAB>value` line with a key."""
    found = []
    for line in output.splitlines():
        match = re.match(r"^Partition:(\d+)\t([^\t]+)\t(.*)$", line.strip())
        if match and match.group(2) != "null":
            found.append((int(match.group(1)), match.group(2), match.group(3)))
    return found


def same_key_same_partition_in_order(output: str) -> str | None:
    records = keyed_records(output)
    for key in sorted({line.split(":", 1)[0] for line in KEYED}):
        sent = [line.split(":", 1)[1] for line in KEYED if line.startswith(key + ":")]
        got = [(p, v) for p, k, v in records if k == key]
        partitions = {p for p, _v in got}
        if len(partitions) != 1:
            return f"key {key} was read from partitions {sorted(partitions)}, expected one"
        if [v for _p, v in got] != sent:
            return f"key {key}: read {[v for _p, v in got]}, sent {sent}"
    return None


def type_lines(
    lab: Lab, process: Background, title: str, lines: Sequence[str], *, explain: str, gap: float
) -> None:
    """Type lines into a console producer one at a time, `gap` seconds apart."""
    lab.send(process, title, [], explain=explain)
    for line in lines:
        print(f"  {process.name}> {line}", flush=True)
        process.send_line(line)
        time.sleep(gap)


def finish_input(lab: Lab, process: Background, title: str) -> None:
    code = lab.end_input(process, title)
    if code != 0:
        log = process.log()[-1500:]
        raise LabFailed(f"{process.name} exited with {code}; its log says:\n{log}")


def note_order(output: str) -> None:
    seen = [line for line in output.splitlines() if line in MESSAGES]
    if seen == MESSAGES:
        print("  (this time they happen to come back in send order; run it again, or look at")
        print("   the partitions in the next steps: the order is not guaranteed)")
    else:
        print("  → not in the order they were typed: see the next steps for why")


def render_configs(lab: Lab) -> None:
    in_lab = lab.work_dir == lab.folder
    zk, broker = lab.port("zookeeper"), lab.port("broker")
    lab.render_properties(
        "zookeeper.properties",
        "ZK_CONFIG",
        {
            "clientPort": str(zk),
            "dataDir": "data/zookeeper" if in_lab else str(lab.work_dir / "data" / "zookeeper"),
        },
    )
    lab.render_properties(
        "server.properties",
        "KAFKA_CONFIG",
        {
            "listeners": f"PLAINTEXT://localhost:{broker}",
            "zookeeper.connect": f"localhost:{zk}",
            "log.dirs": "data/kafka-logs" if in_lab else str(lab.work_dir / "data" / "kafka-logs"),
        },
    )


def broker_ready(lab: Lab) -> tuple[Path, int]:
    log_path = lab.work_dir / "logs" / "kafka.log"
    return log_path, log_path.stat().st_size if log_path.exists() else 0


def main() -> None:
    lab = Lab(
        __file__,
        "Lab 1: one ZooKeeper, one Kafka broker, a topic with 13 partitions",
        ports={"zookeeper": Port("ZK_PORT", 2181), "broker": Port("BROKER_PORT", 9092)},
        argv=port_options(sys.argv[1:]),
    )
    with lab:
        lab.reset_dir("data/zookeeper")
        lab.reset_dir("data/kafka-logs")
        render_configs(lab)
        zookeeper = lab.start(
            "Start ZooKeeper",
            "run-zookeeper.sh",
            name="zookeeper",
            ready_port="zookeeper",
            explain="""
ZooKeeper comes first: the broker registers itself there, and topic metadata lives there.""",
        )
        log_path, offset = broker_ready(lab)

        def started() -> bool:
            with open(log_path, "rb") as f:
                f.seek(offset)
                return READY_LINE in f.read().decode(errors="replace")

        kafka = lab.start(
            "Start the Kafka broker",
            "run-kafka.sh",
            name="kafka",
            ready_port="broker",
            ready=started,
            explain="""
The broker reads server.properties: broker.id 0, port 9092, partition logs under
data/kafka-logs. It registers /brokers/ids/0 in ZooKeeper, becomes the controller (it is the
only broker) and logs "[KafkaServer id=0] started" when it takes requests.""",
        )
        lab.step(
            "Create a topic with 13 partitions",
            "create-topic.sh",
            explain="""
`kcli topics --zookeeper` writes the topic's partition assignment into ZooKeeper; the
controller sees the new znode and makes broker 0 the leader of all 13 partitions.""",
            expect=["Created topic my-topic."],
        )
        lab.step("List topics", "list-topics.sh", expect=["my-topic"])
        producer = lab.start(
            "Start the console producer",
            "start-producer-console.sh",
            name="producer",
            stdin=True,
            explain="Each line you type becomes one record (no key) of my-topic.",
        )
        type_lines(
            lab,
            producer,
            "Type some messages",
            MESSAGES,
            explain="At least four lines; here five, a couple of seconds apart, as a person "
            "types them.",
            gap=SLOW_TYPING,
        )
        finish_input(lab, producer, "End the producer (Ctrl-D)")
        output = lab.step(
            "Read them with the console consumer",
            "start-consumer-console.sh",
            "--max-messages", str(len(MESSAGES)), "--timeout-ms", "20000",
            explain="""
--from-beginning starts at the oldest record of every partition. By hand you would leave it
running and stop it with Ctrl-C; here it stops after the five records.""",
            expect=[f"Processed a total of {len(MESSAGES)} messages"],
            checks=[all_lines_arrived(MESSAGES)],
        )  # fmt: skip
        note_order(output)
        lab.step(
            "Why the order can differ: the topic has 13 partitions",
            "describe-topic.sh",
            explain="""
A record without a key goes to a partition the producer picks. Order is kept only inside one
partition; the consumer reads the partitions in turn, not in the order records were written.""",
            expect=["PartitionCount: 13", "Partition: 12"],
        )
        lab.step(
            "See which partition each message went to",
            "show-partitions.sh",
            "--max-messages", str(len(MESSAGES)), "--timeout-ms", "20000",
            expect=["Partition:", "Offset:"],
            checks=[all_lines_arrived(MESSAGES)],
        )  # fmt: skip
        lab.step(
            "Order, way 1: a topic with a single partition",
            "create-ordered-topic.sh",
            expect=["Created topic my-ordered-topic."],
        )
        ordered = lab.start(
            "Start a producer for the one-partition topic",
            "start-producer-ordered.sh",
            name="producer-ordered",
            stdin=True,
        )
        title = "Type messages that must stay in order"
        type_lines(lab, ordered, title, ORDERED, explain="", gap=QUICK_TYPING)
        finish_input(lab, ordered, "End that producer (Ctrl-D)")
        lab.step(
            "Read the one-partition topic",
            "start-consumer-ordered.sh",
            "--max-messages", str(len(ORDERED)), "--timeout-ms", "20000",
            explain="One partition is one ordered log: records come back exactly as written.",
            checks=[all_lines_arrived(ORDERED), in_send_order(ORDERED)],
        )  # fmt: skip
        keyed = lab.start(
            "Order, way 2: keys. Start a producer that reads KEY:VALUE lines",
            "start-producer-keyed.sh",
            name="producer-keyed",
            stdin=True,
            explain="""
parse.key=true splits each line at key.separator (`:`) into key and value. The producer hashes
the key to choose the partition, so one key always lands in one partition of my-topic.""",
        )
        values_only = [line.split(":", 1)[1] for line in KEYED]
        type_lines(lab, keyed, "Type events of three users", KEYED, explain="", gap=QUICK_TYPING)
        finish_input(lab, keyed, "End that producer (Ctrl-D)")
        total = len(MESSAGES) + len(KEYED)
        lab.step(
            "Read my-topic with keys and partitions",
            "start-consumer-keyed.sh",
            "--max-messages", str(total), "--timeout-ms", "20000",
            explain="""
Each user's events sit in one partition, in the order they happened, even though my-topic
has 13 partitions. (The first five records have no key: `null`.)""",
            checks=[
                all_lines_arrived(values_only),
                described(
                    "every key is in one partition, its values in send order",
                    same_key_same_partition_in_order,
                ),
            ],
        )  # fmt: skip
        lab.step("Stop the broker", "stop-kafka.sh", expect=["Stopped broker 0"])
        lab.expect_exit(kafka)
        lab.step("Stop ZooKeeper", "stop-zookeeper.sh", expect=["Stopped ZooKeeper"])
        lab.expect_exit(zookeeper)


if __name__ == "__main__":
    main()
