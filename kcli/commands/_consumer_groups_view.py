"""Pure views of `kcli consumer-groups`: Kafka 2.8-3.x text (ConsumerGroupCommand's formats, column
widths computed as Kafka computes them) and JSON.

Text goes out as an ordered list of (stream, line) so stdout and stderr interleave as Kafka's
do. Kafka prints `Error: ...` on stdout; kcli prints it on stderr and exits 1. The one kcli
extra in text, the TOTAL-LAG table of --describe --offsets, comes after all of Kafka's lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kcli.admin.groups import DeleteOffsetsResult, GroupReset
from kcli.admin.groups_model import (
    REBALANCING,
    GroupDescription,
    GroupListing,
    GroupOffsets,
    Member,
)
from kcli.protocol.errors import ErrorCode

MISSING = "-"


@dataclass
class Output:
    lines: list[tuple[bool, str]] = field(default_factory=list)  # (to stderr, text)
    failed: bool = False

    def out(self, line: str = "") -> None:
        self.lines.append((False, line))

    def err(self, line: str = "") -> None:
        self.lines.append((True, line))

    def error(self, message: str) -> None:
        self.err(f"Error: {message}")
        self.failed = True


def _cell(value: object) -> str:
    return MISSING if value is None else str(value)


def _fmt(values: list[object], widths: list[int]) -> str:
    """Java's `%-Ns` for each width, space separated; the last value unpadded (`%s`)."""
    cells = [f"{_cell(v):<{w}}" for v, w in zip(values, widths, strict=False)]
    cells.extend(_cell(v) for v in values[len(widths) :])
    return " ".join(cells)


# -- --list ------------------------------------------------------------------------------------


def list_lines(listings: list[GroupListing], with_state: bool) -> list[str]:
    if not with_state:
        return [g.group for g in listings]
    width = max([15, *(len(g.group) for g in listings)])
    return [_fmt(["GROUP", "STATE"], [width])] + [
        _fmt([g.group, g.state], [width]) for g in listings
    ]


def list_json(listings: list[GroupListing]) -> list[dict[str, Any]]:
    return [{"group": g.group, "state": g.state} for g in listings]


# -- --describe ------------------------------------------------------------------------------


def _should_print(output: Output, desc: GroupDescription, rows: int) -> bool:
    """Kafka's shouldPrintMemberState: the state's message, and whether a table follows."""
    group, state = desc.group, desc.state
    if state == "Dead":
        output.error(f"Consumer group '{group}' does not exist.")
        return False
    if state == "Empty":
        output.err()
        output.err(f"Consumer group '{group}' has no active members.")
    elif state in REBALANCING:
        output.err()
        output.err(f"Warning: Consumer group '{group}' is rebalancing.")
    elif state != "Stable":
        output.error(
            "Executing consumer group command failed due to Expected a valid consumer group "
            f"state, but found '{state}'."
        )
        return False
    return rows > 0


def describe_offsets(groups: list[GroupOffsets]) -> Output:
    output = Output()
    totals: list[tuple[str, int | None]] = []
    for g in groups:
        if not _should_print(output, g.description, len(g.rows)):
            continue
        widths = [
            max([15, *(len(r.group) for r in g.rows)]),
            max([15, *(len(r.topic) for r in g.rows)]),
            10, 15, 15, 15,
            max([15, *(len(_cell(r.consumer_id)) for r in g.rows)]),
            max([15, *(len(_cell(r.host)) for r in g.rows)]),
        ]  # fmt: skip
        output.out()
        output.out(_fmt(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                         "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"], widths))  # fmt: skip
        for r in g.rows:
            output.out(_fmt([r.group, r.topic, r.partition, r.current_offset, r.log_end_offset,
                             r.lag, r.consumer_id, r.host, r.client_id], widths))  # fmt: skip
        totals.append((g.description.group, g.total_lag))
    if totals:  # kcli's extra, after Kafka's lines
        width = max([15, *(len(name) for name, _ in totals)])
        output.out()
        output.out(_fmt(["GROUP", "TOTAL-LAG"], [width]))
        for name, total in totals:
            output.out(_fmt([name, total], [width]))
    return output


def _assignment_text(member: Member) -> str:
    if not member.assignment:
        return MISSING
    by_topic: dict[str, list[int]] = {}
    for topic, partition in member.assignment:
        by_topic.setdefault(topic, []).append(partition)
    parts = [f"{t}({','.join(str(p) for p in sorted(ps))})" for t, ps in by_topic.items()]
    return ", ".join(sorted(parts))


def describe_members(groups: list[GroupDescription], verbose: bool) -> Output:
    output = Output()
    for desc in groups:
        members = desc.members
        if not _should_print(output, desc, len(members)):
            continue
        with_instance = any(m.group_instance_id for m in members)
        widths = [max([15, len(desc.group)]), max([15, *(len(m.consumer_id) for m in members)])]
        if with_instance:
            widths.append(max([17, *(len(m.group_instance_id or "") for m in members)]))
        widths += [
            max([15, *(len(m.host) for m in members)]),
            max([15, *(len(m.client_id) for m in members)]),
            15,
        ]
        head: list[object] = ["GROUP", "CONSUMER-ID"]
        head += ["GROUP-INSTANCE-ID"] if with_instance else []
        head += ["HOST", "CLIENT-ID", "#PARTITIONS"]
        output.out()
        # Kafka prints `%-15s ` after #PARTITIONS, then ASSIGNMENT only with --verbose.
        output.out(_fmt(head, widths) + " " + ("ASSIGNMENT" if verbose else ""))
        for m in members:
            row: list[object] = [desc.group, m.consumer_id]
            row += [m.group_instance_id or ""] if with_instance else []
            row += [m.host, m.client_id, len(m.assignment)]
            output.out(_fmt(row, widths) + " " + (_assignment_text(m) if verbose else ""))
    return output


def describe_state(groups: list[GroupDescription]) -> Output:
    output = Output()
    for desc in groups:
        if not _should_print(output, desc, 1):
            continue
        coordinator = desc.coordinator.text() if desc.coordinator else MISSING
        # Kafka sizes the first (GROUP) column from the coordinator text.
        widths = [max(25, len(coordinator)), 25, 20, 15]
        output.out()
        output.out(_fmt(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"],
                        widths))  # fmt: skip
        output.out(_fmt([desc.group, coordinator, desc.assignment_strategy, desc.state,
                         len(desc.members)], widths))  # fmt: skip
    return output


def _error_of(desc: GroupDescription) -> str | None:
    if desc.state == "Dead":
        return f"Consumer group '{desc.group}' does not exist."
    return None


def _coordinator_json(desc: GroupDescription) -> dict[str, Any] | None:
    c = desc.coordinator
    return None if c is None else {"id": c.id, "host": c.host, "port": c.port}


def offsets_json(groups: list[GroupOffsets]) -> list[dict[str, Any]]:
    return [
        {
            "group": g.description.group,
            "state": g.description.state,
            "error": _error_of(g.description),
            "coordinator": _coordinator_json(g.description),
            "total_lag": g.total_lag,
            "partitions": [
                {
                    "topic": r.topic,
                    "partition": r.partition,
                    "current_offset": r.current_offset,
                    "log_end_offset": r.log_end_offset,
                    "lag": r.lag,
                    "consumer_id": r.consumer_id,
                    "host": r.host,
                    "client_id": r.client_id,
                }
                for r in g.rows
            ],
        }
        for g in groups
    ]


def members_json(groups: list[GroupDescription]) -> list[dict[str, Any]]:
    return [
        {
            "group": d.group,
            "state": d.state,
            "error": _error_of(d),
            "members": [
                {
                    "consumer_id": m.consumer_id,
                    "group_instance_id": m.group_instance_id,
                    "host": m.host,
                    "client_id": m.client_id,
                    "partitions": len(m.assignment),
                    "assignment": [{"topic": t, "partition": p} for t, p in sorted(m.assignment)],
                }
                for m in d.members
            ],
        }
        for d in groups
    ]


def state_json(groups: list[GroupDescription]) -> list[dict[str, Any]]:
    return [
        {
            "group": d.group,
            "state": d.state,
            "error": _error_of(d),
            "coordinator": _coordinator_json(d),
            "assignment_strategy": d.assignment_strategy,
            "members": len(d.members),
        }
        for d in groups
    ]


# -- --reset-offsets, --delete, --delete-offsets ------------------------------------------------


def reset_messages(results: list[GroupReset], stamp: str, notices_to_stdout: bool) -> Output:
    """What Kafka says while planning: refusals, `Warn: ... is empty` notices (stdout), and
    clamping warnings in tools-log4j's layout (`[stamp] WARN msg (logger)`, stderr)."""
    output = Output()
    for r in results:
        if r.error:
            output.error(r.error)
        for notice in r.plan.notices:
            if notices_to_stdout:
                output.out()
                output.out(notice)
            else:
                output.err(notice)
        for warning in r.plan.warnings:
            output.err(f"[{stamp}] WARN {warning} (kafka.admin.ConsumerGroupCommand$)")
    return output


def reset_lines(results: list[GroupReset]) -> list[str]:
    """printOffsetsToReset: fixed widths; the header whenever any group was considered."""
    if not results:
        return []
    widths = [30, 30, 10, 15]
    lines = ["", _fmt(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], widths)]
    for r in results:
        for (topic, partition), offset in sorted(r.plan.offsets.items()):
            lines.append(_fmt([r.group, topic, partition, offset], widths))
    return lines


def reset_json(results: list[GroupReset]) -> list[dict[str, Any]]:
    return [
        {
            "group": r.group,
            "topic": topic,
            "partition": partition,
            "current_offset": r.committed.get((topic, partition)),
            "new_offset": offset,
        }
        for r in results
        for (topic, partition), offset in sorted(r.plan.offsets.items())
    ]


def delete_output(results: list[tuple[str, str | None]]) -> Output:
    output = Output()
    ok = [g for g, e in results if e is None]
    failed = [(g, e) for g, e in results if e is not None]
    quoted = ", ".join(f"'{g}'" for g in ok)
    if not failed:
        output.out(f"Deletion of requested consumer groups ({quoted}) was successful.")
        return output
    output.error("Deletion of some consumer groups failed:")
    for group, error in failed:
        output.err(f"* Group '{group}' could not be deleted due to: {error}")
    if ok:
        output.out()
        output.out(f"These consumer groups were deleted successfully: {quoted}")
    return output


def delete_json(results: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [{"group": g, "deleted": e is None, "error": e} for g, e in results]


def delete_offsets_output(group: str, topics: list[str], result: DeleteOffsetsResult) -> Output:
    output = Output()
    code = result.top_error
    if code == 0:
        output.out(
            f"Request succeed for deleting offsets with topic {', '.join(topics)} group {group}"
        )
    elif code == ErrorCode.invalid_group_id:
        output.error(f"'{group}' is not valid.")
    elif code == ErrorCode.group_id_not_found:
        output.error(f"'{group}' does not exist.")
    elif code == ErrorCode.group_authorization_failed:
        output.error(f"Access to '{group}' is not authorized.")
    elif code == ErrorCode.non_empty_group:
        output.error(
            f"Deleting offsets of a consumer group '{group}' is forbidden if the group "
            "is not empty."
        )
    elif code in (ErrorCode.group_subscribed_to_topic, ErrorCode.topic_authorization_failed,
                  ErrorCode.unknown_topic_or_partition):  # fmt: skip
        output.error("Encounter some partition level error, see the follow-up details:")
    else:
        output.error(f"Encounter some unknown error: {_error_name(code)}")
    if any(e is not None for _, _, e in result.partitions):
        output.failed = True
    widths = [30, 15, 15]
    output.out()
    output.out(_fmt(["TOPIC", "PARTITION", "STATUS"], widths))
    for topic, partition, error in sorted(result.partitions, key=lambda r: r[0] + str(r[1])):
        status = "Successful" if error is None else f"Error: {error}"
        output.out(_fmt([topic, partition if partition >= 0 else "Not Provided", status], widths))
    return output


def _error_name(code: int) -> str:
    try:
        return ErrorCode(code).name.upper()
    except ValueError:
        return str(code)


def delete_offsets_json(group: str, result: DeleteOffsetsResult) -> dict[str, Any]:
    return {
        "group": group,
        "error": _error_name(result.top_error) if result.top_error else None,
        "partitions": [
            {"topic": t, "partition": p if p >= 0 else None, "error": e}
            for t, p, e in sorted(result.partitions)
        ],
    }
