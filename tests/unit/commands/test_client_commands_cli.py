"""topics / console-producer / console-consumer usage errors and help (no cluster needed)."""

from __future__ import annotations

import pytest

from kcli.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.mark.parametrize("name", ["topics", "console-producer", "console-consumer"])
def test_help_has_a_worked_example(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = run(capsys, name, "--help")
    assert code == 0
    assert "Examples:" in out
    assert f"kcli {name} --bootstrap-server localhost:9092" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bootstrap-server", "x:1"], "Command must include exactly one action: --list, "
         "--describe, --create, --alter or --delete"),
        (["--list", "--describe", "--bootstrap-server", "x:1"], "Command must include exactly "
         "one action: --list, --describe, --create, --alter or --delete"),
        (["--list"], "Only one of --bootstrap-server or --zookeeper must be specified"),
        (["--delete", "--bootstrap-server", "x:1"], 'Missing required argument "[topic]"'),
    ],
)  # fmt: skip
def test_topics_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "topics", *args)
    assert code == 1
    assert out == ""
    assert err == f"Error: {message}\n"


def test_console_consumer_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "console-consumer", "--bootstrap-server", "x:1", "--offset", "3",
                       "--topic", "t")  # fmt: skip
    assert code == 1
    assert err == "Error: The partition is required when offset is specified.\n"


def test_console_consumer_needs_a_bootstrap_server(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "console-consumer", "--topic", "t")
    assert code == 1
    assert err == 'Error: Missing required argument "[bootstrap-server]"\n'


def test_console_producer_bad_property(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "console-producer", "--broker-list", "x:1", "--topic", "t",
                       "--property", "parse.key")  # fmt: skip
    assert code == 1
    assert err == "Error: Invalid --property 'parse.key': expected key=value\n"
