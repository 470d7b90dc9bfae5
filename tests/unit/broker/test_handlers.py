from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.describe_cluster.v1.request import DescribeClusterRequest
from kio.schema.metadata.v0.request import MetadataRequest as MetadataRequestV0
from kio.schema.metadata.v0.request import MetadataRequestTopic as TopicV0
from kio.schema.metadata.v12.request import MetadataRequest, MetadataRequestTopic
from kio.serial import entity_reader

from kcli.broker.handlers import api_versions, describe_cluster, metadata
from kcli.broker.handlers.base import RawResponse
from kcli.broker.metadata_cache import ZERO_UUID
from kcli.protocol.api_keys import ADVERTISED_RANGES
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, response_class
from tests.unit.broker.helpers import TOPIC_ID, make_context


def _header(key: int, version: int) -> RequestHeader:
    return RequestHeader(key, version, 1, "test", 2, 0)


def _run(handler: Any, key: int, version: int, request: Any) -> Any:
    response = asyncio.run(handler.handle(make_context(), _header(key, version), request))
    if isinstance(response, RawResponse):  # pre-encoded (Metadata): decode it back with kio
        (body,) = response.parts
        response, _ = entity_reader(response_class(key, version))(bytes(body), 0)
    return response


def test_metadata_responses_are_cached_until_the_cluster_changes() -> None:
    ctx = make_context()
    request = MetadataRequest(
        topics=None, allow_auto_topic_creation=True, include_topic_authorized_operations=False
    )
    first = asyncio.run(metadata.handle(ctx, _header(3, 12), request))
    again = asyncio.run(metadata.handle(ctx, _header(3, 12), request))
    assert first.parts[0] is again.parts[0]
    ctx.broker.metadata.set_controller(2)
    changed = asyncio.run(metadata.handle(ctx, _header(3, 12), request))
    assert changed.parts[0] != first.parts[0]


def test_registry_ranges_stay_inside_the_advertised_table() -> None:
    registry = make_context().broker.handlers
    assert {3, 18, 60} <= set(registry)
    for key, handler in registry.items():
        assert (handler.min_version, handler.max_version) == ADVERTISED_RANGES[key], key


def test_api_versions_lists_the_registry() -> None:
    request = ApiVersionsRequest(client_software_name="kcli", client_software_version="0.1.0")
    response = _run(api_versions, 18, 3, request)
    assert response.error_code == ErrorCode.none
    listed = [(a.api_key, a.min_version, a.max_version) for a in response.api_keys]
    registry = make_context().broker.handlers
    assert listed == [(k, h.min_version, h.max_version) for k, h in sorted(registry.items())]
    assert {(3, 0, 12), (18, 0, 4), (60, 0, 1)} <= set(listed)


def test_api_versions_rejects_bad_client_software_name() -> None:
    request = ApiVersionsRequest(client_software_name="-bad name", client_software_version="1")
    assert _run(api_versions, 18, 3, request).error_code == ErrorCode.invalid_request


def test_metadata_all_topics_v12() -> None:
    request = MetadataRequest(
        topics=None, allow_auto_topic_creation=True, include_topic_authorized_operations=False
    )
    response = _run(metadata, 3, 12, request)
    assert response.cluster_id == "m_NbGYH1QiO2oo24l3wE-g"
    assert response.controller_id == 1
    assert [(b.node_id, b.host, b.port) for b in response.brokers] == [
        (1, "127.0.0.1", 9091),
        (2, "127.0.0.1", 9092),
    ]
    (topic,) = response.topics
    assert (topic.name, topic.topic_id, topic.error_code) == ("orders", TOPIC_ID, ErrorCode.none)
    p0, p1 = topic.partitions
    assert (p0.leader_id, p0.leader_epoch, p0.replica_nodes, p0.isr_nodes) == (1, 4, (1, 2), (1, 2))
    assert p0.error_code == ErrorCode.none
    assert (p1.error_code, p1.leader_id, p1.offline_replicas) == (
        ErrorCode.leader_not_available,
        -1,
        (3,),
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("missing", ErrorCode.unknown_topic_or_partition),
        ("bad/name", ErrorCode.invalid_topic_exception),
    ],
)
def test_metadata_unknown_and_invalid_topics(name: str, code: ErrorCode) -> None:
    request = MetadataRequest(
        topics=(MetadataRequestTopic(topic_id=None, name=name),),
        allow_auto_topic_creation=True,
        include_topic_authorized_operations=False,
    )
    (topic,) = _run(metadata, 3, 12, request).topics
    assert (topic.name, topic.error_code, topic.partitions) == (name, code, ())
    assert topic.topic_id in (None, ZERO_UUID)  # the zero UUID decodes as None


def test_metadata_by_topic_id() -> None:
    request = MetadataRequest(
        topics=(MetadataRequestTopic(topic_id=TOPIC_ID, name=None),),
        allow_auto_topic_creation=False,
        include_topic_authorized_operations=False,
    )
    (topic,) = _run(metadata, 3, 12, request).topics
    assert topic.name == "orders"


def test_metadata_v0_empty_list_means_all_topics() -> None:
    response = _run(metadata, 3, 0, MetadataRequestV0(topics=()))
    assert [t.name for t in response.topics] == ["orders"]
    response = _run(metadata, 3, 0, MetadataRequestV0(topics=(TopicV0(name="orders"),)))
    assert len(response.topics) == 1


def test_describe_cluster() -> None:
    request = DescribeClusterRequest(include_cluster_authorized_operations=False, endpoint_type=1)
    response = _run(describe_cluster, 60, 1, request)
    assert response.error_code == ErrorCode.none
    assert (response.cluster_id, response.controller_id) == ("m_NbGYH1QiO2oo24l3wE-g", 1)
    assert [b.broker_id for b in response.brokers] == [1, 2]


def test_unsupported_api_versions_answer_is_v0_with_the_full_list() -> None:
    from kcli.protocol.messages import encode_body

    ctx = make_context()
    body = encode_body(api_versions.unsupported_version_response(ctx))
    error, count = struct.unpack_from(">hi", body)
    assert (error, count) == (35, len(ctx.broker.handlers))
    assert struct.unpack_from(">hhh", body, 6) == (0, 0, 9)  # Produce, the lowest key
