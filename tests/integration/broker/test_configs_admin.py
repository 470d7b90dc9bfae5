"""Topic configs end to end (bundled ZooKeeper): DescribeConfigs with Kafka's defaults and
sources, IncrementalAlterConfigs / AlterConfigs write `/config/topics/<t>` and a
`/config/changes` notification, and the partition's log picks the change up (a tiny
segment.bytes makes every batch roll a new segment). BROKER resources: described, not
alterable (INVALID_REQUEST)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import (
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
)
from kazoo.client import KazooClient

from kcli.testing.process import wait_until
from tests.integration.broker.conftest import BrokerFactory, start_any_zookeeper
from tests.integration.broker.test_topics_admin import admin, error_of

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    server = start_any_zookeeper(tmp_path_factory.mktemp("zk"))
    try:
        yield server
    finally:
        server.stop()


def describe(client: Any, resource: ConfigResource) -> dict[str, Any]:
    configs: dict[str, Any] = client.describe_configs([resource])[resource].result()
    return configs


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated:DeprecationWarning")
def test_describe_alter_and_the_log_follows(make_broker: BrokerFactory, kazoo: KazooClient) -> None:
    broker = make_broker(0, log_retention_hours="24", log_segment_bytes="1073741824")
    client = admin(broker)
    client.create_topics([NewTopic("cfg", 1, 1)], request_timeout=15)["cfg"].result()
    topic = ConfigResource("topic", "cfg")
    before = describe(client, topic)
    # Kafka's sources: log.segment.bytes set in server.properties makes segment.bytes a static
    # config; retention.ms follows log.retention.hours but is reported as a default.
    assert before["retention.ms"].value == "86400000"
    assert before["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert before["segment.bytes"].value == "1073741824"
    assert before["segment.bytes"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert before["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value

    changes = len(kazoo.get_children("/config/changes"))
    alter = ConfigResource("topic", "cfg", incremental_configs=[
        ConfigEntry("segment.bytes", "400", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
    ])  # fmt: skip
    client.incremental_alter_configs([alter])[alter].result()
    assert json.loads(kazoo.get("/config/topics/cfg")[0]) == {
        "version": 1, "config": {"segment.bytes": "400", "cleanup.policy": "delete,compact"},
    }  # fmt: skip
    notes = sorted(kazoo.get_children("/config/changes"))
    assert len(notes) == changes + 1 and len(notes[-1]) == len("config_change_") + 10
    assert kazoo.get(f"/config/changes/{notes[-1]}")[0] == (
        b'{"version":2,"entity_path":"topics/cfg"}'
    )
    after = describe(client, topic)
    assert after["segment.bytes"].value == "400"
    assert after["segment.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value

    # The broker's log applies the new segment.bytes: each ~300-byte batch starts a segment.
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    failures: list[object] = []

    def delivered(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(err)

    for i in range(3):
        producer.produce("cfg", b"v" * 220, key=str(i).encode(), partition=0,
                         on_delivery=delivered)  # fmt: skip
        assert producer.flush(15) == 0
    assert failures == []
    segments = lambda: sorted((broker.log_dir / "cfg-0").glob("*.log"))  # noqa: E731
    wait_until(lambda: len(segments()) >= 3, 10, what="segments rolled by segment.bytes=400")

    bad = ConfigResource("topic", "cfg", incremental_configs=[
        ConfigEntry("retention.ms", "1", incremental_operation=AlterConfigOpType.APPEND),
    ])  # fmt: skip
    err = error_of(client.incremental_alter_configs([bad])[bad])
    assert err.code() == KafkaError.INVALID_CONFIG
    assert err.str() == "Config value append is not allowed for config key: retention.ms"

    # AlterConfigs replaces the whole set of overrides.
    legacy = ConfigResource("topic", "cfg", set_config={"retention.ms": "3600000"})
    client.alter_configs([legacy])[legacy].result()
    assert json.loads(kazoo.get("/config/topics/cfg")[0])["config"] == {"retention.ms": "3600000"}
    assert describe(client, topic)["segment.bytes"].value == "1073741824"

    node = ConfigResource("broker", "0")
    configs = describe(client, node)
    assert configs["log.retention.hours"].value == "24"
    assert configs["log.retention.hours"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert configs["log.retention.hours"].is_read_only
    change = ConfigResource("broker", "0", set_config={"log.retention.hours": "1"})
    refused = error_of(client.alter_configs([change])[change])
    assert refused.code() == KafkaError.INVALID_REQUEST
    assert refused.str() == "Cannot update these configs dynamically: Set(log.retention.hours)"
