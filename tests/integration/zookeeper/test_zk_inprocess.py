"""The server in-process on a real socket: autopurge keeps snapCount-sized history bounded."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.config import ZooKeeperConfig
from kcli.zookeeper.jute import OPEN_ACL_UNSAFE, ConnectRequest, frame
from kcli.zookeeper.records import CreateRequest, encode_request
from kcli.zookeeper.server import ZooKeeperServer

pytestmark = pytest.mark.integration


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (length,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(length)


async def _create_nodes(port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(frame(ConnectRequest(0, 0, 10000, 0, b"\0" * 16, False).pack()))
    await _read_frame(reader)
    for i in range(count):
        req = CreateRequest(f"/p{i}", b"x", list(OPEN_ACL_UNSAFE), 0)
        writer.write(frame(encode_request(i + 1, OpCode.CREATE, req)))
        reply = await _read_frame(reader)
        assert struct.unpack_from(">iqi", reply)[2] == 0
    writer.close()


async def _scenario(data_dir: Path) -> None:
    config = ZooKeeperConfig.from_props(
        {
            "dataDir": str(data_dir),
            "clientPort": "0",
            "clientPortAddress": "127.0.0.1",
            "snapCount": "10",
            "autopurge.snapRetainCount": "3",
        }
    )
    server = ZooKeeperServer(config)
    server.load()
    await server.start()
    try:
        await _create_nodes(server.port, 120)
        for _ in range(200):
            if server.snapshots_taken >= 5:
                break
            await asyncio.sleep(0.02)
        versions = data_dir / "version-2"
        assert len(list(versions.glob("snapshot.*"))) >= 5
        await server.purge()
        snapshots = sorted(versions.glob("snapshot.*"))
        assert len(snapshots) == 3
        oldest_kept = int(snapshots[0].name.split(".")[1], 16)
        logs = [int(p.name.split(".")[1], 16) for p in versions.glob("log.*")]
        assert sum(1 for z in logs if z <= oldest_kept) == 1  # only the log the oldest needs
    finally:
        await server.stop()
    # what is left still rebuilds the whole tree
    again = ZooKeeperServer(config)
    again.load()
    assert all(f"/p{i}" in again.db.tree.nodes for i in range(120))
    await again.start()
    await again.stop()


def test_autopurge_keeps_retain_count_snapshots(tmp_path: Path) -> None:
    asyncio.run(_scenario(tmp_path / "data"))
