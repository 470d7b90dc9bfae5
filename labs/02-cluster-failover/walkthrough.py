"""Lab 2 walkthrough: three brokers, a replicated topic, consumer groups, broker failover.

    python labs/02-cluster-failover/walkthrough.py           # guided: pauses before every step
    python labs/02-cluster-failover/walkthrough.py --auto    # unattended, checks every step
    python labs/02-cluster-failover/walkthrough.py --auto --free-ports --work-dir /tmp/lab2

Ports come from ZK_PORT / BROKER0_PORT / BROKER1_PORT / BROKER2_PORT, or `--port
broker0=N` etc. See README.md in this folder for the story behind each step.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))

from labkit import Background, Check, Lab, LabFailed, Port, described

READY_LINE = "started (kafka.server.KafkaServer)"
PARTITIONS = 13
GREETINGS = ["Hi Mom", "How are you?", "How are things going?", "Good!"]
MORE = ["Fine, thanks", "See you Sunday"]
# Keys whose murmur2 partitions (0, 3, 5, 7, 9, 11, 12 of 13) fall to every member of a group
# of three and of two, whichever of Kafka's assignors (range, roundrobin) shares them out.
USERS = ["carol", "ivan", "heidi", "erin", "cat", "victor", "frank"]
ROW = re.compile(r"Partition: (\d+)\tLeader: (\S+)\tReplicas: ([\d,]+)\tIsr: ([\d,]*)")


# --- reading `kcli topics --describe` ------------------------------------------------------------
def partition_rows(output: str) -> dict[int, tuple[str, list[int], list[int]]]:
    """partition -> (leader, replicas, isr) from describe's partition lines."""
    rows = {}
    for match in ROW.finditer(output):
        isr = [int(b) for b in match.group(4).split(",") if b]
        rows[int(match.group(1))] = (
            match.group(2),
            [int(b) for b in match.group(3).split(",")],
            isr,
        )
    return rows


def check_rows(
    description: str, ok: Callable[[dict[int, tuple[str, list[int], list[int]]]], str | None]
) -> Check:
    def check(output: str) -> str | None:
        rows = partition_rows(output)
        if len(rows) != PARTITIONS:
            return f"expected {PARTITIONS} partition lines, saw {len(rows)}"
        return ok(rows)

    return described(description, check)


def spread(rows: dict[int, tuple[str, list[int], list[int]]]) -> str | None:
    leaders = {leader for leader, _r, _i in rows.values()}
    if leaders != {"0", "1", "2"}:
        return f"leaders are {sorted(leaders)}, expected all of 0, 1, 2"
    firsts = [replicas[0] for _l, replicas, _i in rows.values()]
    if len(set(firsts)) != 3 or any(len(set(r)) != 3 for _l, r, _i in rows.values()):
        return "replica lists do not rotate over the three brokers"
    return None


def preferred_leading(rows: dict[int, tuple[str, list[int], list[int]]]) -> str | None:
    wrong = [p for p, (leader, replicas, _i) in rows.items() if leader != str(replicas[0])]
    return f"partitions {wrong} not led by their first replica" if wrong else None


def full_isrs(rows: dict[int, tuple[str, list[int], list[int]]]) -> str | None:
    short = [p for p, (_l, _r, isr) in rows.items() if sorted(isr) != [0, 1, 2]]
    return f"partitions {short} lack a replica in their ISR" if short else None


def without_broker_0(rows: dict[int, tuple[str, list[int], list[int]]]) -> str | None:
    led = [p for p, (leader, _r, isr) in rows.items() if leader not in ("1", "2") or 0 in isr]
    return f"partitions {led} still led by 0, leaderless or with 0 in the ISR" if led else None


# --- helpers -------------------------------------------------------------------------------------
def run_quietly(lab: Lab, script: str, *args: str) -> str:
    """A script run for the walkthrough's own waiting, not shown as a step."""
    res = subprocess.run(
        ["bash", str(lab.folder / script), *args],
        cwd=lab.folder,
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return res.stdout


def wait_for_describe(
    lab: Lab,
    ok: Callable[[dict[int, tuple[str, list[int], list[int]]]], str | None],
    what: str,
    timeout: float,
) -> float:
    started = time.monotonic()
    problem = "no answer"
    while time.monotonic() - started < timeout:
        rows = partition_rows(run_quietly(lab, "describe-topics.sh"))
        problem = ok(rows) if len(rows) == PARTITIONS else "not every partition listed"
        if problem is None:
            took = time.monotonic() - started
            print(f"  ({what} after {took:.1f}s)", flush=True)
            return took
        time.sleep(0.5)
    raise LabFailed(f"{what}: still not so after {timeout:g}s ({problem})")


def wait_for_group(lab: Lab, members: int, timeout: float = 60.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        match = re.search(
            r"\bStable\s+(\d+)\s*$", run_quietly(lab, "describe-group.sh", "--state"), re.MULTILINE
        )
        if match and int(match.group(1)) == members:
            print(f"  (mygroup is Stable with {members} members)", flush=True)
            return
        time.sleep(0.5)
    raise LabFailed(f"mygroup did not settle with {members} members in {timeout:g}s")


def wait_for_lines(processes: Sequence[Background], lines: Sequence[str], timeout: float) -> None:
    """Until every line was printed by one of `processes`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = "\n".join(p.log() for p in processes)
        if all(line in text.splitlines() for line in lines):
            return
        time.sleep(0.2)
    raise LabFailed(f"not every one of {list(lines)} reached {[p.name for p in processes]}")


def split_between(consumers: Sequence[Background], values: Sequence[str], at_least: int) -> None:
    """Each value printed by exactly one consumer; at least `at_least` consumers got some."""
    counts = {c.name: [v for v in values if v in c.log().splitlines()] for c in consumers}
    for v in values:
        owners = [name for name, got in counts.items() if v in got]
        if len(owners) != 1:
            raise LabFailed(f"{v!r} was printed by {owners or 'nobody'}, expected exactly one")
    busy = [name for name, got in counts.items() if got]
    for name, got in counts.items():
        print(f"  {name}: {got}", flush=True)
    if len(busy) < at_least:
        raise LabFailed(f"only {busy} got messages; the group should share them out")
    print(
        f"  ✓ each message went to exactly one member; {len(busy)} members shared them", flush=True
    )


def broker_started(lab: Lab, name: str) -> Callable[[], bool]:
    log_path = lab.work_dir / "logs" / f"{name}.log"
    offset = log_path.stat().st_size if log_path.exists() else 0

    def started() -> bool:
        with open(log_path, "rb") as f:
            f.seek(offset)
            return READY_LINE in f.read().decode(errors="replace")

    return started


def start_broker(lab: Lab, n: int, title: str, explain: str = "") -> Background:
    script = ("start-1st-server.sh", "start-2nd-server.sh", "start-3rd-server.sh")[n]
    return lab.start(
        title,
        script,
        name=f"kafka-{n}",
        ready_port=f"broker{n}",
        ready=broker_started(lab, f"kafka-{n}"),
        explain=explain,
    )


def render_configs(lab: Lab) -> None:
    in_lab = lab.work_dir == lab.folder
    zk = lab.port("zookeeper")
    data = "data/zookeeper" if in_lab else str(lab.work_dir / "data" / "zookeeper")
    lab.render_properties(
        "zookeeper.properties", "ZK_CONFIG", {"clientPort": str(zk), "dataDir": data}
    )
    for n in range(3):
        logs = f"logs/kafka-{n}" if in_lab else str(lab.work_dir / "logs" / f"kafka-{n}")
        lab.render_properties(
            f"server-{n}.properties",
            f"KAFKA{n}_CONFIG",
            {
                "listeners": f"PLAINTEXT://localhost:{lab.port(f'broker{n}')}",
                "zookeeper.connect": f"localhost:{zk}",
                "log.dirs": logs,
            },
        )


def type_into(
    lab: Lab, producer: Background, title: str, lines: Sequence[str], explain: str = ""
) -> None:
    lab.send(producer, title, lines, explain=explain)
    time.sleep(0.3)


def start_cluster(lab: Lab) -> tuple[list[Background], dict[int, str]]:
    # 1. ZooKeeper and three brokers -----------------------------------------------------
    lab.start("Start ZooKeeper", "run-zookeeper.sh", name="zookeeper", ready_port="zookeeper")
    brokers = [
        start_broker(
            lab,
            0,
            "Start broker 0 (port 9092, logs/kafka-0)",
            """
server-0/1/2.properties differ only in broker.id, the port and log.dirs. Each broker registers
/brokers/ids/<id> in ZooKeeper; the first one up becomes the controller.""",
        )
    ]
    brokers.append(start_broker(lab, 1, "Start broker 1 (port 9093, logs/kafka-1)"))
    brokers.append(start_broker(lab, 2, "Start broker 2 (port 9094, logs/kafka-2)"))
    # 2-3. the replicated topic -----------------------------------------------------------
    lab.step(
        "Create my-failsafe-topic: 13 partitions, 3 replicas each",
        "create-replicated-topic.sh",
        expect=["Created topic my-failsafe-topic."],
    )
    first_look = lab.step(
        "Describe it: leaders, replicas, in-sync replicas",
        "describe-topics.sh",
        explain="""
Kafka's placement rotates the replica lists (2,0,1 / 0,1,2 / 1,2,0 / 2,1,0 ...), so every
broker leads about a third of the partitions and follows the rest. Isr lists the replicas
that are up to date: all three, for a new topic.""",
        expect=["PartitionCount: 13", "ReplicationFactor: 3"],
        checks=[
            check_rows("leadership spread over brokers 0, 1 and 2", spread),
            check_rows("every partition led by its first replica", preferred_leading),
            check_rows("every ISR holds all three brokers", full_isrs),
        ],
    )
    original = {p: row[0] for p, row in partition_rows(first_look).items()}
    return brokers, original


def publish_subscribe(lab: Lab) -> None:
    # 4. one consumer, one producer -------------------------------------------------------
    consumers = [
        lab.start(
            "Start a consumer (bootstrap: brokers 2 and 0)",
            "start-consumer-console-replicated.sh",
            name="consumer-1",
        )
    ]
    producer = lab.start(
        "Start a producer (broker list: brokers 0 and 1)",
        "start-producer-console-replicated.sh",
        name="producer",
        stdin=True,
    )
    type_into(lab, producer, "Type a few messages", GREETINGS)
    wait_for_lines(consumers, GREETINGS, 30)
    print("  ✓ consumer-1 printed all four", flush=True)
    # 5. publish/subscribe: one group per consumer ----------------------------------------
    consumers += [
        lab.start(
            f"Start consumer {n}, in a group of its own",
            "start-consumer-console-replicated.sh",
            name=f"consumer-{n}",
            explain="Without a group id each console consumer makes up a group of its own.",
        )
        for n in (2, 3)
    ]
    type_into(lab, producer, "Type two more", MORE)
    for c in consumers:
        wait_for_lines([c], GREETINGS + MORE, 30)
    print("  ✓ every consumer printed every message: each group gets the whole topic", flush=True)
    for c in consumers:
        lab.stop(c, f"Stop {c.name} (Ctrl-C)")
    lab.end_input(producer, "End the producer (Ctrl-D)")


def queue(lab: Lab) -> tuple[list[Background], Background]:
    # 6. a queue: three consumers in one group --------------------------------------------
    group = [
        lab.start(
            f"Start member {n} of mygroup", "start-consumer-console-group.sh", name=f"mygroup-{n}"
        )
        for n in (1, 2, 3)
    ]
    wait_for_group(lab, 3)
    keyed = lab.start(
        "Start a producer of KEY:VALUE lines",
        "start-producer-keyed.sh",
        name="producer-keyed",
        stdin=True,
    )
    first = [f"{user} says m{i}" for i, user in enumerate(USERS, 1)]
    type_into(
        lab,
        keyed,
        "Send seven messages from seven users",
        [f"{u}:{m}" for u, m in zip(USERS, first, strict=True)],
    )
    wait_for_lines(group, first, 30)
    split_between(group, first, at_least=3)
    lab.step(
        "Who owns which partitions, and the lag",
        "describe-group.sh",
        expect=["CONSUMER-ID", "my-failsafe-topic", "LAG"],
    )
    # 7. a member leaves ------------------------------------------------------------------
    lab.stop(
        group[2],
        "Stop member 3 (Ctrl-C)",
        explain="It leaves the group; the other two take over its partitions.",
    )
    wait_for_group(lab, 2)
    second = [f"{user} says m{i}" for i, user in enumerate(USERS, 8)]
    type_into(
        lab, keyed, "Send seven more", [f"{u}:{m}" for u, m in zip(USERS, second, strict=True)]
    )
    wait_for_lines(group[:2], second, 30)
    split_between(group[:2], second, at_least=2)
    return group, keyed


def broker_failover(
    lab: Lab, brokers: list[Background], group: list[Background], keyed: Background
) -> None:
    # 8. broker failover: SIGKILL, then SIGTERM -------------------------------------------
    lab.step(
        "Kill broker 0 (SIGKILL)",
        "kill-1st-server.sh",
        str(brokers[0].proc.pid),
        explain="""
No goodbye: broker 0's ZooKeeper session ends only when it times out
(zookeeper.session.timeout.ms, 6 s in this lab). Then the controller elects new leaders
from the in-sync replicas and takes broker 0 out of every ISR.""",
    )
    lab.expect_exit(brokers[0])
    wait_for_describe(lab, without_broker_0, "leaders only on 1 and 2", 30)
    lab.step(
        "Describe: new leaders, ISRs without broker 0",
        "describe-topics.sh",
        checks=[check_rows("leaders only on brokers 1 and 2, no 0 in any ISR", without_broker_0)],
    )
    lab.step(
        "The under-replicated partitions: all of them now",
        "describe-topics.sh",
        "--under-replicated-partitions",
        checks=[check_rows("all 13 listed", lambda rows: None)],
    )
    failover = ["m15", "m16"]
    type_into(lab, keyed, "Messages still flow", [f"{USERS[0]}:m15", f"{USERS[4]}:m16"])
    wait_for_lines(group[:2], failover, 30)
    print("  ✓ the survivors got m15 and m16 through brokers 1 and 2", flush=True)
    brokers[0] = start_broker(
        lab,
        0,
        "Restart broker 0",
        """
It truncates what it may have that the new leaders lack, fetches what it missed and rejoins
each ISR when it has caught up.""",
    )
    wait_for_describe(lab, full_isrs, "broker 0 back in every ISR", 60)
    lab.step(
        "Stop broker 0 cleanly this time (SIGTERM)",
        "stop-1st-server.sh",
        expect=["Stopped broker 0"],
        explain="""
A clean stop first asks the controller to move broker 0's leaderships away (controlled
shutdown), so clients never meet a dead leader.""",
    )
    lab.expect_exit(brokers[0])
    took = wait_for_describe(lab, without_broker_0, "leaders only on 1 and 2", 10)
    if took > 2.5:
        raise LabFailed(f"leadership took {took:.1f}s to move after a clean stop")
    lab.step(
        "Describe: leadership moved at once",
        "describe-topics.sh",
        checks=[check_rows("leaders only on brokers 1 and 2", without_broker_0)],
    )


def restore_leaders(lab: Lab, brokers: list[Background], original: dict[int, str]) -> None:
    # 9. back to the start ----------------------------------------------------------------
    brokers[0] = start_broker(lab, 0, "Restart broker 0 again")
    wait_for_describe(lab, full_isrs, "broker 0 back in every ISR", 60)
    lab.step(
        "Describe: broker 0 in every ISR, but leading nothing",
        "describe-topics.sh",
        checks=[check_rows("every ISR holds all three brokers", full_isrs)],
    )
    lab.step(
        "Preferred leader election",
        "elect-preferred-leaders.sh",
        expect=["Successfully completed leader election (PREFERRED) for partitions"],
        explain="""
The first replica of each list is its preferred leader. The controller also does this by
itself every leader.imbalance.check.interval.seconds (300 s) when auto.leader.rebalance.enable
is on.""",
    )

    def restored(rows: dict[int, tuple[str, list[int], list[int]]]) -> str | None:
        moved = [p for p, row in rows.items() if row[0] != original[p]]
        return f"partitions {moved} have other leaders than at first" if moved else None

    lab.step(
        "Describe: the original leaders are back",
        "describe-topics.sh",
        checks=[check_rows("the same leaders as right after creation", restored)],
    )


def finish(lab: Lab, brokers: list[Background], group: list[Background], keyed: Background) -> None:
    # the end ---------------------------------------------------------------------------
    lab.end_input(keyed, "End the producer (Ctrl-D)")
    for member in group[:2]:
        lab.stop(member, f"Stop {member.name} (Ctrl-C)")
    lab.step("Stop the brokers", "stop-servers.sh", expect=["Stopped broker 0"])
    for broker in brokers:
        lab.expect_exit(broker)
    lab.step("Stop ZooKeeper", "stop-zookeeper.sh", expect=["Stopped ZooKeeper"])


def main() -> None:
    lab = Lab(
        __file__,
        "Lab 2: three brokers, a replicated topic, consumer groups and failover",
        ports={
            "zookeeper": Port("ZK_PORT", 2181),
            "broker0": Port("BROKER0_PORT", 9092),
            "broker1": Port("BROKER1_PORT", 9093),
            "broker2": Port("BROKER2_PORT", 9094),
        },
    )
    with lab:
        lab.reset_dir("data/zookeeper")
        for n in range(3):
            lab.reset_dir(f"logs/kafka-{n}")
        render_configs(lab)
        brokers, original = start_cluster(lab)
        publish_subscribe(lab)
        group, keyed = queue(lab)
        broker_failover(lab, brokers, group, keyed)
        restore_leaders(lab, brokers, original)
        finish(lab, brokers, group, keyed)


if __name__ == "__main__":
    main()
