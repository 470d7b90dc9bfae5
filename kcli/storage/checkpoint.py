"""Checkpoint files in Kafka's text formats, written atomically.

Offset checkpoints (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
`replication-offset-checkpoint`, one each per log dir):

    0                       version
    2                       number of entries
    my-topic 0 1234         topic, partition, offset (space separated)
    my-topic 1 99

Leader epoch checkpoint (`<topic>-<partition>/leader-epoch-checkpoint`):

    0                       version
    2                       number of entries
    3 0                     epoch, start offset
    5 120

`partition.metadata` (`<topic>-<partition>/`, Kafka 2.8+):

    version: 0
    topic_id: <topic id>

`meta.properties` (per log dir, Java properties):

    version=0
    broker.id=0
    cluster.id=...

Writes go to `<file>.tmp`, are fsynced, renamed over the file, and the directory is fsynced: a
crash leaves either the old or the new checkpoint, never a torn one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from kcli.properties import parse_properties
from kcli.storage.errors import CorruptCheckpointError, InconsistentBrokerMetadataError
from kcli.storage.files import META_PROPERTIES, PARTITION_METADATA, TMP_SUFFIX, TopicPartition

CHECKPOINT_VERSION = 0


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """tmp file, fsync, rename over `path`, fsync the directory."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _read_lines(path: Path, fields: int) -> list[list[str]]:
    """The entry lines of a checkpoint, each split into `fields` parts; [] if the file is absent
    or empty (Kafka creates checkpoint files empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    if not text.strip():
        return []
    lines = text.splitlines()
    if len(lines) < 2:
        raise CorruptCheckpointError(f"Malformed checkpoint file {path}: missing header")
    if lines[0].strip() != str(CHECKPOINT_VERSION):
        raise CorruptCheckpointError(
            f"Unrecognized version of the checkpoint file {path}: {lines[0]}"
        )
    try:
        count = int(lines[1])
    except ValueError:
        raise CorruptCheckpointError(
            f"Malformed line in checkpoint file {path}: {lines[1]}"
        ) from None
    entries = [line.split() for line in lines[2:] if line.strip()]
    if len(entries) != count:
        raise CorruptCheckpointError(
            f"Expected {count} entries in checkpoint file {path}, but found {len(entries)}"
        )
    for parts in entries:
        if len(parts) != fields:
            raise CorruptCheckpointError(
                f"Malformed line in checkpoint file {path}: {' '.join(parts)}"
            )
    return entries


def _format(lines: Iterable[str], count: int) -> str:
    return f"{CHECKPOINT_VERSION}\n{count}\n" + "".join(f"{line}\n" for line in lines)


class OffsetCheckpointFile:
    """A log dir's `topic partition offset` checkpoint (recovery points, log starts, HWs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, offsets: Mapping[TopicPartition, int]) -> None:
        items = sorted(offsets.items())
        write_atomically(
            self.path, _format((f"{tp.topic} {tp.partition} {o}" for tp, o in items), len(items))
        )

    def read(self) -> dict[TopicPartition, int]:
        """Entries of the file ({} when absent); CorruptCheckpointError if it does not parse."""
        out: dict[TopicPartition, int] = {}
        for topic, partition, offset in _read_lines(self.path, 3):
            try:
                out[TopicPartition(topic, int(partition))] = int(offset)
            except ValueError:
                raise CorruptCheckpointError(
                    f"Malformed line in checkpoint file {self.path}: {topic} {partition} {offset}"
                ) from None
        return out


class LeaderEpochCheckpointFile:
    """A partition's `leader-epoch-checkpoint`: (epoch, start offset) lines. Created empty when
    missing, as Kafka does, so a new partition directory lists it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            path.touch()

    def write(self, entries: Iterable[tuple[int, int]]) -> None:
        items = list(entries)
        write_atomically(self.path, _format((f"{e} {o}" for e, o in items), len(items)))

    def read(self) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for epoch, offset in _read_lines(self.path, 2):
            try:
                out.append((int(epoch), int(offset)))
            except ValueError:
                raise CorruptCheckpointError(
                    f"Malformed line in checkpoint file {self.path}: {epoch} {offset}"
                ) from None
        return out


def read_partition_metadata(partition_dir: Path) -> str | None:
    """The topic id stored in `partition.metadata` (`version: 0` / `topic_id: <id>`), if any."""
    try:
        text = (partition_dir / PARTITION_METADATA).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "topic_id" and value.strip():
            return value.strip()
    return None


def write_partition_metadata(partition_dir: Path, topic_id: str) -> None:
    """Kafka 2.8+'s `partition.metadata`: the partition's topic id (base64 UUID as Kafka
    prints it)."""
    write_atomically(partition_dir / PARTITION_METADATA, f"version: 0\ntopic_id: {topic_id}\n")


def read_meta_properties(log_dir: Path) -> dict[str, str]:
    """The dir's meta.properties as a dict ({} when absent)."""
    try:
        return parse_properties((log_dir / META_PROPERTIES).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_meta_properties(log_dir: Path, broker_id: int, cluster_id: str | None) -> None:
    """Write meta.properties (version 0, ZooKeeper mode) after checking it against the old one.

    Raises InconsistentBrokerMetadataError with Kafka's wording when the dir belongs to another
    broker or cluster.
    """
    old = read_meta_properties(log_dir)
    stored_id = old.get("broker.id")
    if stored_id is not None and stored_id != str(broker_id):
        raise InconsistentBrokerMetadataError(
            f"Configured broker.id {broker_id} doesn't match stored broker.id {stored_id} in "
            f"meta.properties of {log_dir}. If you moved your data, make sure your configured "
            "broker.id matches. If you intend to create a new broker, you should remove all "
            "data in your data directories (log.dirs)."
        )
    stored_cluster = old.get("cluster.id")
    if cluster_id is not None and stored_cluster is not None and stored_cluster != cluster_id:
        raise InconsistentBrokerMetadataError(
            f"The Cluster ID {cluster_id} doesn't match stored clusterId {stored_cluster} in "
            f"meta.properties of {log_dir}. The broker is trying to join the wrong cluster."
        )
    cluster = cluster_id if cluster_id is not None else stored_cluster
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    lines = ["#", f"#{stamp}", f"broker.id={broker_id}", "version=0"]
    if cluster is not None:
        lines.insert(2, f"cluster.id={cluster}")
    write_atomically(log_dir / META_PROPERTIES, "\n".join(lines) + "\n")
