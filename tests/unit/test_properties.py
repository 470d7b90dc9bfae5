from __future__ import annotations

from pathlib import Path

import pytest

from kcli.errors import ConfigError
from kcli.properties import load_properties, parse_override, parse_properties


def test_kafka_style_file() -> None:
    text = (
        "# comment\n! also a comment\n\n"
        "dataDir=/tmp/zookeeper\nclientPort = 2181\nkey: value\nspaced value here\n"
        "long=one,\\\n    two\nescaped=a\\=b\\tc\n"
    )
    props = parse_properties(text)
    assert props == {
        "dataDir": "/tmp/zookeeper",
        "clientPort": "2181",
        "key": "value",
        "spaced": "value here",
        "long": "one,two",
        "escaped": "a=b\tc",
    }


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_properties(tmp_path / "nope.properties")


def test_binary_file_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "bin.properties"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not text"):
        load_properties(p)


def test_override() -> None:
    assert parse_override("broker.id=3") == ("broker.id", "3")
    with pytest.raises(ConfigError):
        parse_override("broker.id")
