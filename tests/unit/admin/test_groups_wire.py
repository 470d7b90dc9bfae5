"""The OffsetDelete request --delete-offsets sends, read back by kcli's own request decoder."""

from __future__ import annotations

import struct

from kcli.admin.groups_wire import CLIENT_ID, offset_delete_request
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.messages import decode_request_body, decode_request_header


def test_offset_delete_request_round_trips() -> None:
    frame = offset_delete_request(
        "lab", [("orders", 2), ("orders", 0), ("audit", 1)], correlation_id=7
    )
    (size,) = struct.unpack_from(">i", frame)
    assert size == len(frame) - 4
    header = decode_request_header(frame[4:])
    assert (header.api_key, header.api_version, header.correlation_id) == (
        ApiKey.OFFSET_DELETE,
        0,
        7,
    )
    assert header.client_id == CLIENT_ID.decode()
    body = decode_request_body(header, frame[4:])
    assert body.group_id == "lab"
    assert [(t.name, [p.partition_index for p in t.partitions]) for t in body.topics] == [
        ("orders", [0, 2]),
        ("audit", [1]),
    ]
