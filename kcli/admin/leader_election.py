"""Kafka's LeaderElectionCommand (kafka-leader-election.sh, 2.4+) on confluent-kafka's
AdminClient.elect_leaders: which partitions to elect (one partition, all of them, or a JSON
file), the call, and the outcome sorted into Kafka's three groups.

JSON file (Kafka's format): {"partitions": [{"topic": "t", "partition": 0}, ...]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcli.errors import ConfigError, TerseError

ELECTION_TYPES = ("PREFERRED", "UNCLEAN")
ELECTION_NOT_NEEDED = 84  # Kafka's Errors.ELECTION_NOT_NEEDED

# Kafka error code -> the exception class Kafka's tool prints.
EXCEPTIONS: dict[int, str] = {
    3: "UnknownTopicOrPartitionException",
    7: "TimeoutException",
    17: "InvalidTopicException",
    41: "NotControllerException",
    80: "PreferredLeaderNotAvailableException",
    83: "EligibleLeadersNotAvailableException",
}


@dataclass(frozen=True, slots=True)
class ElectionOutcome:
    election_type: str
    succeeded: list[str] = field(default_factory=list)
    not_needed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (partition, exception text)


def parse_election_type(value: str) -> str:
    upper = value.strip().upper()
    if upper not in ELECTION_TYPES:
        raise ConfigError(f"Unknown election type '{value}': expected PREFERRED or UNCLEAN")
    return upper


def partitions_from_options(
    topic: str | None, partition: int | None, all_partitions: bool, json_file: str | None
) -> list[tuple[str, int]] | None:
    """The partitions asked for; None means all of them. Kafka's option rules."""
    chosen = sum(x for x in (topic is not None, all_partitions, json_file is not None))
    if chosen != 1:
        raise ConfigError("One and only one of the following options is required: "
                          "all-topic-partitions, topic, path-to-json-file")  # fmt: skip
    if topic is not None:
        if partition is None:
            raise ConfigError("Missing required option(s) [partition]")
        return [(topic, partition)]
    if partition is not None:
        raise ConfigError("Option partition is only allowed with topic")
    if json_file is not None:
        return read_json_file(json_file)
    return None


def read_json_file(path: str) -> list[tuple[str, int]]:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise TerseError(f"Cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TerseError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    entries = data.get("partitions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise TerseError("Replica election data is missing \"partitions\" field")  # fmt: skip
    result: list[tuple[str, int]] = []
    for entry in entries:
        topic = entry.get("topic") if isinstance(entry, dict) else None
        p = entry.get("partition") if isinstance(entry, dict) else None
        if not isinstance(topic, str) or not isinstance(p, int) or isinstance(p, bool):
            raise TerseError(f"Invalid partition entry in {path}: {json.dumps(entry)}")
        result.append((topic, p))
    duplicates = sorted({f"{t}-{p}" for t, p in result if result.count((t, p)) > 1})
    if duplicates:
        raise TerseError(
            f"Replica election data contains duplicate partitions: {', '.join(duplicates)}"
        )
    return result


def elect(
    config: dict[str, Any],
    election_type: str,
    partitions: list[tuple[str, int]] | None,
    timeout_s: float,
) -> ElectionOutcome:
    """Run the election through the AdminClient and sort the answers."""
    from confluent_kafka import ElectionType, KafkaException, TopicPartition
    from confluent_kafka.admin import AdminClient

    # The binding's timeout keywords are broken in 2.16 (its argument parser rejects them):
    # its default timeouts follow socket.timeout.ms instead.
    client = AdminClient({"socket.timeout.ms": int(timeout_s * 1000), **config})
    kind = ElectionType.PREFERRED if election_type == "PREFERRED" else ElectionType.UNCLEAN
    asked = None if partitions is None else [TopicPartition(t, p) for t, p in partitions]
    try:
        future = client.elect_leaders(kind, asked)
        results = future.result(timeout=timeout_s + 5)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        message = error.str() if error is not None and hasattr(error, "str") else str(exc)
        raise TerseError(f"Leader election request failed: {message}") from None
    except TimeoutError:
        raise TerseError(f"Leader election request failed: no answer in {timeout_s:g}s") from None
    outcome = ElectionOutcome(election_type)
    for tp, error in sorted(results.items(), key=lambda kv: (kv[0].topic, kv[0].partition)):
        name = f"{tp.topic}-{tp.partition}"
        kafka_error = _kafka_error(error)
        if kafka_error is None:
            outcome.succeeded.append(name)
        elif kafka_error.code() == ELECTION_NOT_NEEDED:
            outcome.not_needed.append(name)
        else:
            java = EXCEPTIONS.get(kafka_error.code(), "KafkaException")
            outcome.failed.append((name, f"org.apache.kafka.common.errors.{java}: "
                                         f"{kafka_error.str()}"))  # fmt: skip
    return outcome


def _kafka_error(error: Any) -> Any:
    """A partition's result is a KafkaError, a KafkaException wrapping one, or None."""
    if error is None or hasattr(error, "code"):
        return error
    return error.args[0] if getattr(error, "args", None) else None


def outcome_lines(outcome: ElectionOutcome) -> list[str]:
    """Kafka's output lines (LeaderElectionCommand.electLeaders)."""
    lines: list[str] = []
    kind = outcome.election_type
    if outcome.succeeded:
        lines.append(f"Successfully completed leader election ({kind}) for partitions "
                     f"{', '.join(outcome.succeeded)}")  # fmt: skip
    if outcome.not_needed:
        lines.append(f"Valid replica already elected for partitions "
                     f"{', '.join(outcome.not_needed)}")  # fmt: skip
    for name, text in outcome.failed:
        lines.append(f"Error completing leader election ({kind}) for partition: {name}: {text}")
    return lines


def outcome_json(outcome: ElectionOutcome) -> dict[str, Any]:
    return {
        "election_type": outcome.election_type,
        "succeeded": outcome.succeeded,
        "not_needed": outcome.not_needed,
        "failed": [{"partition": n, "error": t} for n, t in outcome.failed],
    }
