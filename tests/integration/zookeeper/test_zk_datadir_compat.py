"""Data dirs move between kcli's server and Apache ZooKeeper (Debian's 3.8) both ways: the
snapshot and txn-log bytes are ZooKeeper's own, so each server rebuilds the other's tree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from kcli.testing.apache_zookeeper import ApacheZooKeeper, unavailable_reason
from kcli.testing.process import wait_until
from kcli.testing.zookeeper import EmbeddedZooKeeper
from kcli.zookeeper.codes import OpCode
from kcli.zookeeper.jute import OPEN_ACL_UNSAFE
from kcli.zookeeper.records import CreateRequest

from .rawzk import RawZk

pytestmark = [pytest.mark.integration, pytest.mark.compat]

Factory = Callable[..., KazooClient]
STAT_FIELDS = ("czxid", "mzxid", "pzxid", "version", "cversion", "aversion", "numChildren")


@pytest.fixture(autouse=True)
def _need_apache() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


def _write_history(client: KazooClient) -> None:
    client.create("/compat/a", b"alpha", makepath=True)
    for i in range(30):
        client.create("/compat/seq-", str(i).encode(), sequence=True)
    client.set("/compat/a", b"alpha2")
    client.delete("/compat/seq-0000000003")
    client.create("/compat/empty")
    tx = client.transaction()
    tx.create("/compat/t1", b"t")
    tx.set_data("/compat/a", b"alpha3")
    tx.commit()


def _tree(client: KazooClient, path: str = "/compat") -> dict[str, tuple[object, ...]]:
    data, stat = client.get(path)
    out = {path: (data, *(getattr(stat, f) for f in STAT_FIELDS))}
    for child in client.get_children(path):
        out.update(_tree(client, f"{path}/{child}"))
    return out


def test_apache_zookeeper_reads_a_kcli_data_dir(tmp_path: Path, kazoo_factory: Factory) -> None:
    kcli = EmbeddedZooKeeper(tmp_path / "kcli", properties={"snapCount": "20"})
    kcli.start()
    try:
        writer = kazoo_factory(kcli.connect_string)
        _write_history(writer)
        expected = _tree(writer)
        writer.stop()
    finally:
        assert kcli.stop() == 0
    assert list((kcli.data_dir / "version-2").glob("snapshot.*"))  # both file kinds in play
    apache = ApacheZooKeeper(tmp_path / "apache")
    shutil.copytree(kcli.data_dir, apache.data_dir)
    (apache.data_dir / ".lock").unlink(missing_ok=True)
    apache.start()
    try:
        assert _tree(kazoo_factory(apache.connect_string)) == expected
    finally:
        apache.stop()


def test_kcli_reads_an_apache_zookeeper_data_dir(tmp_path: Path, kazoo_factory: Factory) -> None:
    apache = ApacheZooKeeper(tmp_path / "apache")
    apache.start()
    try:
        writer = kazoo_factory(apache.connect_string)
        _write_history(writer)
        writer.create("/compat/eph", ephemeral=True)
        writer.stop()  # closes the session: the log deletes the ephemeral
        with RawZk("127.0.0.1", apache.port) as raw:  # kazoo cannot make containers
            raw.connect()
            box = CreateRequest("/compat/box", b"", list(OPEN_ACL_UNSAFE), 4)
            assert raw.call(OpCode.CREATE_CONTAINER, box).err == 0
        expected = _tree(kazoo_factory(apache.connect_string))
        assert "/compat/eph" not in expected
    finally:
        apache.stop()
    kcli = EmbeddedZooKeeper(
        tmp_path / "kcli", properties={"znode.container.checkIntervalMs": "100"}
    )
    shutil.copytree(apache.data_dir, kcli.data_dir)
    kcli.start()
    try:
        client = kazoo_factory(kcli.connect_string)
        assert _tree(client) == expected
        # and kcli continues the history: zxids carry on after Apache's last one
        last = max(v[2] for v in expected.values())
        client.create("/compat/after")
        assert client.exists("/compat/after").czxid > last
        # Apache's container is still a container: emptied, it goes away.
        client.create("/compat/box/item")
        client.delete("/compat/box/item")
        wait_until(lambda: client.exists("/compat/box") is None, 10, what="container removal")
    finally:
        kcli.stop()
