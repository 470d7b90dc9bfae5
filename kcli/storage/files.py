"""File and directory names of a Kafka log dir, in one place.

    <log.dir>/
      meta.properties                      version=0, broker.id=N, cluster.id=... (checkpoint.py)
      recovery-point-offset-checkpoint     `0`, count, `topic partition offset` lines
      log-start-offset-checkpoint          same format
      replication-offset-checkpoint        same format (high watermarks, written by the broker)
      .kafka_cleanshutdown                 present only between a clean close and the next load
      .lock                                flock()ed while a LogManager owns the dir
      <topic>-<partition>/
        00000000000000000000.log           record batches exactly as received (magic v2)
        00000000000000000000.index         offset index (index.py)
        00000000000000000000.timeindex     time index (index.py)
        leader-epoch-checkpoint            `0`, count, `epoch startOffset` lines (epoch.py)
        partition.metadata                 `version: 0`, `topic_id: <id>` (checkpoint.py)
      <topic>-<partition>.<uuid hex>-delete/   a deleted partition awaiting removal

A segment file name is its base offset as 20 zero-padded digits plus a suffix. Transient suffixes
appended to a whole segment file name (`<base>.log.deleted`, `<base>.index.cleaned`, ...):

- `.deleted`  the segment was removed from the log (retention, truncation, replacement) and waits
              for physical removal (`file.delete.delay.ms`); on load they are simply removed.
- `.cleaned`  written by the log cleaner (kcli/storage/cleaner.py) for a replacement segment that
              is not yet committed; on load they are removed (the cleaning is redone later).
- `.swap`     the cleaner renamed its `.cleaned` files to `.swap`: the replacement is committed.
              On load the old segments covered by the swap segment's offsets are deleted and the
              swap files lose their suffix (`.index.swap` / `.timeindex.swap` are dropped and the
              indexes rebuilt, as Kafka does).

The cleaner's crash-safe sequence is `Log.replace_segments` (log.py): `.cleaned` -> `.swap`, old
segments -> `.deleted`, `.swap` -> live name.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import NamedTuple

LOG_SUFFIX = ".log"
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"
SEGMENT_SUFFIXES = (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)

DELETED_SUFFIX = ".deleted"
CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"
TMP_SUFFIX = ".tmp"

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
LOCK_FILE = ".lock"
META_PROPERTIES = "meta.properties"
RECOVERY_POINT_CHECKPOINT = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint"
LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"
PARTITION_METADATA = "partition.metadata"

DELETE_DIR_SUFFIX = "-delete"

_SEGMENT_NAME = re.compile(
    r"^(\d{20})(\.log|\.index|\.timeindex)((?:\.deleted|\.cleaned|\.swap)?)$"
)
_DELETE_DIR = re.compile(r"^(.+)-(\d+)\.([0-9a-f]{32})-delete$")


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def dir_name(self) -> str:
        return f"{self.topic}-{self.partition}"

    def __str__(self) -> str:
        return self.dir_name()


def filename_prefix(offset: int) -> str:
    """A base offset as Kafka writes it in file names: 20 digits, zero-padded."""
    return f"{offset:020d}"


def segment_file(directory: Path, base_offset: int, kind: str, suffix: str = "") -> Path:
    """`<dir>/<20-digit base offset><kind><suffix>`, kind one of SEGMENT_SUFFIXES."""
    return directory / f"{filename_prefix(base_offset)}{kind}{suffix}"


class SegmentFileName(NamedTuple):
    base_offset: int
    kind: str  # .log, .index or .timeindex
    suffix: str  # "", .deleted, .cleaned or .swap


def parse_segment_file_name(name: str) -> SegmentFileName | None:
    """Split a segment file name into its parts; None for anything else."""
    m = _SEGMENT_NAME.match(name)
    if m is None:
        return None
    return SegmentFileName(int(m.group(1)), m.group(2), m.group(3))


def parse_partition_dir_name(name: str) -> TopicPartition | None:
    """`<topic>-<partition>` -> TopicPartition; None for delete/future/stray dirs and others."""
    if "." in name.rsplit("-", 1)[-1]:
        return None
    topic, sep, partition = name.rpartition("-")
    if not sep or not topic or not partition.isdigit():
        return None
    return TopicPartition(topic, int(partition))


def delete_dir_name(tp: TopicPartition) -> str:
    """Kafka's name for a partition dir pending deletion: `<topic>-<p>.<uuid hex>-delete`."""
    return f"{tp.topic}-{tp.partition}.{uuid.uuid4().hex}{DELETE_DIR_SUFFIX}"


def is_delete_dir_name(name: str) -> bool:
    return _DELETE_DIR.match(name) is not None
