"""--reset-offsets planning without a cluster: every scenario, clamping with Kafka's warnings,
--by-duration/--to-datetime parsing and the reset plan CSV."""

from __future__ import annotations

import pytest

from kcli.admin.groups_reset import (
    LogOffsets,
    ResetError,
    Scenario,
    export_csv,
    parse_datetime_ms,
    parse_duration_ms,
    parse_reset_plan,
    plan_reset,
)

T0, T1, T2 = ("t", 0), ("t", 1), ("t", 2)
# Partition 0 holds offsets 10..100, partition 1 0..50, partition 2 is empty at 7.
LOGS = LogOffsets(earliest={T0: 10, T1: 0, T2: 7}, latest={T0: 100, T1: 50, T2: 7})
COMMITTED = {T0: 40, T1: 45}


def plan(kind: str, value: int | None = None, logs: LogOffsets = LOGS, **kw: object) -> object:
    return plan_reset(Scenario(kind, value), [T0, T1, T2], COMMITTED, logs, **kw)  # type: ignore[arg-type]


def test_to_earliest_and_to_latest() -> None:
    assert plan_reset(Scenario("to-earliest"), [T0, T1], {}, LOGS).offsets == {T0: 10, T1: 0}
    assert plan_reset(Scenario("to-latest"), [T0, T1], {}, LOGS).offsets == {T0: 100, T1: 50}


def test_to_earliest_needs_the_log_start() -> None:
    with pytest.raises(ResetError, match="Error getting starting offset of topic partition: t-9"):
        plan_reset(Scenario("to-earliest"), [("t", 9)], {}, LOGS)


def test_to_current_keeps_commits_and_uses_the_log_end_elsewhere() -> None:
    result = plan_reset(Scenario("to-current"), [T0, T1, T2], {T0: 3, T1: 45}, LOGS)
    # Kafka does not clamp --to-current: offset 3 below the log start stays.
    assert result.offsets == {T0: 3, T1: 45, T2: 7}
    assert result.warnings == []


def test_to_offset_is_clamped_with_kafkas_warnings() -> None:
    result = plan_reset(Scenario("to-offset", 60), [T0, T1], {}, LOGS)
    assert result.offsets == {T0: 60, T1: 50}
    assert result.warnings == [
        "New offset (60) is higher than latest offset for topic partition t-1. "
        "Value will be set to 50"
    ]
    low = plan_reset(Scenario("to-offset", 5), [T0, T1], {}, LOGS)
    assert low.offsets == {T0: 10, T1: 5}
    assert low.warnings == [
        "New offset (5) is lower than earliest offset for topic partition t-0. "
        "Value will be set to 10"
    ]


def test_shift_by_moves_the_commit_and_clamps() -> None:
    result = plan_reset(Scenario("shift-by", 10), [T0, T1], COMMITTED, LOGS)
    assert result.offsets == {T0: 50, T1: 50}
    assert len(result.warnings) == 1
    back = plan_reset(Scenario("shift-by", -35), [T0, T1], COMMITTED, LOGS)
    assert back.offsets == {T0: 10, T1: 10}


def test_shift_by_without_a_commit_fails_as_kafka() -> None:
    with pytest.raises(ResetError) as info:
        plan_reset(Scenario("shift-by", 1), [T0, T2], COMMITTED, LOGS)
    assert info.value.message == (
        "Cannot shift offset for partition t-2 since there is no current committed offset"
    )


def test_by_timestamp_falls_back_to_the_log_end_with_kafkas_notice() -> None:
    logs = LogOffsets(LOGS.earliest, LOGS.latest, by_time={T0: 42, T1: -1})
    result = plan_reset(Scenario("to-datetime", 1_000), [T0, T1], {}, logs)
    assert result.offsets == {T0: 42, T1: 50}
    assert result.notices == [
        "Warn: Partition 1 from topic t is empty. Falling back to latest known offset."
    ]
    with pytest.raises(
        ResetError, match="Error getting offset by timestamp of topic partition: t-2"
    ):
        plan_reset(Scenario("by-duration", 1_000), [T2], {}, logs)


def test_from_file_is_clamped() -> None:
    result = plan_reset(Scenario("from-file"), [], {}, LOGS, from_file={T0: 1_000, T1: 20})
    assert result.offsets == {T0: 100, T1: 20}
    assert result.warnings[0].startswith("New offset (1000) is higher than latest offset")


def test_clamping_needs_the_log_end() -> None:
    with pytest.raises(
        ResetError, match="Unexpected non-existing offset value for topic partition t-5"
    ):
        plan_reset(Scenario("to-offset", 1), [("t", 5)], {}, LOGS)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("PT1H", 3_600_000),
        ("P1DT2H3M4.5S", ((24 + 2) * 3600 + 3 * 60 + 4) * 1000 + 500),
        ("pt15m", 900_000),
        ("P2D", 172_800_000),
        ("PT-30S", -30_000),
        ("-PT1M", -60_000),
        ("PT0.001S", 1),
    ],
)
def test_durations_as_java_reads_them(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["1H", "PT", "P", "PT1X", "P1H", "", "PT1H30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ResetError) as info:
        parse_duration_ms(text)
    assert info.value.message == (
        "Executing consumer group command failed due to Text cannot be parsed to a Duration"
    )


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2024-05-01T09:00:00.000", 1_714_554_000_000),
        ("2024-05-01T09:00:00.250Z", 1_714_554_000_250),
        ("2024-05-01T11:00:00.000+02:00", 1_714_554_000_000),
        ("2024-05-01T06:00:00.000-0300", 1_714_554_000_000),
        ("2024-05-01T10:00:00.000+01", 1_714_554_000_000),
    ],
)
def test_datetimes_as_kafka_reads_them(text: str, ms: int) -> None:
    assert parse_datetime_ms(text) == ms


def test_bad_datetimes() -> None:
    with pytest.raises(ResetError) as info:
        parse_datetime_ms("2024-05-01 09:00:00.000")
    assert "It does not contain a 'T' according to ISO8601 format" in info.value.message
    with pytest.raises(ResetError) as info:
        parse_datetime_ms("2024-05-01T09:00:00")
    assert info.value.message.endswith('Unparseable date: "2024-05-01T09:00:00Z"')
    with pytest.raises(ResetError):
        parse_datetime_ms("2024-13-01T09:00:00.000")


def test_reset_plan_csv_single_group() -> None:
    plan = parse_reset_plan("t,0,5\nt,1,7\n\n", ["g"])
    assert plan == {"g": {T0: 5, T1: 7}}


def test_reset_plan_csv_with_groups() -> None:
    text = "g1,t,0,5\ng2,t,1,7\r\n"
    assert parse_reset_plan(text, ["g1", "g2"]) == {"g1": {T0: 5}, "g2": {T1: 7}}
    # One --group but a four-column file: read as group,topic,partition,offset.
    assert parse_reset_plan(text, ["g1"]) == {"g1": {T0: 5}, "g2": {T1: 7}}


def test_reset_plan_csv_refuses_bad_lines() -> None:
    with pytest.raises(
        ResetError, match="line 2 of the reset plan is not `topic,partition,offset`"
    ):
        parse_reset_plan("t,0,5\nt,x,7\n", ["g"])
    with pytest.raises(ResetError, match="group,topic,partition,offset"):
        parse_reset_plan("t,0\n", ["g1", "g2"])


def test_export_round_trips() -> None:
    plans = {"g": {T1: 7, T0: 5}}
    assert export_csv(plans, single_group=True) == "t,0,5\nt,1,7\n"
    assert export_csv(plans, single_group=False) == "g,t,0,5\ng,t,1,7\n"
    assert parse_reset_plan(export_csv(plans, True), ["g"]) == {"g": {T0: 5, T1: 7}}
