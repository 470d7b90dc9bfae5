"""`kcli zookeeper-start` / `zookeeper-stop` as a user runs them, and the four-letter words."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.testing.process import ManagedProcess, free_port, kcli_argv, port_open, wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper, four_letter_word

pytestmark = pytest.mark.integration


def _kcli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kcli_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def _props(path: Path, **values: object) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def _one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    return lines[0]


def test_four_letter_words(zk_server: EmbeddedZooKeeper, kazoo: KazooClient) -> None:
    kazoo.create("/fourlw", b"abc")
    assert zk_server.four_letter_word("ruok") == "imok"
    srvr = zk_server.four_letter_word("srvr")
    assert srvr.startswith("Zookeeper version: 3.8.0")
    for line in ("Mode: standalone", "Outstanding: 0", "Latency min/avg/max: "):
        assert line in srvr
    assert "Node count: " in srvr and "Zxid: 0x" in srvr
    stat = zk_server.four_letter_word("stat")
    assert "Clients:\n /127.0.0.1:" in stat and "(queued=" in stat
    mntr = dict(line.split("\t", 1) for line in zk_server.four_letter_word("mntr").splitlines())
    assert mntr["zk_server_state"] == "standalone"
    assert int(mntr["zk_znode_count"]) >= 6 and int(mntr["zk_num_alive_connections"]) >= 2
    conf = dict(line.split("=", 1) for line in zk_server.four_letter_word("conf").splitlines())
    assert conf["clientPort"] == str(zk_server.port)
    assert conf["dataDir"] == str(zk_server.data_dir / "version-2")
    assert (conf["tickTime"], conf["minSessionTimeout"], conf["maxSessionTimeout"]) == (
        "2000",
        "4000",
        "40000",
    )
    assert zk_server.four_letter_word("dump") == (
        "dump is not executed because it is not in the whitelist.\n"
    )
    assert kazoo.get("/fourlw")[0] == b"abc"  # the words did not disturb the clients


def test_bad_properties_give_one_line(tmp_path: Path) -> None:
    line = _one_error_line(_kcli("zookeeper-start", str(tmp_path / "nope.properties")))
    assert line == f"Error: properties file not found: {tmp_path / 'nope.properties'}"
    bad = _props(tmp_path / "bad.properties", dataDir=tmp_path, tickTime="fast")
    assert _one_error_line(_kcli("zookeeper-start", str(bad))) == (
        "Error: tickTime must be an integer, got 'fast'"
    )
    swapped = _props(
        tmp_path / "s.properties", dataDir=tmp_path, minSessionTimeout=9000, maxSessionTimeout=10
    )
    assert "minSessionTimeout (9000) must not be larger" in _one_error_line(
        _kcli("zookeeper-start", str(swapped))
    )
    no_dir = _props(tmp_path / "n.properties", clientPort=free_port())
    assert _one_error_line(_kcli("zookeeper-start", str(no_dir))) == "Error: dataDir is not set"


def test_taken_port_and_unusable_data_dir(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        props = _props(
            tmp_path / "z.properties",
            dataDir=tmp_path / "d",
            clientPort=port,
            clientPortAddress="127.0.0.1",
        )
        assert _one_error_line(_kcli("zookeeper-start", str(props))) == (
            f"Error: port {port} on 127.0.0.1 is already in use"
        )
    (tmp_path / "a-file").write_text("not a directory")
    props = _props(
        tmp_path / "f.properties", dataDir=tmp_path / "a-file" / "zk", clientPort=free_port()
    )
    line = _one_error_line(_kcli("zookeeper-start", str(props)))
    assert line.startswith(f"Error: cannot write ZooKeeper data dir {tmp_path / 'a-file' / 'zk'}")


def test_data_dir_in_use_and_unknown_keys(own_zk_server: EmbeddedZooKeeper) -> None:
    zk = own_zk_server
    zk.properties["no.such.key"] = "1"
    zk.start()
    assert zk.log().count("Ignoring unknown ZooKeeper properties: no.such.key") == 1
    second = _props(zk.workdir / "second.properties", dataDir=zk.data_dir, clientPort=free_port())
    line = _one_error_line(_kcli("zookeeper-start", str(second)))
    assert "is in use by another server" in line


def test_default_properties_file_is_announced(tmp_path: Path) -> None:
    port = free_port()
    proc = ManagedProcess(
        kcli_argv(
            "zookeeper-start",
            f"--override=dataDir={tmp_path / 'data'}",
            f"--override=clientPort={port}",
            "--override=clientPortAddress=127.0.0.1",
        ),
        tmp_path / "out.log",
        env={"KCLI_RUN_DIR": str(tmp_path / "run")},
    ).start()
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 20, what="the server")
        assert four_letter_word("127.0.0.1", port, "ruok") == "imok"
        log = proc.log()
        assert "using the packaged default" in log and "zookeeper.properties" in log
        assert f"binding to port /127.0.0.1:{port}" in log
    finally:
        assert proc.stop() == 0


def test_daemon_start_and_stop(tmp_path: Path, kazoo_factory: Callable[..., KazooClient]) -> None:
    port = free_port()
    env = {"KCLI_RUN_DIR": str(tmp_path / "run"), "LOG_DIR": str(tmp_path / "logs")}
    props = _props(
        tmp_path / "zookeeper.properties",
        dataDir=tmp_path / "data",
        clientPort=port,
        clientPortAddress="127.0.0.1",
    )
    res = _kcli("zookeeper-start", "-daemon", str(props), env=env)
    pid_file = tmp_path / "run" / f"zookeeper-{port}.pid"
    pid = int(pid_file.read_text()) if pid_file.exists() else 0
    try:
        assert res.returncode == 0, res.stderr
        assert f"(pid {pid})" in res.stdout
        kazoo_factory(f"127.0.0.1:{port}").create("/daemon", b"up")
        assert "binding to port" in (tmp_path / "logs" / "zookeeper.out").read_text()
        stop = _kcli("zookeeper-stop", str(props), env=env)
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.strip() == f"Stopped ZooKeeper (pid {pid})"
        assert not port_open("127.0.0.1", port) and not pid_file.exists()
        again = _kcli("zookeeper-stop", env=env)
        assert _one_error_line(again) == "Error: No zookeeper server to stop"
    finally:
        if pid and Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_help_has_examples() -> None:
    for cmd in ("zookeeper-start", "zookeeper-stop"):
        res = _kcli(cmd, "--help")
        assert res.returncode == 0 and "Examples:" in res.stdout and f"kcli {cmd}" in res.stdout


def test_whitelist_and_diagnostic_words(
    own_zk_server: EmbeddedZooKeeper, kazoo_factory: Callable[..., KazooClient]
) -> None:
    zk = own_zk_server
    zk.properties["4lw.commands.whitelist"] = "*"
    zk.start()
    c = kazoo_factory(zk.connect_string)
    sid = f"0x{c.client_id[0]:x}"
    c.create("/diag/eph", ephemeral=True, makepath=True)
    c.get("/diag", watch=lambda event: None)
    c.get_children("/diag", watch=lambda event: None)
    cons = zk.four_letter_word("cons")
    assert f",sid={sid},lop=" in cons and ",to=10000," in cons
    assert zk.four_letter_word("wchs") == "1 connections watching 1 paths\nTotal watches:1\n"
    assert zk.four_letter_word("wchc") == f"{sid}\n\t/diag\n\n"
    assert zk.four_letter_word("wchp") == f"/diag\n\t{sid}\n\n"
    dump = zk.four_letter_word("dump")
    assert "SessionTracker dump:" in dump and f"{sid}:\n\t/diag/eph" in dump
    assert zk.four_letter_word("envi").startswith("Environment:\nzookeeper.version=3.8.0")
    assert zk.four_letter_word("dirs").startswith("datadir_size: ")
    assert zk.four_letter_word("srst") == "Server stats reset.\n"
    assert zk.four_letter_word("crst") == "Connection stats reset.\n"
    assert "Received: 0" in zk.four_letter_word("srvr")


def test_whitelist_limits_the_words(own_zk_server: EmbeddedZooKeeper) -> None:
    zk = own_zk_server
    zk.properties["4lw.commands.whitelist"] = "srvr, mntr"
    zk.start()  # readiness uses ruok, refused but answered
    assert zk.four_letter_word("srvr").startswith("Zookeeper version:")
    assert (
        zk.four_letter_word("stat") == "stat is not executed because it is not in the whitelist.\n"
    )
    assert zk.four_letter_word("cons").startswith("cons is not executed")
