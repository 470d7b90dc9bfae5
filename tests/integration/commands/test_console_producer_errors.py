"""console-producer failures are reported on stderr in Kafka's words and make the exit status
non-zero; they are never swallowed."""

from __future__ import annotations

import re

import pytest

from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration


def test_record_over_message_max_bytes_is_reported(kafka: Cluster, topic_name: str) -> None:
    created = kcli("topics", "--zookeeper", kafka.zookeeper, "--create", "--topic", topic_name,
                   "--partitions", "1", "--replication-factor", "1")  # fmt: skip
    assert created.returncode == 0, created.stderr
    big = "x" * 1_100_000  # over the client's message.max.bytes (1000000)
    res = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
               "--timeout", "0", stdin=f"{big}\n", timeout=120)  # fmt: skip
    assert res.returncode == 1
    errors = lines(res.stderr)
    assert len(errors) == 1, errors
    assert re.fullmatch(
        r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] ERROR Error when sending message to topic "
        + re.escape(topic_name)
        + r" with key: null, value: 1100000 bytes with error: .*[Mm]essage size too large.* "
        r"\(org\.apache\.kafka\.clients\.producer\.internals\.ErrorLoggingCallback\)",
        errors[0],
    )


def test_parse_error_names_the_line(kafka: Cluster, topic_name: str) -> None:
    created = kcli("topics", "--zookeeper", kafka.zookeeper, "--create", "--topic", topic_name,
                   "--partitions", "1", "--replication-factor", "1")  # fmt: skip
    assert created.returncode == 0, created.stderr
    res = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
               "--property", "parse.key=true", stdin="no separator here\n")  # fmt: skip
    assert res.returncode == 1
    assert lines(res.stderr) == [
        "Error: No key separator found on line number 1: 'no separator here'"
    ]
