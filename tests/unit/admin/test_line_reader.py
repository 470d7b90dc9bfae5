"""LineMessageReader cases from Kafka's LineMessageReaderTest (KIP-798)."""

from __future__ import annotations

import pytest

from kcli.admin.line_reader import LineMessageReader, LineParseError, Record
from kcli.errors import ConfigError


def reader(**props: str) -> LineMessageReader:
    return LineMessageReader.from_properties({k.replace("_", "."): v for k, v in props.items()})


def test_value_only_by_default() -> None:
    assert reader().read("key0\tvalue0", 1) == Record(None, b"key0\tvalue0")


def test_key_and_value() -> None:
    assert reader(parse_key="true").read("key0\tvalue0", 1) == Record(b"key0", b"value0")
    assert reader(parse_key="true").read("key\t", 1) == Record(b"key", b"")
    # only the first separator splits
    assert reader(parse_key="true").read("k\tv\tw", 1) == Record(b"k", b"v\tw")


def test_headers_key_and_value() -> None:
    r = reader(parse_key="true", parse_headers="true")
    got = r.read("headerKey0:headerValue0,headerKey1:headerValue1\tkey0\tvalue0", 1)
    assert got == Record(
        b"key0", b"value0", (("headerKey0", b"headerValue0"), ("headerKey1", b"headerValue1"))
    )
    assert r.read(":\t\t", 1) == Record(b"", b"", (("", b""),))


def test_headers_without_key() -> None:
    got = reader(parse_headers="true").read("h1:v1\tvalue", 1)
    assert got == Record(None, b"value", (("h1", b"v1"),))


def test_longer_demarcations() -> None:
    r = reader(
        parse_key="true",
        parse_headers="true",
        key_separator="\t\t",
        headers_delimiter="\t\t",
        headers_separator="---",
        headers_key_separator="::::",
    )
    got = r.read("headerKey0.0::::headerValue0.0---headerKey1.0::::\t\tkey\t\tvalue", 1)
    assert got == Record(
        b"key", b"value", (("headerKey0.0", b"headerValue0.0"), ("headerKey1.0", b""))
    )


@pytest.mark.parametrize(
    ("props", "line", "message"),
    [
        ({"parse_key": "true"}, "abc", "No key separator found on line number 3: 'abc'"),
        ({"parse_headers": "true"}, "abc", "No headers delimiter found on line number 3: 'abc'"),
        (
            {"parse_headers": "true"},
            "h1:v1,h2\tvalue",
            "No header key separator found in pair 'h2' on line number 3",
        ),
        (
            {"parse_headers": "true", "null_marker": "<NULL>"},
            "<NULL>:v0\tvalue",
            "Header keys should not be equal to the null marker '<NULL>' as they can't be null",
        ),
    ],
)
def test_errors(props: dict[str, str], line: str, message: str) -> None:
    with pytest.raises(LineParseError) as info:
        reader(**props).read(line, 3)
    assert info.value.message == message


def test_ignore_error() -> None:
    r = reader(parse_key="true", parse_headers="true", ignore_error="true")
    assert r.read("nothing", 1) == Record(None, b"nothing")
    assert r.read("h1\tk\tv", 1) == Record(b"k", b"v", (("h1", None),))


def test_null_marker() -> None:
    r = reader(parse_key="true", parse_headers="true", null_marker="<NULL>")
    got = r.read("h0:v0,h1:<NULL>\t<NULL>\tvalue", 1)
    assert got == Record(None, b"value", (("h0", b"v0"), ("h1", None)))
    assert r.read("<NULL>\tk\t<NULL>", 1) == Record(b"k", None, ())


def test_bad_configuration() -> None:
    with pytest.raises(ConfigError, match=r"headers\.delimiter and headers\.separator"):
        reader(parse_headers="true", headers_delimiter=",")
    with pytest.raises(ConfigError, match="Unknown --property"):
        reader(print_key="true")
