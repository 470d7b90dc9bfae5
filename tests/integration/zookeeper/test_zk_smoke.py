"""The bundled ZooKeeper starts fast, answers ruok and serves kazoo."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from kcli.testing.zookeeper import EmbeddedZooKeeper

pytestmark = pytest.mark.integration


def test_ruok_and_crud(zk_server: EmbeddedZooKeeper, kazoo: KazooClient) -> None:
    assert zk_server.four_letter_word("ruok") == "imok"
    kazoo.create("/smoke", b"v1")
    data, stat = kazoo.get("/smoke")
    assert (data, stat.version) == (b"v1", 0)
    assert "zookeeper" in kazoo.get_children("/")
