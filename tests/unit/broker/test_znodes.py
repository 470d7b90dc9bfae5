from __future__ import annotations

import json
import uuid

from kcli.broker.controller.znodes import (
    PERSISTENT_PATHS,
    BrokerIdZNode,
    BrokerRegistration,
    ClusterIdZNode,
    ControllerZNode,
    TopicAssignment,
    TopicPartitionStateZNode,
    TopicZNode,
)
from kcli.broker.metadata_cache import BrokerEndpoint, PartitionState


def test_broker_registration_is_kafkas_v5_json() -> None:
    reg = BrokerRegistration(
        1, (("PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092),), None, 1795291539986
    )
    assert BrokerIdZNode.encode(reg) == (
        b'{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},'
        b'"endpoints":["PLAINTEXT://127.0.0.1:9092"],"jmx_port":-1,"port":9092,'
        b'"host":"127.0.0.1","version":5,"timestamp":"1795291539986"}'
    )
    info = BrokerIdZNode.decode(1, BrokerIdZNode.encode(reg))
    assert info.endpoints == (BrokerEndpoint("PLAINTEXT", "127.0.0.1", 9092),)
    racked = BrokerRegistration(2, reg.endpoints, "r1", 1)
    assert json.loads(BrokerIdZNode.encode(racked))["rack"] == "r1"


def test_old_broker_registration_reads() -> None:
    info = BrokerIdZNode.decode(3, b'{"version":1,"host":"h","port":9000,"jmx_port":-1}')
    assert info.endpoints == (BrokerEndpoint("PLAINTEXT", "h", 9000),)


def test_controller_and_cluster_id() -> None:
    assert ControllerZNode.encode(0, 12) == b'{"version":1,"brokerid":0,"timestamp":"12"}'
    assert (
        ControllerZNode.decode(
            b'{"version":2,"brokerid":3,"timestamp":"1","kraftControllerEpoch":-1}'
        )
        == 3
    )
    assert ClusterIdZNode.encode("abc") == b'{"version":"1","id":"abc"}'
    new_id = ClusterIdZNode.new_id()
    assert len(new_id) == 22 and "=" not in new_id


def test_partition_state_json() -> None:
    state = PartitionState(leader=1, leader_epoch=0, isr=(1, 2, 3), controller_epoch=1)
    data = TopicPartitionStateZNode.encode(state)
    assert data == b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2,3]}'
    assert TopicPartitionStateZNode.decode(data, zk_version=4) == PartitionState(
        1, 0, (1, 2, 3), 1, 4
    )


def test_topic_assignment_all_versions() -> None:
    topic_id = uuid.uuid4()
    data = TopicZNode.encode(TopicAssignment({1: (2, 3), 0: (1, 2)}, topic_id))
    obj = json.loads(data)
    assert list(obj) == [
        "version",
        "partitions",
        "adding_replicas",
        "removing_replicas",
        "topic_id",
    ]
    assert obj["partitions"] == {"0": [1, 2], "1": [2, 3]}
    assert TopicZNode.decode(data).topic_id == topic_id
    v1 = TopicZNode.decode(b'{"version":1,"partitions":{"0":[0]}}')
    assert (v1.partitions, v1.topic_id) == ({0: (0,)}, None)
    dashed = TopicZNode.decode(
        b'{"version":3,"partitions":{},"topic_id":"%s"}' % str(topic_id).encode()
    )
    assert dashed.topic_id == topic_id


def test_persistent_paths_are_kafkas() -> None:
    assert set(PERSISTENT_PATHS) == {
        "/consumers", "/brokers/ids", "/brokers/topics", "/config/changes",
        "/admin/delete_topics", "/brokers/seqid", "/isr_change_notification",
        "/latest_producer_id_block", "/log_dir_event_notification", "/config/topics",
        "/config/clients", "/config/users", "/config/brokers", "/config/ips",
    }  # fmt: skip
