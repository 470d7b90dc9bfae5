"""A broker context for handler tests: real registry and metadata cache, no sockets."""

from __future__ import annotations

import struct
import uuid

from kcli.broker.config import from_properties
from kcli.broker.handlers import load_registry
from kcli.broker.handlers.base import BrokerContext, RequestContext
from kcli.broker.metadata_cache import (
    BrokerEndpoint,
    BrokerInfo,
    MetadataCache,
    PartitionState,
    TopicInfo,
)
from kcli.clock import MockClock

TOPIC_ID = uuid.UUID("a53122ae-7b02-4089-a44e-81fcc3a8de9a")


def make_context() -> RequestContext:
    cache = MetadataCache()
    cache.cluster_id = "m_NbGYH1QiO2oo24l3wE-g"
    cache.set_controller(1)
    for broker_id in (1, 2):
        cache.set_broker(
            BrokerInfo(broker_id, (BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9090 + broker_id),))
        )
    cache.set_topic(TopicInfo("orders", TOPIC_ID, {0: (1, 2), 1: (2, 3)}))
    cache.set_partition_state("orders", 0, PartitionState(1, 4, (1, 2), 1))
    cache.set_partition_state("orders", 1, PartitionState(3, 0, (3,), 1))  # leader 3 is down
    config = from_properties({"zookeeper.connect": "127.0.0.1:2181", "broker.id": "1"})
    broker = BrokerContext(config, 1, cache, load_registry(), MockClock())
    return RequestContext(broker, "PLAINTEXT", "127.0.0.1", 50000)


def request_frame(key: int, version: int, corr: int, body: bytes, flexible: bool) -> bytes:
    head = struct.pack(">hhih", key, version, corr, 4) + b"test"
    return head + (b"\x00" if flexible else b"") + body
