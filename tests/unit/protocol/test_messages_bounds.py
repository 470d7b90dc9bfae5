"""Garbage lengths never reach kio's native reader (which would abort the process)."""

from __future__ import annotations

import contextlib
import struct
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kio.schema.create_topics.v2 import request as ct2
from kio.schema.create_topics.v7 import request as ct7
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic

from kcli.protocol.errors import InvalidRequest
from kcli.protocol.messages import RequestHeader, decode_request_body, encode_body

HEADER = RequestHeader(3, 12, 1, None, 2, 0)


def test_huge_compact_array_count_is_refused() -> None:
    # Metadata v12: topics = compact array claiming 2^32 - 2 items.
    body = b"\xff\xff\xff\xff\x0f" + b"\x00" * 20
    with pytest.raises(InvalidRequest, match="array of"):
        decode_request_body(HEADER, body)


def test_huge_int32_array_count_is_refused() -> None:
    body = struct.pack(">i", 2**31 - 1) + b"\x00" * 20  # Metadata v4 topics
    with pytest.raises(InvalidRequest):
        decode_request_body(RequestHeader(3, 4, 1, None, 1, 0), body)


def test_string_longer_than_the_frame_is_refused() -> None:
    body = b"\x02" + b"\x00" * 16 + b"\xff\x7f" + b"ab"  # one topic, name of 16382 bytes
    with pytest.raises(InvalidRequest):
        decode_request_body(HEADER, body)


CREATE_V7 = ct7.CreateTopicsRequest(
    topics=(
        ct7.CreatableTopic(
            name="a",
            num_partitions=3,
            replication_factor=1,
            assignments=(ct7.CreatableReplicaAssignment(partition_index=0, broker_ids=(1, 2)),),
            configs=(ct7.CreatableTopicConfig(name="x", value=None),),
        ),
    ),
    timeout=timedelta(seconds=1),
    validate_only=False,
)
CREATE_V2 = ct2.CreateTopicsRequest(
    topics=(
        ct2.CreatableTopic(
            name="a",
            num_partitions=3,
            replication_factor=1,
            assignments=(ct2.CreatableReplicaAssignment(partition_index=0, broker_ids=(1, 2)),),
            configs=(ct2.CreatableTopicConfig(name="x", value="y"),),
        ),
    ),
    timeout=timedelta(seconds=1),
    validate_only=False,
)
METADATA = MetadataRequest(
    topics=(MetadataRequestTopic(topic_id=None, name="t"),),
    allow_auto_topic_creation=True,
    include_topic_authorized_operations=False,
)
SAMPLES = [(19, 7, CREATE_V7), (19, 2, CREATE_V2), (3, 12, METADATA)]


@pytest.mark.parametrize(("key", "version", "request_"), SAMPLES)
def test_valid_bodies_pass_the_check(key: int, version: int, request_: object) -> None:
    header = RequestHeader(key, version, 1, None, 2 if version >= 5 else 1, 0)
    assert decode_request_body(header, encode_body(request_)) == request_


@settings(max_examples=300, deadline=None)
@given(
    sample=st.sampled_from(SAMPLES),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3),
)
def test_mutated_bodies_decode_or_raise_invalid_request(
    sample: tuple[int, int, object], edits: list[tuple[int, int]]
) -> None:
    key, version, request = sample
    body = bytearray(encode_body(request))
    for pos, value in edits:
        body[pos % len(body)] = value
    header = RequestHeader(key, version, 1, None, 2, 0)
    with contextlib.suppress(InvalidRequest):
        decode_request_body(header, bytes(body))
