"""The broker's periodic storage passes, run by hand (no timers): retention forgets producers
whose data is gone, the HW checkpoint lands in replication-offset-checkpoint, and the broker's
properties reach LogConfig as Kafka's strings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kcli.broker.config import from_properties
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.log_tasks import LogTasks, storage_properties
from kcli.broker.replica.manager import ReplicaManager
from kcli.broker.replica.state import PartitionState
from kcli.clock import MockClock
from kcli.protocol.records import Record, build_batch
from kcli.storage.checkpoint import OffsetCheckpointFile
from kcli.storage.config import LogConfig
from kcli.storage.files import TopicPartition
from kcli.storage.manager import LogManager

TP = TopicPartition("orders", 0)


def test_storage_properties_are_kafka_strings(tmp_path: Path) -> None:
    config = from_properties(
        {
            "zookeeper.connect": "127.0.0.1:2181",
            "log.dirs": str(tmp_path),
            "log.cleanup.policy": "compact,delete",
            "log.preallocate": "true",
            "log.retention.hours": "2",
        }
    )
    props = storage_properties(config)
    log_config = LogConfig.from_properties(props)
    assert log_config.cleanup_policy == ("compact", "delete")
    assert log_config.preallocate is True
    assert log_config.retention_ms == 2 * 3600 * 1000


def test_retention_pass_and_hw_checkpoint(tmp_path: Path) -> None:
    clock = MockClock()
    config = from_properties(
        {"zookeeper.connect": "127.0.0.1:2181", "log.dirs": str(tmp_path), "broker.id": "0"}
    )
    logs = LogManager([tmp_path], storage_properties(config), clock=clock)
    logs.startup()
    rm = ReplicaManager(0, logs, MetadataCache(), clock)
    try:
        state = PartitionState("orders", 0, 1, 0, 0, (0,), 0, (0,))
        configs = {"orders": {"retention.ms": "1000", "segment.bytes": "1000"}}
        asyncio.run(rm.become_leader_or_follower(0, 1, [state], configs))
        for seq in range(0, 20, 2):  # ~10 batches, several segments (segment.bytes 1000)
            raw = build_batch(
                [Record(b"k", b"x" * 150, timestamp=clock.time_ms())] * 2,
                producer_id=7,
                producer_epoch=0,
                base_sequence=seq,
            )
            [r] = asyncio.run(rm.append_records(1000, 1, [(TP, raw)]))
            assert r.error is None
        partition = rm.get_partition(TP)
        assert partition is not None and len(partition.producer_state) == 1
        tasks = LogTasks(config, rm, clock)
        clock.advance(10_000)
        assert tasks.retention() > 0  # old segments deleted; the active one stays
        assert partition.log_start_offset > 0
        assert len(partition.producer_state) == 1  # its last batch is still in the log
        clock.advance(config.get_int("producer.id.expiration.ms"))
        tasks.retention()
        assert len(partition.producer_state) == 0  # idle past producer.id.expiration.ms
        jobs = tasks.jobs()
        jobs["highwatermark-checkpoint"][1]()
        hws = OffsetCheckpointFile(tmp_path / "replication-offset-checkpoint").read()
        assert hws == {TP: partition.high_watermark} and partition.high_watermark == 20
        assert "kafka-log-cleaner" in jobs
    finally:
        rm.shutdown()
        logs.shutdown()
