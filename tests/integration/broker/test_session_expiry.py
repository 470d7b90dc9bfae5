"""A broker whose ZooKeeper session expires registers again and re-runs the election.

The broker runs in-process here so the test can reach its session id and password, and expire
the session the way kazoo's own tests do: a second client joins the session and closes it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.broker.config import from_properties
from kcli.broker.server import KafkaServer
from kcli.testing.process import wait_until

pytestmark = pytest.mark.integration


async def _until(predicate: Callable[[], bool], seconds: float) -> None:
    """Poll ZooKeeper from a thread so the broker's loop keeps running meanwhile."""
    await asyncio.to_thread(wait_until, predicate, seconds)


def test_expired_session_registers_again(
    tmp_path: Path, zk_connect: str, kazoo: KazooClient
) -> None:
    config = from_properties(
        {
            "broker.id": "0",
            "zookeeper.connect": zk_connect,
            "listeners": "PLAINTEXT://127.0.0.1:0",
            "log.dirs": str(tmp_path / "logs"),
            "zookeeper.session.timeout.ms": "6000",
        }
    )

    async def main() -> None:
        server = KafkaServer(config)
        await server.startup()
        try:
            old_owner = kazoo.exists("/brokers/ids/0").ephemeralOwner
            hosts = zk_connect.partition("/")[0]
            session_id, password = server.zk._kazoo.client_id  # the test reaches in
            intruder = KazooClient(hosts=hosts, client_id=(session_id, password))
            await asyncio.to_thread(intruder.start, 15)
            await asyncio.to_thread(intruder.stop)  # closes the shared session
            intruder.close()

            def registered_again() -> bool:
                stat = kazoo.exists("/brokers/ids/0")
                return stat is not None and stat.ephemeralOwner != old_owner

            await _until(registered_again, 30)
            await _until(lambda: kazoo.exists("/controller") is not None, 10)
            assert json.loads(kazoo.get("/controller")[0])["brokerid"] == 0
            assert kazoo.get("/controller_epoch")[0] == b"2"
        finally:
            await server.shutdown()

    asyncio.run(main())
    assert kazoo.exists("/brokers/ids/0") is None
