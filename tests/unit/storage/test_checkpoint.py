"""Checkpoint files, leader epoch cache and meta.properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from kcli.storage.checkpoint import (
    LeaderEpochCheckpointFile,
    OffsetCheckpointFile,
    read_meta_properties,
    write_meta_properties,
)
from kcli.storage.epoch import LeaderEpochFileCache
from kcli.storage.errors import CorruptCheckpointError, InconsistentBrokerMetadataError
from kcli.storage.files import (
    TopicPartition,
    delete_dir_name,
    is_delete_dir_name,
    parse_partition_dir_name,
    parse_segment_file_name,
)


def test_offset_checkpoint_round_trip_and_format(tmp_path: Path) -> None:
    f = OffsetCheckpointFile(tmp_path / "recovery-point-offset-checkpoint")
    assert f.read() == {}
    offsets = {TopicPartition("my-topic", 0): 1234, TopicPartition("a.b-c", 12): 0}
    f.write(offsets)
    assert f.read() == offsets
    assert f.path.read_text() == "0\n2\na.b-c 12 0\nmy-topic 0 1234\n"
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    "text", ["1\n0\n", "0\n2\nt 0 1\n", "0\nx\n", "0\n1\nt zero 1\n", "0\n1\nt 0\n", "0\n"]
)
def test_malformed_checkpoints(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cp"
    path.write_text(text)
    with pytest.raises(CorruptCheckpointError):
        OffsetCheckpointFile(path).read()


def test_leader_epoch_checkpoint_and_cache(tmp_path: Path) -> None:
    path = tmp_path / "leader-epoch-checkpoint"
    cache = LeaderEpochFileCache(path)
    assert cache.latest_epoch is None
    cache.assign(0, 0)
    cache.assign(0, 5)  # same epoch, later offset: no change
    cache.assign(2, 10)
    cache.assign(4, 30)
    assert path.read_text() == "0\n3\n0 0\n2 10\n4 30\n"
    assert LeaderEpochCheckpointFile(path).read() == [(0, 0), (2, 10), (4, 30)]
    assert cache.end_offset_for(4, 55) == (4, 55)
    assert cache.end_offset_for(2, 55) == (2, 30)
    assert cache.end_offset_for(3, 55) == (2, 30)  # unknown epoch between: floor's epoch
    assert cache.end_offset_for(5, 55) == (-1, -1)
    assert cache.end_offset_for(-1, 55) == (-1, -1)
    assert cache.epoch_for_offset(9) == 0 and cache.epoch_for_offset(10) == 2
    cache.truncate_from_end(30)
    assert cache.entries() == [(0, 0), (2, 10)]
    cache.truncate_from_start(12)
    assert cache.entries() == [(2, 12)]
    cache.assign(3, 20)
    cache.assign(1, 15)  # a lower epoch at a lower offset replaces the conflicting entries
    assert cache.entries() == [(1, 15)]
    assert LeaderEpochFileCache(path).entries() == [(1, 15)]
    path.write_text("garbage")
    assert LeaderEpochFileCache(path).entries() == []  # corrupt: warned about, not fatal


def test_partition_metadata_and_empty_epoch_file(tmp_path: Path) -> None:
    from kcli.storage.log import Log

    log = Log.open(tmp_path / "t-0")
    assert (tmp_path / "t-0" / "leader-epoch-checkpoint").read_bytes() == b""  # as Kafka
    assert log.topic_id is None
    log.set_topic_id("pUx8XDQfS9mLRNW2AD3-Xg")
    assert (tmp_path / "t-0" / "partition.metadata").read_text() == (
        "version: 0\ntopic_id: pUx8XDQfS9mLRNW2AD3-Xg\n"
    )
    log.close()
    assert Log.open(tmp_path / "t-0").topic_id == "pUx8XDQfS9mLRNW2AD3-Xg"


def test_meta_properties(tmp_path: Path) -> None:
    assert read_meta_properties(tmp_path) == {}
    write_meta_properties(tmp_path, 1, "abcCLUSTER")
    props = read_meta_properties(tmp_path)
    assert props == {"version": "0", "broker.id": "1", "cluster.id": "abcCLUSTER"}
    write_meta_properties(tmp_path, 1, None)  # keeps the stored cluster id
    assert read_meta_properties(tmp_path)["cluster.id"] == "abcCLUSTER"
    with pytest.raises(InconsistentBrokerMetadataError, match=r"broker\.id 2 doesn't match"):
        write_meta_properties(tmp_path, 2, "abcCLUSTER")
    with pytest.raises(InconsistentBrokerMetadataError, match="Cluster ID other"):
        write_meta_properties(tmp_path, 1, "other")


def test_file_names() -> None:
    assert parse_segment_file_name("00000000000000000042.log") == (42, ".log", "")
    assert parse_segment_file_name("00000000000000000042.timeindex.swap") == (
        42,
        ".timeindex",
        ".swap",
    )
    assert parse_segment_file_name("42.log") is None
    assert parse_partition_dir_name("my-topic-3") == TopicPartition("my-topic", 3)
    assert parse_partition_dir_name("__consumer_offsets-49") == TopicPartition(
        "__consumer_offsets", 49
    )
    name = delete_dir_name(TopicPartition("t-x", 2))
    assert name.startswith("t-x-2.") and name.endswith("-delete") and is_delete_dir_name(name)
    assert parse_partition_dir_name(name) is None
    assert parse_partition_dir_name("t-0.abc-future") is None
