"""The znode JSON `kcli topics --zookeeper` writes and reads (Kafka's ZkData formats)."""

from __future__ import annotations

import json
import uuid

from kcli.admin import kafka_znodes as zn


def test_topic_assignment_json_is_kafkas_v3() -> None:
    data = zn.TopicAssignment({1: [2, 0], 0: [1, 2]}, "AAECAwQFBgcICQoLDA0ODw").encode()
    assert data == (
        b'{"version":3,"partitions":{"0":[1,2],"1":[2,0]},"adding_replicas":{},'
        b'"removing_replicas":{},"topic_id":"AAECAwQFBgcICQoLDA0ODw"}'
    )
    back = zn.TopicAssignment.decode(data)
    assert back.partitions == {0: [1, 2], 1: [2, 0]}
    assert back.topic_id == "AAECAwQFBgcICQoLDA0ODw"


def test_older_topic_znodes_decode() -> None:
    v1 = zn.TopicAssignment.decode(b'{"version":1,"partitions":{"0":[0]}}')
    assert (v1.partitions, v1.topic_id, v1.adding) == ({0: [0]}, None, {})
    hyphenated = str(uuid.UUID(bytes=bytes(range(16))))
    v3 = zn.TopicAssignment.decode(
        json.dumps({"version": 3, "partitions": {}, "topic_id": hyphenated}).encode()
    )
    assert v3.topic_id == "AAECAwQFBgcICQoLDA0ODw"
    assert zn.normalize_topic_id("AAAAAAAAAAAAAAAAAAAAAA") is None  # Uuid.ZERO_UUID


def test_new_topic_ids_are_22_char_base64url() -> None:
    ids = {zn.new_topic_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 22 and "=" not in i and "/" not in i and "+" not in i for i in ids)


def test_partition_state_and_configs() -> None:
    state = zn.LeaderAndIsr.decode(
        b'{"controller_epoch":1,"leader":2,"version":1,"leader_epoch":3,"isr":[2,0]}'
    )
    assert state == zn.LeaderAndIsr(2, (2, 0), 3, 1)
    assert zn.encode_entity_config({"retention.ms": "1"}) == (
        b'{"version":1,"config":{"retention.ms":"1"}}'
    )
    assert zn.decode_entity_config(None) == {}
    assert zn.encode_config_change("topics/t") == b'{"version":2,"entity_path":"topics/t"}'
    assert zn.partition_state_path("t", 4) == "/brokers/topics/t/partitions/4/state"
