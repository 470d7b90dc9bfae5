"""Preferred election and Kafka's imbalance rule (pure), the broker's controlled-shutdown give-up
rule, and kcli leader-election's option rules, JSON file and output lines."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from kcli.admin.leader_election import (
    ElectionOutcome,
    outcome_json,
    outcome_lines,
    parse_election_type,
    partitions_from_options,
    read_json_file,
)
from kcli.broker.controller.partition_state_machine import (
    imbalanced_partitions,
    preferred_replica_election,
)
from kcli.broker.controller.shutdown_request import _movable
from kcli.broker.metadata_cache import BrokerInfo, MetadataCache, PartitionState, TopicInfo
from kcli.errors import ConfigError, TerseError


def state(leader: int, isr: tuple[int, ...], epoch: int = 3) -> PartitionState:
    return PartitionState(leader=leader, leader_epoch=epoch, isr=isr, controller_epoch=1)


def test_preferred_replica_leads_when_alive_and_in_sync() -> None:
    elected = preferred_replica_election((0, 1, 2), state(1, (1, 2, 0)), {0, 1, 2}, 5)
    assert elected is not None
    assert (elected.leader, elected.leader_epoch, elected.isr, elected.controller_epoch) == (
        0, 4, (1, 2, 0), 5)  # fmt: skip


@pytest.mark.parametrize(
    ("current", "live"),
    [
        (state(0, (0, 1)), {0, 1}),  # already leads
        (state(1, (1, 2)), {0, 1, 2}),  # not in the ISR (still catching up)
        (state(1, (1, 0)), {1, 2}),  # not alive (or shutting down)
    ],
)
def test_preferred_replica_cannot_lead(current: PartitionState, live: set[int]) -> None:
    assert preferred_replica_election((0, 1, 2), current, live, 5) is None


def test_imbalance_over_the_percentage_triggers_elections() -> None:
    assignments = {"t": {0: (0, 1), 1: (0, 1), 2: (1, 0), 3: (1, 0)}}
    # broker 0 prefers 2 partitions and leads none of them: 100 % > 10 %
    leaders = {("t", 0): 1, ("t", 1): 1, ("t", 2): 1, ("t", 3): 1}
    assert imbalanced_partitions(assignments, leaders, {0, 1}, 10) == [("t", 0), ("t", 1)]
    # broker 0 leads one of its two: 50 %, not over 50
    leaders[("t", 0)] = 0
    assert imbalanced_partitions(assignments, leaders, {0, 1}, 50) == []
    assert imbalanced_partitions(assignments, leaders, {0, 1}, 49) == [("t", 1)]
    # a preferred broker that is down (or shutting down) is left alone, as are topics skipped
    assert imbalanced_partitions(assignments, leaders, {1}, 10) == []
    assert imbalanced_partitions(assignments, leaders, {0, 1}, 10, {"t"}) == []


def test_shutdown_retries_only_while_another_isr_member_is_alive() -> None:
    cache = MetadataCache()
    for b in (0, 1):
        cache.set_broker(BrokerInfo(b, (), None))
    states = {0: state(0, (0, 1)), 1: state(0, (0, 2)), 2: state(0, (0,))}
    cache.set_topic(TopicInfo("t", uuid.uuid4(), {0: (0, 1)}, states))
    assert _movable(cache, 0, ("t", 0))  # broker 1 is in sync and alive
    assert not _movable(cache, 0, ("t", 1))  # broker 2 is not alive
    assert not _movable(cache, 0, ("t", 2))  # nobody else in sync
    assert _movable(cache, 0, ("unknown", 0))  # no knowledge: keep Kafka's retries


def test_election_type_and_partition_options() -> None:
    assert parse_election_type("preferred") == "PREFERRED"
    assert parse_election_type(" Unclean ") == "UNCLEAN"
    with pytest.raises(ConfigError, match="Unknown election type 'x'"):
        parse_election_type("x")
    assert partitions_from_options("t", 3, False, None) == [("t", 3)]
    assert partitions_from_options(None, None, True, None) is None
    with pytest.raises(ConfigError, match="One and only one"):
        partitions_from_options("t", 0, True, None)
    with pytest.raises(ConfigError, match="One and only one"):
        partitions_from_options(None, None, False, None)
    with pytest.raises(ConfigError, match=r"\[partition\]"):
        partitions_from_options("t", None, False, None)
    with pytest.raises(ConfigError, match="only allowed with topic"):
        partitions_from_options(None, 1, True, None)


def test_json_file(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"partitions": [{"topic": "a", "partition": 1},
                                               {"topic": "b", "partition": 0}]}))  # fmt: skip
    assert read_json_file(str(good)) == [("a", 1), ("b", 0)]
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps({"partitions": [{"topic": "a", "partition": 1}] * 2}))
    with pytest.raises(TerseError, match="duplicate partitions: a-1"):
        read_json_file(str(dup))
    cases = [("{", "not valid JSON"), ("{}", "missing \"partitions\""),
             ('{"partitions": [{"topic": "a"}]}', "Invalid partition entry")]  # fmt: skip
    for text, message in cases:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(TerseError, match=message):
            read_json_file(str(bad))
    with pytest.raises(TerseError, match="Cannot read"):
        read_json_file(str(tmp_path / "missing.json"))


def test_output_lines_are_kafkas() -> None:
    outcome = ElectionOutcome("PREFERRED", ["t-0", "t-1"], ["t-2"],
                              [("t-3", "org.apache.kafka.common.errors.X: y")])  # fmt: skip
    assert outcome_lines(outcome) == [
        "Successfully completed leader election (PREFERRED) for partitions t-0, t-1",
        "Valid replica already elected for partitions t-2",
        "Error completing leader election (PREFERRED) for partition: t-3: "
        "org.apache.kafka.common.errors.X: y",
    ]
    assert outcome_lines(ElectionOutcome("UNCLEAN")) == []
    assert outcome_json(outcome)["failed"] == [
        {"partition": "t-3", "error": "org.apache.kafka.common.errors.X: y"}
    ]
