"""The hand-written inter-broker messages: Kafka's byte layout, kio round trips, bad input."""

from __future__ import annotations

import pytest

from kcli.protocol import inter_broker as ib
from kcli.protocol.errors import ErrorCode, InvalidRequest
from kcli.protocol.messages import encode_body, is_flexible, request_header_version


def _leader_and_isr() -> ib.LeaderAndIsrRequest:
    state = ib.LeaderAndIsrPartitionState(
        partition_index=0, controller_epoch=2, leader=1, leader_epoch=3, isr=(1, 2),
        zk_version=4, replicas=(1, 2), is_new=True,
    )  # fmt: skip
    return ib.LeaderAndIsrRequest(
        controller_id=1,
        controller_epoch=2,
        broker_epoch=5,
        topic_states=(ib.LeaderAndIsrTopicState(topic_name="t", partition_states=(state,)),),
        live_leaders=(ib.LeaderAndIsrLiveLeader(broker_id=1, host_name="h", port=9),),
    )


def test_leader_and_isr_v4_bytes() -> None:
    data = encode_body(_leader_and_isr())
    expected = bytes.fromhex(
        "00000001" "00000002" "0000000000000005"  # controller id, epoch, broker epoch
        "02" "0274"  # 1 topic (compact array), "t" (compact string)
        "02" "00000000" "00000002" "00000001" "00000003"  # 1 partition: index, ctrl, leader, epoch
        "03" "00000001" "00000002" "00000004"  # isr [1,2], zk_version 4
        "03" "00000001" "00000002" "01" "01" "01"  # replicas, adding [], removing [], is_new
        "00" "00"  # tagged fields: partition, topic
        "02" "00000001" "0268" "00000009" "00"  # live leader 1 h:9
        "00"  # request tagged fields
    )  # fmt: skip
    assert data == expected
    assert ib.decode(ib.LeaderAndIsrRequest, data, 0) == _leader_and_isr()


def test_round_trips_and_header_versions() -> None:
    stop = ib.StopReplicaRequest(
        controller_id=1, controller_epoch=2,
        topic_states=(ib.StopReplicaTopicState(topic_name="t", partition_states=(
            ib.StopReplicaPartitionState(partition_index=3, delete_partition=True),)),),
    )  # fmt: skip
    assert ib.decode(ib.StopReplicaRequest, encode_body(stop), 0) == stop
    update = ib.UpdateMetadataRequest(
        controller_id=1, controller_epoch=2, topic_states=(),
        live_brokers=(ib.UpdateMetadataBroker(id=1, rack=None, endpoints=(
            ib.UpdateMetadataEndpoint(port=1, host="h", listener="PLAINTEXT",
                                      security_protocol=0),)),),
    )  # fmt: skip
    assert ib.decode(ib.UpdateMetadataRequest, encode_body(update), 0) == update
    error = ib.PartitionError(topic_name="t", partition_index=3, error_code=ErrorCode(3))
    answer = ib.StopReplicaResponse(error_code=ErrorCode.none, partition_errors=(error,))
    assert ib.decode(ib.StopReplicaResponse, encode_body(answer), 0) == answer
    shutdown = ib.ControlledShutdownRequest(broker_id=2, broker_epoch=77)
    assert encode_body(shutdown) == bytes.fromhex("00000002000000000000004d00")
    still = ib.ControlledShutdownResponse(error_code=ErrorCode.none, remaining_partitions=(
        ib.RemainingPartition(topic_name="t", partition_index=1),))  # fmt: skip
    assert ib.decode(ib.ControlledShutdownResponse, encode_body(still), 0) == still
    for key, version in ((4, 4), (5, 3), (6, 6), (7, 3)):
        assert is_flexible(key, version) and request_header_version(key, version) == 2


def test_garbage_is_an_invalid_request_not_a_crash() -> None:
    data = bytearray(encode_body(_leader_and_isr()))
    data[16] = 0xFF  # topic_states count: a huge compact array
    data[17:21] = b"\xff\xff\xff\x0f"
    with pytest.raises(InvalidRequest):
        ib.decode(ib.LeaderAndIsrRequest, bytes(data), 0)
    with pytest.raises(InvalidRequest):
        ib.decode(ib.StopReplicaRequest, b"\x00\x01", 0)
