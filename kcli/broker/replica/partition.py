"""`Partition`: one partition replica on this broker, leader or follower (Kafka's Partition).

The leader appends client batches (batch-level, kcli.storage), checks idempotence
(kcli.broker.txn.producer_state), and keeps the high watermark: the smallest log end offset
over the ISR (the leader's own, and each in-sync follower's as last reported by its fetch), so
with ISR = {leader} it is the log end offset. The high watermark never moves back. Each move of
the log end offset or high watermark calls `on_progress(tp)`, which wakes the purgatories.

A follower keeps its log and refuses client produce (NOT_LEADER_OR_FOLLOWER); the follower
fetcher (issue 5) will append with `append_as_follower` and set the high watermark from the
leader's. Leader epochs come from the controller (LeaderAndIsr) and are stamped into every
appended batch; `leader-epoch-checkpoint` (storage) records where each epoch starts.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from kcli.broker.replica.errors import (
    FencedLeaderEpoch,
    NotEnoughReplicas,
    NotLeaderOrFollower,
    UnknownLeaderEpoch,
)
from kcli.broker.replica.state import PartitionState
from kcli.broker.txn.producer_state import BatchIds, ProducerStateError, ProducerStateManager
from kcli.clock import Clock
from kcli.protocol.batch import CorruptBatchError, iter_headers
from kcli.protocol.records import iter_records
from kcli.storage.errors import CorruptRecordError, InvalidRecordError
from kcli.storage.files import TopicPartition
from kcli.storage.log import Log, LogAppendInfo
from kcli.storage.segment import FetchData

# baseOffset..producerId..baseSequence: the fields idempotence needs, from the 61-byte header
_IDS = struct.Struct(">23xi16xqhi")  # lastOffsetDelta@23, producerId@43, epoch@51, baseSeq@53
_IDS_SIZE = 57


class Partition:
    def __init__(
        self,
        tp: TopicPartition,
        local_broker_id: int,
        clock: Clock,
        on_progress: Callable[[TopicPartition], None],
    ) -> None:
        self.topic_partition = tp
        self.local_broker_id = local_broker_id
        self.clock = clock
        self.on_progress = on_progress
        self.log: Log | None = None
        self.leader_id = -1
        self.leader_epoch = -1
        self.leader_epoch_start_offset = -1
        self.zk_version = -1
        self.controller_epoch = -1
        self.isr: tuple[int, ...] = ()
        self.replicas: tuple[int, ...] = ()
        self.high_watermark = 0
        self.producer_state = ProducerStateManager(tp)
        # follower broker id -> its log end offset as of its last fetch (-1 = not yet known);
        # the replica fetch path (issue 5) keeps it current.
        self.remote_log_end_offsets: dict[int, int] = {}

    def __repr__(self) -> str:
        role = "leader" if self.is_leader else f"follower of {self.leader_id}"
        return (
            f"Partition({self.topic_partition}, {role}, epoch={self.leader_epoch}, "
            f"isr={list(self.isr)}, hw={self.high_watermark})"
        )

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.local_broker_id

    @property
    def log_end_offset(self) -> int:
        return self.log.log_end_offset if self.log is not None else -1

    @property
    def log_start_offset(self) -> int:
        return self.log.log_start_offset if self.log is not None else -1

    # -- state changes from the controller ------------------------------------------------------

    def attach_log(self, log: Log, checkpointed_hw: int | None) -> None:
        """First use of this partition's log: rebuild producer state, set the high watermark
        from the replication-offset-checkpoint (clamped into the log)."""
        self.log = log
        self.rebuild_producer_state()
        hw = checkpointed_hw if checkpointed_hw is not None else 0
        self.high_watermark = min(max(hw, log.log_start_offset), log.log_end_offset)

    def _apply(self, state: PartitionState) -> None:
        self.controller_epoch = state.controller_epoch
        self.leader_id = state.leader
        self.leader_epoch = state.leader_epoch
        self.isr = tuple(state.isr)
        self.replicas = tuple(state.replicas)
        self.zk_version = state.zk_version

    def make_leader(self, state: PartitionState) -> bool:
        """Become (or stay) leader. Returns True if this broker was not leader before."""
        assert self.log is not None
        was_leader = self.is_leader
        new_epoch = state.leader_epoch != self.leader_epoch
        self._apply(state)
        log = self.log
        if new_epoch or not was_leader:
            self.leader_epoch_start_offset = log.log_end_offset
            if state.leader_epoch >= 0:
                log.leader_epoch_cache.assign(state.leader_epoch, log.log_end_offset)
        followers = [r for r in self.replicas if r != self.local_broker_id]
        if not was_leader:
            self.remote_log_end_offsets = dict.fromkeys(followers, -1)
        else:
            self.remote_log_end_offsets = {
                r: self.remote_log_end_offsets.get(r, -1) for r in followers
            }
        self.maybe_increment_high_watermark()
        self.on_progress(self.topic_partition)
        return not was_leader

    def make_follower(self, state: PartitionState) -> bool:
        """Become (or stay) a follower. Returns True if the leader changed."""
        assert self.log is not None
        changed = state.leader != self.leader_id or state.leader_epoch != self.leader_epoch
        self._apply(state)
        self.remote_log_end_offsets = {}
        self.high_watermark = min(self.high_watermark, self.log.log_end_offset)
        self.on_progress(self.topic_partition)  # waiting produce/fetch learn they lost the lead
        return changed

    def make_offline(self) -> None:
        """StopReplica: no longer leader or follower here."""
        self.leader_id = -1
        self.isr = ()
        self.remote_log_end_offsets = {}
        self.on_progress(self.topic_partition)

    # -- high watermark -------------------------------------------------------------------------

    def maybe_increment_high_watermark(self) -> bool:
        """Leader: HW = min LEO over the ISR; moves forward only. Returns True if it moved."""
        log = self.log
        if log is None or not self.is_leader:
            return False
        new_hw = log.log_end_offset
        remote = self.remote_log_end_offsets
        for replica in self.isr:
            if replica != self.local_broker_id:
                leo = remote.get(replica, -1)
                if 0 <= leo < new_hw:
                    new_hw = leo
                elif leo < 0:
                    return False  # an in-sync follower we have not heard from yet
        if new_hw > self.high_watermark:
            self.high_watermark = new_hw
            return True
        return False

    def update_follower_fetch_state(self, replica_id: int, fetch_offset: int) -> None:
        """A follower fetched from `fetch_offset`: that is its log end offset now. (ISR
        expansion and shrinking come with the follower fetcher, issue 5.)"""
        if replica_id in self.remote_log_end_offsets:
            self.remote_log_end_offsets[replica_id] = fetch_offset
            if self.maybe_increment_high_watermark():
                self.on_progress(self.topic_partition)

    # -- client produce ------------------------------------------------------------------------

    def append_records_to_leader(
        self, records: bytes | bytearray | memoryview, required_acks: int
    ) -> LogAppendInfo:
        """Append a client's batches as leader. Raises replica, producer-state or storage
        errors; on any of them nothing is written."""
        log = self.log
        if log is None or not self.is_leader:
            raise NotLeaderOrFollower(
                f"Leader not local for partition {self.topic_partition} on broker "
                f"{self.local_broker_id}"
            )
        config = log.config
        if required_acks == -1 and len(self.isr) < config.min_insync_replicas:
            raise NotEnoughReplicas(
                f"The size of the current ISR {set(self.isr)} is insufficient to satisfy the "
                f"min.isr requirement of {config.min_insync_replicas} for partition "
                f"{self.topic_partition}"
            )
        if config.compact:
            self._check_keys(records)
        ids = self._producer_ids(records)
        if ids:
            try:
                duplicate = self.producer_state.check_append(ids)
            except ProducerStateError:
                self._raise_if_corrupt(records)  # Kafka validates the batch first
                raise
            if duplicate is not None:
                self._raise_if_corrupt(records)
                return LogAppendInfo(
                    duplicate.first_offset, duplicate.last_offset, -1, -1, -1,
                    log.log_start_offset, 0, 0, 0,
                )  # fmt: skip
        if type(records) is not bytearray:  # offsets are patched in place: one copy, here
            records = bytearray(records)
        info = log.append(records, self.leader_epoch)
        if ids:
            now = self.clock.time_ms()
            offset = info.first_offset
            for producer_id, epoch, base_seq, delta in ids:
                self.producer_state.update(producer_id, epoch, base_seq, delta, offset, now)
                offset += delta + 1
        self.maybe_increment_high_watermark()
        self.on_progress(self.topic_partition)
        return info

    @staticmethod
    def _producer_ids(records: bytes | bytearray | memoryview) -> list[BatchIds]:
        """(producer id, epoch, base sequence, last offset delta) of idempotent batches; a
        single header unpack on the common one-batch path. Malformed input yields [] and is
        reported by storage's validation."""
        n = len(records)
        if n < _IDS_SIZE:
            return []
        delta, producer_id, epoch, base_seq = _IDS.unpack_from(records, 0)
        (length,) = struct.unpack_from(">i", records, 8)
        if length + 12 >= n:  # one batch (or a cut one: storage refuses it)
            return [(producer_id, epoch, base_seq, delta)] if producer_id >= 0 else []
        try:
            headers = iter_headers(records, validate=False)
        except CorruptBatchError:
            return []
        return [
            (h.producer_id, h.producer_epoch, h.base_sequence, h.last_offset_delta)
            for _, h in headers
            if h.producer_id >= 0
        ]

    @staticmethod
    def _raise_if_corrupt(records: bytes | bytearray | memoryview) -> None:
        try:
            iter_headers(records, validate=True)
        except CorruptBatchError as exc:
            raise CorruptRecordError(str(exc)) from None

    def _check_keys(self, records: bytes | bytearray | memoryview) -> None:
        """Compacted topics need a key on every record (Kafka's LogValidator): the one place
        the produce path decodes records."""
        try:
            for record in iter_records(bytes(records), verify=True):
                if record.key is None:
                    raise InvalidRecordError(
                        "Compacted topic cannot accept message without key in topic partition "
                        f"{self.topic_partition}."
                    )
        except CorruptBatchError as exc:
            raise CorruptRecordError(str(exc)) from None

    # -- reads -----------------------------------------------------------------------------

    def check_leader_epoch(self, current_leader_epoch: int) -> None:
        """Fencing by the client's view of the leader epoch (-1 = not given)."""
        if current_leader_epoch < 0:
            return
        if current_leader_epoch < self.leader_epoch:
            raise FencedLeaderEpoch(
                f"The leader epoch {current_leader_epoch} is older than the current leader "
                f"epoch {self.leader_epoch} of {self.topic_partition}"
            )
        if current_leader_epoch > self.leader_epoch:
            raise UnknownLeaderEpoch(
                f"The leader epoch {current_leader_epoch} is newer than the current leader "
                f"epoch {self.leader_epoch} of {self.topic_partition}"
            )

    def leader_log(self, current_leader_epoch: int = -1) -> Log:
        log = self.log
        if log is None or not self.is_leader:
            raise NotLeaderOrFollower(
                f"Leader not local for partition {self.topic_partition} on broker "
                f"{self.local_broker_id}"
            )
        self.check_leader_epoch(current_leader_epoch)
        return log

    def read(
        self,
        fetch_offset: int,
        max_bytes: int,
        *,
        replica_id: int,
        current_leader_epoch: int,
        min_one_batch: bool,
    ) -> FetchData:
        """Batches from `fetch_offset`: below the high watermark for consumers, below the log
        end offset for followers (replica_id >= 0). Raises OffsetOutOfRangeError and the
        leadership errors."""
        log = self.leader_log(current_leader_epoch)
        if replica_id >= 0:
            data = log.read(fetch_offset, max_bytes, None, min_one_batch)
            self.update_follower_fetch_state(replica_id, fetch_offset)
            return data
        return log.read(fetch_offset, max_bytes, self.high_watermark, min_one_batch)

    # -- producer state -----------------------------------------------------------------------

    def rebuild_producer_state(self) -> None:
        """Replay the idempotent batches' headers (log load, truncation)."""
        log = self.log
        if log is None:
            return
        self.producer_state.rebuild(
            (bp.header for seg in log.segments for bp in seg.iter_batches()),
            log.log_start_offset,
        )

    def truncate_to(self, offset: int) -> None:
        """Follower truncation (issue 5): cut the log, then rebuild the producer state."""
        assert self.log is not None
        if self.log.truncate_to(offset):
            self.rebuild_producer_state()
            self.high_watermark = min(self.high_watermark, offset)
