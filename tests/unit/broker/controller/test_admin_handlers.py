"""Admin handlers over an in-memory AdminZk (no sockets, no controller): request fields,
per-topic errors and the timeout rules."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kio.schema.create_topics.v7.request import (
    CreatableTopic,
    CreatableTopicConfig,
    CreateTopicsRequest,
)
from kio.schema.delete_topics.v6.request import DeleteTopicsRequest, DeleteTopicState
from kio.schema.incremental_alter_configs.v1.request import (
    AlterableConfig,
    AlterConfigsResource,
    IncrementalAlterConfigsRequest,
)

from kcli.broker.admin_manager import AdminManager
from kcli.broker.handlers import create_topics, delete_topics, incremental_alter_configs
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader
from tests.unit.broker.controller.test_admin_manager import MemoryAdminZk
from tests.unit.broker.helpers import make_context


def _ctx() -> tuple[Any, MemoryAdminZk]:
    ctx = make_context()
    zk = MemoryAdminZk()
    zk.topics["orders"] = ({0: (1, 2), 1: (2, 3)}, None, 0)  # the topic helpers.py caches
    broker = ctx.broker
    broker.admin = AdminManager(broker.config, broker.metadata, zk, broker.clock)
    return ctx, zk


def _header(key: int, version: int) -> RequestHeader:
    return RequestHeader(key, version, 1, "test", 2, 0)


def _topic(name: str, partitions: int = 1, rf: int = 1, **configs: str) -> CreatableTopic:
    return CreatableTopic(
        name=name, num_partitions=partitions, replication_factor=rf, assignments=(),
        configs=tuple(CreatableTopicConfig(name=k.replace("_", "."), value=v)
                      for k, v in configs.items()),
    )  # fmt: skip


def test_create_topics_with_zero_timeout_answers_at_once() -> None:
    ctx, zk = _ctx()
    request = CreateTopicsRequest(
        topics=(_topic("a", 2, 2, retention_ms="5"), _topic("b", 1, 5), _topic("a")),
        timeout=timedelta(0),
        validate_only=False,
    )
    response = asyncio.run(create_topics.handle(ctx, _header(19, 7), request))
    by_name = {t.name: t for t in response.topics}
    assert by_name["a"].error_code == ErrorCode.invalid_request  # named twice in the request
    assert by_name["b"].error_code == ErrorCode.invalid_replication_factor
    assert by_name["b"].error_message == "Replication factor: 5 larger than available brokers: 2."
    assert "a" not in zk.topics

    single = CreateTopicsRequest(topics=(_topic("a", 2, 2, retention_ms="5"),),
                                 timeout=timedelta(0), validate_only=False)  # fmt: skip
    created = asyncio.run(create_topics.handle(ctx, _header(19, 7), single)).topics[0]
    assert (created.error_code, created.num_partitions, created.replication_factor) == (
        ErrorCode.none, 2, 2,
    )  # fmt: skip
    assert {c.name: c.value for c in created.configs}["retention.ms"] == "5"
    assert zk.configs["a"] == {"retention.ms": "5"} and len(zk.topics["a"][0]) == 2


def test_create_topics_times_out_without_a_controller() -> None:
    ctx, zk = _ctx()
    request = CreateTopicsRequest(topics=(_topic("slow"),), timeout=timedelta(milliseconds=50),
                                  validate_only=False)  # fmt: skip
    result = asyncio.run(create_topics.handle(ctx, _header(19, 5), request)).topics[0]
    assert result.error_code == ErrorCode.request_timed_out  # written, but no leader appeared
    assert "slow" in zk.topics


def test_delete_topics_marks_known_and_refuses_unknown() -> None:
    ctx, zk = _ctx()
    request = DeleteTopicsRequest(
        topics=(DeleteTopicState(name="orders", topic_id=None),
                DeleteTopicState(name="nope", topic_id=None)),
        timeout=timedelta(0),
    )  # fmt: skip
    results = asyncio.run(delete_topics.handle(ctx, _header(20, 6), request)).responses
    assert [(r.name, r.error_code) for r in results] == [
        ("orders", ErrorCode.none), ("nope", ErrorCode.unknown_topic_or_partition),
    ]  # fmt: skip
    assert zk.deleting == {"orders"}


def test_incremental_alter_configs_writes_and_notifies() -> None:
    ctx, zk = _ctx()
    request = IncrementalAlterConfigsRequest(
        resources=(AlterConfigsResource(resource_type=2, resource_name="orders", configs=(
            AlterableConfig(name="cleanup.policy", config_operation=2, value="compact"),)),
            AlterConfigsResource(resource_type=4, resource_name="1", configs=(
            AlterableConfig(name="log.retention.hours", config_operation=0, value="1"),))),
        validate_only=False,
    )  # fmt: skip
    results = asyncio.run(incremental_alter_configs.handle(ctx, _header(44, 1), request))
    topic, broker = results.responses
    assert topic.error_code == ErrorCode.none
    assert zk.configs["orders"] == {"cleanup.policy": "delete,compact"}
    assert zk.notifications == ["topics/orders"]
    assert (broker.error_code, broker.error_message) == (
        ErrorCode.invalid_request,
        "Cannot update these configs dynamically: Set(log.retention.hours)",
    )
