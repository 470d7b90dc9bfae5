"""DefaultMessageFormatter output (Kafka 2.7+, KIP-431) and the JSON record form."""

from __future__ import annotations

from kcli.admin.message_formatter import (
    CREATE_TIME,
    LOG_APPEND_TIME,
    NO_TIMESTAMP,
    ConsumedRecord,
    DefaultMessageFormatter,
    record_json,
)

REC = ConsumedRecord("lab", 0, 3, CREATE_TIME, 1700000000000, b"k1", b"hello")


def fmt(record: ConsumedRecord = REC, **props: str) -> bytes:
    formatter = DefaultMessageFormatter.from_properties(
        {k.replace("_", "."): v for k, v in props.items()}
    )
    return formatter.format(record)


def test_value_only_by_default() -> None:
    assert fmt() == b"hello\n"


def test_reference_example() -> None:
    got = fmt(print_timestamp="true", print_partition="true", print_offset="true", print_key="true")
    assert got == b"CreateTime:1700000000000\tPartition:0\tOffset:3\tk1\thello\n"


def test_all_fields_and_separators() -> None:
    rec = ConsumedRecord("t", 2, 7, LOG_APPEND_TIME, 5, None, b"v", (("a", b"1"), ("b", None)))
    got = fmt(
        rec,
        print_timestamp="true",
        print_partition="true",
        print_offset="true",
        print_headers="true",
        print_key="true",
        key_separator=" | ",
        line_separator="\r\n",
        headers_separator=";",
        null_literal="<nil>",
    )
    assert got == b"LogAppendTime:5 | Partition:2 | Offset:7 | a:1;b:<nil> | <nil> | v\r\n"


def test_no_headers_and_no_timestamp() -> None:
    rec = ConsumedRecord("t", 0, 0, NO_TIMESTAMP, -1, b"k", None)
    assert (
        fmt(rec, print_timestamp="true", print_headers="true")
        == b"NO_TIMESTAMP\tNO_HEADERS\tnull\n"
    )


def test_without_value_the_last_field_ends_the_line() -> None:
    assert fmt(print_key="true", print_value="false") == b"k1\n"
    assert fmt(print_value="false") == b""


def test_json_record() -> None:
    rec = ConsumedRecord("t", 1, 2, CREATE_TIME, 9, b"\xff", b"v", (("h", b"x"),))
    assert record_json(rec) == {
        "topic": "t",
        "partition": 1,
        "offset": 2,
        "timestamp_type": "CreateTime",
        "timestamp": 9,
        "key": "/w==",
        "key_encoding": "base64",
        "value": "v",
        "value_encoding": "utf-8",
        "headers": [{"key": "h", "value": "x", "encoding": "utf-8"}],
    }
