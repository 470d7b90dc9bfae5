"""--reset-offsets planning, pure (ConsumerGroupCommand.prepareOffsetsToReset of Kafka 2.8-3.x).

The service looks up committed offsets and each partition's log start, log end and (for
--to-datetime/--by-duration) first offset at a timestamp; `plan_reset` then decides the new
offsets. --to-offset, --shift-by and --from-file are clamped to [log start, log end] with
Kafka's warnings; --to-current keeps a committed offset as it is (Kafka does not clamp it)
and uses the log end where there is none.

Reset plan CSV (--export, --from-file), one partition a line, no header:
    topic,partition,offset          one group (exactly one --group)
    group,topic,partition,offset    several groups
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from kcli.admin.groups_model import TP, tp_text
from kcli.errors import TerseError

FAILED = "Executing consumer group command failed due to "

# java.time.Duration.parse: PnDTnHnMnS with optional signs and fractional seconds.
_DURATION = re.compile(
    r"([-+]?)P(?:([-+]?\d+)D)?(T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?",
    re.IGNORECASE,
)
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{1,3})(Z|[+-]\d{2}(?::?\d{2})?)?"
)


class ResetError(TerseError):
    """A reset Kafka abandons with one message (exit 1)."""


def parse_duration_ms(text: str) -> int:
    """Milliseconds of an ISO-8601 duration as Java's Duration.parse reads it."""
    m = _DURATION.fullmatch(text.strip())
    if m is None or (m.group(3) is not None and not any(m.group(i) for i in (4, 5, 6))):
        raise ResetError(FAILED + "Text cannot be parsed to a Duration")
    if not any(m.group(i) for i in (2, 4, 5, 6)):
        raise ResetError(FAILED + "Text cannot be parsed to a Duration")
    days, hours, minutes, seconds = (int(m.group(i) or 0) for i in (2, 4, 5, 6))
    fraction = (m.group(7) or "").ljust(9, "0")[:9]
    nanos = int(fraction) * (-1 if (m.group(6) or "").startswith("-") else 1)
    total = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds,
                      microseconds=nanos / 1000)  # fmt: skip
    ms = int(total / timedelta(milliseconds=1))
    return -ms if m.group(1) == "-" else ms


def parse_datetime_ms(text: str) -> int:
    """Kafka's Utils.getDateTime: `yyyy-MM-dd'T'HH:mm:ss.SSS` with an optional zone (UTC if
    none), to epoch milliseconds."""
    parts = text.split("T")
    if len(parts) < 2:
        raise ResetError(
            FAILED + "Error parsing timestamp. It does not contain a 'T' according to ISO8601 "
            f"format: {text}"
        )
    if not any(c in parts[1] for c in "+-Z"):
        text += "Z"
    m = _DATETIME.fullmatch(text)
    if m is None:
        raise ResetError(FAILED + f'Unparseable date: "{text}"')
    zone = m.group(8) or "Z"
    offset = timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        offset = -offset if zone[0] == "-" else offset
    try:
        year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
        millis = int(m.group(7).ljust(3, "0"))
        moment = datetime(year, month, day, hour, minute, second, millis * 1000, timezone(offset))
    except ValueError:
        raise ResetError(FAILED + f'Unparseable date: "{text}"') from None
    return int(moment.timestamp() * 1000)


def parse_reset_plan(text: str, groups: list[str]) -> dict[str, dict[TP, int]]:
    """The CSV of --from-file. Three columns when exactly one --group is given and the first
    line reads as `topic,partition,offset`; four (`group,...`) otherwise."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    single = len(groups) == 1 and bool(rows) and _three_columns(rows[0])
    plan: dict[str, dict[TP, int]] = {}
    for number, row in enumerate(rows, 1):
        try:
            if single:
                group = groups[0]
                topic, partition, offset = row
            else:
                group, topic, partition, offset = row
            tp = (topic.strip(), int(partition))
            plan.setdefault(group, {})[tp] = int(offset)
        except ValueError:
            shape = "topic,partition,offset" if single else "group,topic,partition,offset"
            raise ResetError(
                FAILED + f"line {number} of the reset plan is not `{shape}`: {','.join(row)}"
            ) from None
    return plan


def _three_columns(row: list[str]) -> bool:
    if len(row) != 3:
        return False
    try:
        int(row[1]), int(row[2])
    except ValueError:
        return False
    return True


def export_csv(plans: Mapping[str, Mapping[TP, int]], single_group: bool) -> str:
    """--export: CSV rows (no header); Kafka adds a newline after the last row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for group, offsets in plans.items():
        for (topic, partition), offset in sorted(offsets.items()):
            prefix = [] if single_group else [group]
            writer.writerow([*prefix, topic, partition, offset])
    return buf.getvalue()


@dataclass(frozen=True)
class Scenario:
    """One --to-* option: `kind` is its name, `value` its offset, shift or timestamp (ms)."""

    kind: str
    value: int | None = None


@dataclass
class LogOffsets:
    """What the cluster said: log start, log end and first offset at/after a timestamp (-1 when
    no record is that recent); a partition missing from a map could not be looked up."""

    earliest: dict[TP, int] = field(default_factory=dict)
    latest: dict[TP, int] = field(default_factory=dict)
    by_time: dict[TP, int] = field(default_factory=dict)


@dataclass
class ResetPlan:
    offsets: dict[TP, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # Kafka logs these (log4j WARN, stderr)
    notices: list[str] = field(default_factory=list)  # Kafka prints these on stdout


def plan_reset(
    scenario: Scenario,
    partitions: list[TP],
    committed: Mapping[TP, int],
    logs: LogOffsets,
    from_file: Mapping[TP, int] | None = None,
) -> ResetPlan:
    """New offsets for one group's partitions under one scenario."""
    plan = ResetPlan()
    kind = scenario.kind
    if kind == "to-earliest":
        plan.offsets = {tp: _need(logs.earliest, tp, "starting") for tp in partitions}
    elif kind == "to-latest":
        plan.offsets = {tp: _need(logs.latest, tp, "ending") for tp in partitions}
    elif kind == "to-current":
        plan.offsets = {
            tp: committed[tp] if tp in committed else _need(logs.latest, tp, "ending")
            for tp in partitions
        }
    elif kind in ("to-datetime", "by-duration"):
        for tp in partitions:
            found = logs.by_time.get(tp)
            if found is None:
                raise ResetError(
                    f"Error getting offset by timestamp of topic partition: {tp_text(tp)}"
                )
            if found == -1:
                plan.notices.append(
                    f"Warn: Partition {tp[1]} from topic {tp[0]} is empty. "
                    "Falling back to latest known offset."
                )
                found = _need(logs.latest, tp, "ending")
            plan.offsets[tp] = found
    else:
        requested: dict[TP, int] = {}
        if kind == "to-offset":
            assert scenario.value is not None
            requested = dict.fromkeys(partitions, scenario.value)
        elif kind == "shift-by":
            assert scenario.value is not None
            for tp in partitions:
                if tp not in committed:
                    raise ResetError(
                        f"Cannot shift offset for partition {tp_text(tp)} since there is no "
                        "current committed offset"
                    )
                requested[tp] = committed[tp] + scenario.value
        elif kind == "from-file":
            requested = dict(from_file or {})
        else:
            raise ResetError(f"unknown reset scenario {kind}")
        plan.offsets = _clamp(requested, logs, plan.warnings)
    return plan


def _need(found: Mapping[TP, int], tp: TP, which: str) -> int:
    if tp not in found:
        raise ResetError(f"Error getting {which} offset of topic partition: {tp_text(tp)}")
    return found[tp]


def _clamp(requested: Mapping[TP, int], logs: LogOffsets, warnings: list[str]) -> dict[TP, int]:
    """Kafka's checkOffsetsRange."""
    result: dict[TP, int] = {}
    for tp, wanted in requested.items():
        end = logs.latest.get(tp)
        start = logs.earliest.get(tp)
        if end is None:
            raise ResetError(
                FAILED + f"Unexpected non-existing offset value for topic partition {tp_text(tp)}"
            )
        offset = wanted
        if wanted > end:
            warnings.append(
                f"New offset ({wanted}) is higher than latest offset for topic partition "
                f"{tp_text(tp)}. Value will be set to {end}"
            )
            offset = end
        elif start is not None and wanted < start:
            warnings.append(
                f"New offset ({wanted}) is lower than earliest offset for topic partition "
                f"{tp_text(tp)}. Value will be set to {start}"
            )
            offset = start
        result[tp] = offset
    return result
