"""OffsetDelete (API key 47, v0) sent straight to a group's coordinator.

confluent-kafka has no DeleteConsumerGroupOffsets binding, so --delete-offsets sends the one
request itself: kio encodes it, one blocking socket carries it (PLAINTEXT listeners only).

    request   int32 size | header v1: int16 api_key, int16 api_version, int32 correlation_id,
              int16+bytes client_id | body: group_id, [topic name, [int32 partition]]
    response  int32 size | int32 correlation_id | int16 error_code, int32 throttle_time_ms,
              [topic name, [int32 partition, int16 error_code]]
"""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Iterable

from kio.serial import entity_reader

from kcli.admin.groups_model import TP
from kcli.errors import TerseError
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.messages import encode_body, request_class, response_class

API_VERSION = 0
CLIENT_ID = b"kcli-consumer-groups"


def offset_delete_request(group: str, partitions: Iterable[TP], correlation_id: int) -> bytes:
    cls = request_class(ApiKey.OFFSET_DELETE, API_VERSION)
    assert cls is not None
    module = sys.modules[cls.__module__]
    by_topic: dict[str, list[int]] = {}
    for topic, partition in partitions:
        by_topic.setdefault(topic, []).append(partition)
    body = cls(
        group_id=group,
        topics=tuple(
            module.OffsetDeleteRequestTopic(
                name=topic,
                partitions=tuple(
                    module.OffsetDeleteRequestPartition(partition_index=p) for p in sorted(ps)
                ),
            )
            for topic, ps in by_topic.items()
        ),
    )
    head = struct.pack(">hhih", int(ApiKey.OFFSET_DELETE), API_VERSION, correlation_id,
                       len(CLIENT_ID)) + CLIENT_ID  # fmt: skip
    payload = head + encode_body(body)
    return struct.pack(">i", len(payload)) + payload


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the coordinator closed the connection")
        data += chunk
    return bytes(data)


def offset_delete(
    host: str, port: int, group: str, partitions: list[TP], timeout_s: float
) -> tuple[int, dict[TP, int]]:
    """(top-level error code, per-partition error codes) from the coordinator."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(offset_delete_request(group, partitions, 1))
            (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
            frame = _recv_exactly(sock, size)
    except OSError as exc:
        raise TerseError(f"cannot reach the group coordinator at {host}:{port}: {exc}") from None
    (correlation_id,) = struct.unpack_from(">i", frame)
    if correlation_id != 1:
        raise TerseError(f"the coordinator at {host}:{port} answered another request")
    cls = response_class(ApiKey.OFFSET_DELETE, API_VERSION)
    body, _ = entity_reader(cls)(frame, 4)
    errors = {
        (t.name, int(p.partition_index)): int(p.error_code)
        for t in body.topics
        for p in t.partitions
    }
    return int(body.error_code), errors
