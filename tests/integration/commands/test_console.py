"""console-producer and console-consumer against kcli brokers: piped and interactive (pexpect)
production, every formatter property, start positions, limits, failures and Ctrl-C.

Needs Produce, Fetch, ListOffsets and CreateTopics in the broker."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time

import pexpect
import pytest

from kcli.testing.process import kcli_argv
from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration


def create(kafka: Cluster, topic: str, partitions: int = 1) -> None:
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, "--create", "--topic", topic,
               "--partitions", str(partitions), "--replication-factor", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr


def produce(kafka: Cluster, topic: str, text: str, *extra: str) -> None:
    res = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic,
               *extra, stdin=text)  # fmt: skip
    assert (res.returncode, res.stderr) == (0, "")


def consume(kafka: Cluster, topic: str, *extra: str) -> tuple[int, list[str], list[str]]:
    res = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--topic", topic,
               "--timeout-ms", "15000", *extra)  # fmt: skip
    return res.returncode, lines(res.stdout), lines(res.stderr)


def test_keys_headers_and_every_print_property(kafka: Cluster, topic_name: str) -> None:
    create(kafka, topic_name)
    produce(kafka, topic_name, "h1:v1,h2:v2\tK1\thello\n\tK2\tworld\n<NULL>\t<NULL>\tnokey\n",
            "--property", "parse.key=true", "--property", "parse.headers=true",
            "--property", "null.marker=<NULL>")  # fmt: skip
    code, out, err = consume(kafka, topic_name, "--from-beginning", "--max-messages", "3",
                             "--property", "print.timestamp=true",
                             "--property", "print.partition=true",
                             "--property", "print.offset=true",
                             "--property", "print.headers=true",
                             "--property", "print.key=true")  # fmt: skip
    assert code == 0 and err[-1] == "Processed a total of 3 messages"
    pattern = re.compile(r"CreateTime:\d{13}\tPartition:0\tOffset:(\d)\t(.*)")
    rows = [pattern.fullmatch(line) for line in out]
    assert all(rows), out
    assert [(m.group(1), m.group(2)) for m in rows if m] == [
        ("0", "h1:v1,h2:v2\tK1\thello"),
        ("1", "NO_HEADERS\tK2\tworld"),  # an empty headers part gives no headers
        ("2", "NO_HEADERS\tnull\tnokey"),
    ]
    _, out, _ = consume(kafka, topic_name, "--from-beginning", "--max-messages", "3",
                        "--property", "print.key=true", "--property", "print.value=false",
                        "--property", "key.separator=|",
                        "--property", "null.literal=-")  # fmt: skip
    assert out == ["K1", "K2", "-"]
    _, out, _ = consume(kafka, topic_name, "--from-beginning", "--max-messages", "1",
                        "--property", "print.headers=true", "--property", "headers.separator=;",
                        "--property", "print.value=false")  # fmt: skip
    assert out == ["h1:v1;h2:v2"]


def test_from_beginning_max_messages_partition_offset(kafka: Cluster, topic_name: str) -> None:
    create(kafka, topic_name, partitions=2)
    produce(kafka, topic_name, "".join(f"{i % 2}\tv{i}\n" for i in range(10)),
            "--property", "parse.key=true")  # fmt: skip
    code, out, err = consume(kafka, topic_name, "--from-beginning", "--max-messages", "4")
    assert code == 0 and len(out) == 4 and err[-1] == "Processed a total of 4 messages"
    _, out, _ = consume(kafka, topic_name, "--from-beginning", "--max-messages", "10",
                        "--property", "print.partition=true")  # fmt: skip
    assert sorted(line.split("\t")[1] for line in out) == sorted(f"v{i}" for i in range(10))
    counts = [sum(line.startswith(f"Partition:{p}\t") for line in out) for p in (0, 1)]
    p = 0 if counts[0] >= 2 else 1
    n = counts[p]
    _, out, _ = consume(kafka, topic_name, "--partition", str(p), "--offset", str(n - 2),
                        "--property", "print.offset=true", "--max-messages", "2")  # fmt: skip
    assert [line.split("\t")[0] for line in out] == [f"Offset:{n - 2}", f"Offset:{n - 1}"]
    _, out, err = consume(kafka, topic_name, "--partition", "1", "--timeout-ms", "1000")
    assert out == [] and err[-1] == "Processed a total of 0 messages"  # latest by default


def test_keys_go_to_the_partition_kafkas_java_clients_choose(
    kafka: Cluster, topic_name: str
) -> None:
    # murmur2(key) & 0x7fffffff % 13, as kafka-console-producer.sh partitions these keys.
    create(kafka, topic_name, partitions=13)
    produce(kafka, topic_name, "alice\t1\nbob\t2\ncarol\t3\n", "--property", "parse.key=true")
    _, out, _ = consume(kafka, topic_name, "--from-beginning", "--max-messages", "3",
                        "--property", "print.key=true", "--property", "print.partition=true",
                        "--property", "print.value=false")  # fmt: skip
    assert sorted(out) == ["Partition:0\tcarol", "Partition:4\tbob", "Partition:8\talice"]


def test_include_regex_and_json(kafka: Cluster) -> None:
    for name in ("inc-a", "inc-b"):
        create(kafka, name)
        produce(kafka, name, f"from-{name}\n")
    res = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--include", "inc-.*",
               "--from-beginning", "--max-messages", "2", "--timeout-ms", "15000",
               "--format", "json")  # fmt: skip
    records = sorted((json.loads(line) for line in lines(res.stdout)), key=lambda r: r["topic"])
    assert [(r["topic"], r["value"], r["key"], r["offset"]) for r in records] == [
        ("inc-a", "from-inc-a", None, 0),
        ("inc-b", "from-inc-b", None, 0),
    ]


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_compression_codecs(kafka: Cluster, codec: str) -> None:
    topic = f"codec-{codec}"
    create(kafka, topic)
    produce(kafka, topic, "a\nb\n", "--compression-codec", codec, "--sync",
            "--request-required-acks", "all")  # fmt: skip
    assert consume(kafka, topic, "--from-beginning", "--max-messages", "2")[1] == ["a", "b"]


def test_failed_send_is_reported_and_exit_is_nonzero(kafka: Cluster, topic_name: str) -> None:
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, "--create", "--topic", topic_name,
               "--partitions", "1", "--replication-factor", "1",
               "--config", "max.message.bytes=1000")  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
               "--message-send-max-retries", "0", "--sync",  # one record per batch
               stdin="small\n" + "x" * 5000 + "\n")  # fmt: skip
    assert res.returncode == 1
    errors = [line for line in lines(res.stderr) if " ERROR " in line]
    assert len(errors) == 1
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] ERROR Error when sending message to topic "
        + re.escape(topic_name)
        + r" with key: null, value: 5000 bytes with error: .+ "
        r"\(org\.apache\.kafka\.clients\.producer\.internals\.ErrorLoggingCallback\)",
        errors[0],
    )
    assert consume(kafka, topic_name, "--from-beginning", "--max-messages", "1")[1] == ["small"]


def test_interactive_producer_prompt_editing_and_history(kafka: Cluster, topic_name: str) -> None:
    create(kafka, topic_name)
    child = pexpect.spawn(
        sys.executable, kcli_argv("console-producer", "--bootstrap-server", kafka.bootstrap,
                                  "--topic", topic_name)[1:],
        encoding="utf-8", timeout=20, dimensions=(24, 120),
        env={**os.environ, "PROMPT_TOOLKIT_NO_CPR": "1"},  # pexpect answers no CPR queries
    )  # fmt: skip
    try:
        child.expect(">")
        child.send("helo")
        child.send("\x1b[D")  # Left arrow: the cursor goes back one character
        child.send("l\r")  # -> "hello"
        child.expect(">")
        time.sleep(0.5)  # prompt-toolkit loads the history in the background as a prompt starts
        child.send("\x1b[A")  # Up arrow recalls "hello" from the history
        child.send(" again\r")
        child.expect(">")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    out = consume(kafka, topic_name, "--from-beginning", "--max-messages", "2")[1]
    assert out == ["hello", "hello again"]


def test_consumer_ctrl_c_prints_the_total(kafka: Cluster, topic_name: str) -> None:
    create(kafka, topic_name)
    produce(kafka, topic_name, "one\ntwo\n")
    child = pexpect.spawn(
        sys.executable, kcli_argv("console-consumer", "--bootstrap-server", kafka.bootstrap,
                                  "--topic", topic_name, "--from-beginning")[1:],
        encoding="utf-8", timeout=20,
    )  # fmt: skip
    try:
        child.expect("two")
        child.kill(signal.SIGINT)
        child.expect("Processed a total of 2 messages")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "Traceback" not in (child.before or "")


def test_unknown_topic_for_the_consumer(kafka: Cluster) -> None:
    code, _, err = consume(kafka, "never-created")
    assert code == 1
    assert err == ["Error: Topic 'never-created' does not exist"]
