"""Session ids, passwords and the tick-based expirer; ZooKeeperConfig parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcli.errors import ConfigError
from kcli.zookeeper.config import ZooKeeperConfig
from kcli.zookeeper.sessions import SessionTracker, first_session_id, session_password


def test_password_is_zookeepers() -> None:
    # Observed from Apache ZooKeeper 3.8 (Debian package) for this session id.
    assert session_password(0x1000005253D0001).hex() == "ac70824c52d70d2e9475d3111f39d740"
    assert len(session_password(-5)) == 16


def test_session_ids_carry_server_id_and_time() -> None:
    sid = first_session_id(1, 1_000_000)
    assert sid >> 56 == 1 and sid & 0xFFFFFFFFFF != 0
    tracker = SessionTracker(2000, now_ms=1_000_000)
    a, b = tracker.next_session_id(), tracker.next_session_id()
    assert b == a + 1


def test_expiry_in_tick_buckets() -> None:
    tracker = SessionTracker(tick_time=100, now_ms=0)
    tracker.add(1, 400, now_ms=0)  # due at roundUp(400) = 500
    tracker.add(2, 400, now_ms=0)
    assert tracker.due(450) == []
    assert tracker.touch(2, now_ms=350)  # pushed to roundUp(750) = 800
    assert tracker.due(500) == [1]
    assert not tracker.touch(1, now_ms=510)  # closing sessions cannot be revived
    tracker.remove(1)
    assert tracker.due(700) == []
    assert tracker.due(800) == [2]
    assert tracker.due(5000) == []


def test_readded_session_gets_fresh_timeout() -> None:
    tracker = SessionTracker(tick_time=100, now_ms=10_000)
    tracker.add(9, 2000, now_ms=10_000)
    assert tracker.sessions[9].expire_time == 12_100
    assert tracker.due(12_000) == []
    assert tracker.due(12_100) == [9]


def test_config_defaults_and_timeouts() -> None:
    cfg = ZooKeeperConfig.from_props({"dataDir": "/tmp/z", "tickTime": "500"})
    assert (cfg.client_port, cfg.min_session_timeout, cfg.max_session_timeout) == (
        2181,
        1000,
        10000,
    )
    assert cfg.data_log_dir == Path("/tmp/z") and cfg.snap_count == 100000
    assert cfg.negotiate_timeout(10) == 1000 and cfg.negotiate_timeout(99999) == 10000
    assert cfg.negotiate_timeout(3000) == 3000
    # ZooKeeper clamps a retain count below 3 instead of refusing it.
    low = ZooKeeperConfig.from_props({"dataDir": "/z", "autopurge.snapRetainCount": "1"})
    assert low.snap_retain_count == 3


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "dataDir is not set"),
        ({"dataDir": "/z", "clientPort": "x"}, "clientPort must be an integer, got 'x'"),
        ({"dataDir": "/z", "clientPort": "70000"}, "clientPort must be a TCP port"),
        ({"dataDir": "/z", "tickTime": "0"}, "tickTime must be at least 1, got 0"),
        ({"dataDir": "/z", "maxClientCnxns": "-1"}, "maxClientCnxns must be at least 0"),
    ],
)
def test_bad_values_are_refused(props: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ZooKeeperConfig.from_props(props)


def test_unknown_keys_are_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    ZooKeeperConfig.from_props({"dataDir": "/z", "foo": "1", "bar": "2", "initLimit": "5"})
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["Ignoring unknown ZooKeeper properties: bar, foo"]
