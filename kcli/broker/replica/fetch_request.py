"""The follower's FetchRequest v12 body, encoded by hand: it goes out once per replication round
trip, and kio's generic writer took a fifth of a follower's busy time (measured with py-spy at
400 acks=all records/s). A unit test checks it byte for byte against kio's encoding.

FetchRequest v12 (flexible: compact lengths are uvarint(n + 1), each struct ends with a tagged
field section, here always empty):

    replica_id int32, max_wait_ms int32, min_bytes int32, max_bytes int32,
    isolation_level int8, session_id int32, session_epoch int32,
    topics [topic compact string, partitions [partition int32, current_leader_epoch int32,
            fetch_offset int64, last_fetched_epoch int32, log_start_offset int64,
            partition_max_bytes int32, tags], tags],
    forgotten_topics_data [] (empty), rack_id compact string, tags (cluster_id, tag 0, left out)
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

VERSION = 12

_TOP = struct.Struct(">iiiibii")
_PART = struct.Struct(">iiqiqi")


@dataclass(frozen=True, slots=True)
class FetchPartitionRequest:
    partition: int
    current_leader_epoch: int
    fetch_offset: int
    log_start_offset: int
    partition_max_bytes: int
    last_fetched_epoch: int = -1


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_fetch_request(  # noqa: PLR0917 - the request's own top-level fields, in wire order
    replica_id: int,
    max_wait_ms: int,
    min_bytes: int,
    max_bytes: int,
    topics: Sequence[tuple[str, Sequence[FetchPartitionRequest]]],
    rack_id: str = "",
) -> bytes:
    """A full (sessionless: session id 0, epoch -1) read_uncommitted fetch."""
    out = bytearray(_TOP.pack(replica_id, max_wait_ms, min_bytes, max_bytes, 0, 0, -1))
    out += _uvarint(len(topics) + 1)
    for topic, partitions in topics:
        name = topic.encode()
        out += _uvarint(len(name) + 1)
        out += name
        out += _uvarint(len(partitions) + 1)
        for p in partitions:
            out += _PART.pack(
                p.partition,
                p.current_leader_epoch,
                p.fetch_offset,
                p.last_fetched_epoch,
                p.log_start_offset,
                p.partition_max_bytes,
            )
            out += b"\x00"
        out += b"\x00"
    out += b"\x01"  # forgotten_topics_data: empty
    rack = rack_id.encode()
    out += _uvarint(len(rack) + 1)
    out += rack
    out += b"\x00"
    return bytes(out)
