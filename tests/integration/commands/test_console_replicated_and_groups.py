"""console-producer/consumer on replicated topics and with consumer groups.

Needs follower replication (ISR, high watermark) and the group coordinator APIs
(FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetCommit/Fetch, LeaveGroup)."""

from __future__ import annotations

import pytest

from tests.integration.commands.conftest import Cluster, kcli, lines

pytestmark = pytest.mark.integration


def test_acks_all_on_replication_factor_3(kafka: Cluster, topic_name: str) -> None:
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, "--create", "--topic", topic_name,
               "--partitions", "3", "--replication-factor", "3")  # fmt: skip
    assert res.returncode == 0, res.stderr
    produced = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic",
                    topic_name, "--request-required-acks", "all", stdin="a\nb\nc\n")  # fmt: skip
    assert (produced.returncode, produced.stderr) == (0, "")
    consumed = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--topic",
                    topic_name, "--from-beginning", "--max-messages", "3",
                    "--timeout-ms", "20000")  # fmt: skip
    assert sorted(lines(consumed.stdout)) == ["a", "b", "c"]


def test_group_commits_offsets(kafka: Cluster, topic_name: str) -> None:
    # One partition: with two, a keyless record may land on a partition the group has no
    # commit for yet, where the new consumer starts at the end (latest), as Kafka's does.
    res = kcli("topics", "--bootstrap-server", kafka.bootstrap, "--create", "--topic", topic_name,
               "--partitions", "1", "--replication-factor", "1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
         stdin="1\n2\n3\n4\n")  # fmt: skip
    first = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
                 "--group", "readers", "--from-beginning", "--max-messages", "4",
                 "--timeout-ms", "20000")  # fmt: skip
    assert sorted(lines(first.stdout)) == ["1", "2", "3", "4"]
    res = kcli("console-producer", "--bootstrap-server", kafka.bootstrap, "--topic", topic_name,
               stdin="5\n")  # fmt: skip
    assert res.returncode == 0, res.stderr
    # The same group resumes after its committed offsets.
    second = kcli("console-consumer", "--bootstrap-server", kafka.bootstrap, "--topic",
                  topic_name, "--consumer-property", "group.id=readers", "--max-messages", "1",
                  "--timeout-ms", "20000")  # fmt: skip
    assert lines(second.stdout) == ["5"]
