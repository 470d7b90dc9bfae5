"""`Partition`: one partition replica on this broker, leader or follower (Kafka's Partition).

The leader appends client batches (batch-level, kcli.storage), checks idempotence
(kcli.broker.txn.producer_state), and keeps the high watermark: the smallest log end offset
over the ISR (the leader's own, and each in-sync follower's as last reported by its fetch), so
with ISR = {leader} it is the log end offset. The high watermark never moves back. Each move of
the log end offset or high watermark calls `on_progress(tp)`, which wakes the purgatories.

The leader learns each follower's log end offset from its fetches (kcli.broker.replica.isr
holds Kafka's rules), expands the ISR when a follower catches up and shrinks it when one lags
past replica.lag.time.max.ms; a proposed ISR goes to `on_isr_proposal` (the ReplicaManager
writes it to ZooKeeper) and takes effect in `isr_write_done`.

A follower keeps its log and refuses client produce (NOT_LEADER_OR_FOLLOWER); the follower
fetcher appends with `append_as_follower` (offsets kept) and sets the high watermark to
min(leader's, own log end offset). Leader epochs come from the controller (LeaderAndIsr) and
are stamped into every appended batch; `leader-epoch-checkpoint` (storage) records where each
epoch starts, on followers from the fetched batches.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

from kcli.broker.replica.errors import (
    FencedLeaderEpoch,
    NotEnoughReplicas,
    NotLeaderOrFollower,
    UnknownLeaderEpoch,
)
from kcli.broker.replica.isr import (
    FollowerState,
    IsrState,
    may_join_isr,
    new_high_watermark,
    out_of_sync_replicas,
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

log_ = logging.getLogger("kafka.cluster.Partition")

DEFAULT_REPLICA_LAG_TIME_MAX_MS = 30000


class Partition:
    def __init__(
        self,
        tp: TopicPartition,
        local_broker_id: int,
        clock: Clock,
        on_progress: Callable[[TopicPartition], None],
        *,
        on_isr_proposal: Callable[[Partition, tuple[int, ...]], None] | None = None,
        replica_lag_time_max_ms: int = DEFAULT_REPLICA_LAG_TIME_MAX_MS,
    ) -> None:
        self.topic_partition = tp
        self.local_broker_id = local_broker_id
        self.clock = clock
        self.on_progress = on_progress
        self.on_isr_proposal = on_isr_proposal
        self.replica_lag_time_max_ms = replica_lag_time_max_ms
        self.log: Log | None = None
        self.leader_id = -1
        self.leader_epoch = -1
        self.leader_epoch_start_offset = -1
        self.zk_version = -1
        self.controller_epoch = -1
        self.isr_state = IsrState()
        self.replicas: tuple[int, ...] = ()
        self.high_watermark = 0
        self.producer_state = ProducerStateManager(tp)
        # leader only: what each follower's fetches told us (isr.FollowerState)
        self.followers: dict[int, FollowerState] = {}

    def __repr__(self) -> str:
        role = "leader" if self.is_leader else f"follower of {self.leader_id}"
        return (
            f"Partition({self.topic_partition}, {role}, epoch={self.leader_epoch}, "
            f"isr={list(self.isr)}, hw={self.high_watermark})"
        )

    @property
    def isr(self) -> tuple[int, ...]:
        """The committed ISR (as in ZooKeeper)."""
        return self.isr_state.isr

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
        self.isr_state.reset(tuple(state.isr))
        self.replicas = tuple(state.replicas)
        self.zk_version = state.zk_version

    def make_leader(self, state: PartitionState) -> bool:
        """Become (or stay) leader. Returns True if this broker was not leader before."""
        assert self.log is not None
        was_leader = self.is_leader
        new_epoch = state.leader_epoch != self.leader_epoch
        self._apply(state)
        log = self.log
        now = self.clock.time_ms()
        if new_epoch or not was_leader:
            self.leader_epoch_start_offset = log.log_end_offset
            if state.leader_epoch >= 0:
                log.leader_epoch_cache.assign(state.leader_epoch, log.log_end_offset)
        old = self.followers if was_leader and not new_epoch else {}
        self.followers = {}
        for r in self.replicas:
            if r == self.local_broker_id:
                continue
            follower = old.get(r)
            if follower is None:
                follower = FollowerState()
                follower.reset(now, r in self.isr)
            self.followers[r] = follower
        self.maybe_increment_high_watermark()
        self.on_progress(self.topic_partition)
        return not was_leader

    def make_follower(self, state: PartitionState) -> bool:
        """Become (or stay) a follower. Returns True if the leader or its epoch changed (the
        fetcher must then truncate and fetch from the leader anew)."""
        assert self.log is not None
        changed = state.leader != self.leader_id or state.leader_epoch != self.leader_epoch
        self._apply(state)
        self.followers = {}
        self.high_watermark = min(self.high_watermark, self.log.log_end_offset)
        self.on_progress(self.topic_partition)  # waiting produce/fetch learn they lost the lead
        return changed

    def make_offline(self) -> None:
        """StopReplica: no longer leader or follower here."""
        self.leader_id = -1
        self.isr_state.reset(())
        self.followers = {}
        self.on_progress(self.topic_partition)

    # -- high watermark and ISR (leader) --------------------------------------------------------

    def maybe_increment_high_watermark(self) -> bool:
        """Leader: HW = min LEO over the (maximal) ISR; moves forward only. True if it moved."""
        log = self.log
        if log is None or not self.is_leader:
            return False
        new_hw = new_high_watermark(
            self.local_broker_id,
            log.log_end_offset,
            self.isr_state.maximal,
            self.followers,
            now_ms=self.clock.time_ms(),
            lag_max_ms=self.replica_lag_time_max_ms,
        )
        if new_hw is not None and new_hw > self.high_watermark:
            self.high_watermark = new_hw
            return True
        return False

    def update_follower_fetch_state(self, replica_id: int, fetch_offset: int) -> None:
        """A follower fetched from `fetch_offset`: that is its log end offset now. It may
        join the ISR, and the high watermark may move."""
        follower = self.followers.get(replica_id)
        if follower is None or self.log is None:
            return  # not an assigned replica (Kafka answers it NOT_LEADER_OR_FOLLOWER)
        follower.update_fetch_state(fetch_offset, self.log.log_end_offset, self.clock.time_ms())
        self.maybe_expand_isr(replica_id)
        if self.maybe_increment_high_watermark():
            self.on_progress(self.topic_partition)

    def _may_propose(self) -> bool:
        s = self.isr_state
        return (
            self.is_leader
            and self.on_isr_proposal is not None
            and not s.in_flight
            and s.blocked_at_version != self.zk_version
        )

    def maybe_expand_isr(self, replica_id: int) -> None:
        follower = self.followers.get(replica_id)
        if follower is None or replica_id in self.isr or not self._may_propose():
            return
        if may_join_isr(
            follower.log_end_offset, self.high_watermark, self.leader_epoch_start_offset
        ):
            new_isr = (*self.isr, replica_id)
            log_.info(
                "[Partition %s broker=%d] Expanding ISR from %s to %s",
                self.topic_partition, self.local_broker_id, _ids(self.isr), _ids(new_isr),
            )  # fmt: skip
            self._propose(new_isr)

    def maybe_shrink_isr(self) -> bool:
        """Periodic check: drop in-sync followers that lagged past replica.lag.time.max.ms.
        True if a shrink was proposed."""
        if self.log is None or not self._may_propose():
            return False
        leo = self.log.log_end_offset
        out = out_of_sync_replicas(
            self.local_broker_id,
            self.isr,
            self.followers,
            leader_leo=leo,
            now_ms=self.clock.time_ms(),
            lag_max_ms=self.replica_lag_time_max_ms,
        )
        if not out:
            return False
        new_isr = tuple(r for r in self.isr if r not in out)
        lagging = ", ".join(
            f"(brokerId: {r}, endOffset: {f.log_end_offset}, "
            f"lastCaughtUpTimeMs: {f.last_caught_up_ms})"
            for r in out
            for f in (self.followers.get(r, FollowerState()),)
        )
        log_.info(
            "[Partition %s broker=%d] Shrinking ISR from %s to %s. Leader: (highWatermark: %d, "
            "endOffset: %d). Out of sync replicas: %s.",
            self.topic_partition, self.local_broker_id, _ids(self.isr), _ids(new_isr),
            self.high_watermark, leo, lagging,
        )  # fmt: skip
        self._propose(new_isr)
        return True

    def _propose(self, new_isr: tuple[int, ...]) -> None:
        assert self.on_isr_proposal is not None
        self.isr_state.propose(new_isr)
        self.on_isr_proposal(self, new_isr)

    def isr_write_done(
        self, leader_epoch: int, new_isr: tuple[int, ...], zk_version: int | None
    ) -> None:
        """The ZooKeeper write of a proposed ISR finished: committed with the znode's new
        `zk_version`, or (None) refused because the znode changed under us, in which case we
        propose nothing more until the controller sends the newer state."""
        s = self.isr_state
        if not self.is_leader or leader_epoch != self.leader_epoch or s.pending != new_isr:
            return  # a LeaderAndIsr replaced the state meanwhile
        if zk_version is None:
            log_.info(
                "[Partition %s broker=%d] Failed to update ISR to %s: the state znode changed "
                "(zkVersion %d is stale); waiting for the controller's update",
                self.topic_partition, self.local_broker_id, _ids(new_isr), self.zk_version,
            )  # fmt: skip
            s.abort(self.zk_version)
        else:
            s.commit()
            self.zk_version = zk_version
            log_.info(
                "[Partition %s broker=%d] ISR updated to %s and zkVersion updated to [%d]",
                self.topic_partition, self.local_broker_id, _ids(new_isr), zk_version,
            )  # fmt: skip
        self.maybe_increment_high_watermark()
        self.on_progress(self.topic_partition)  # acks=all waiters re-check the ISR size

    def isr_write_failed(self, leader_epoch: int, new_isr: tuple[int, ...]) -> None:
        """The write could not be made (ZooKeeper unreachable): drop it, retry later."""
        if leader_epoch == self.leader_epoch and self.isr_state.pending == new_isr:
            self.isr_state.abort()

    # -- follower --------------------------------------------------------------------------------

    def append_as_follower(self, records: bytes | bytearray | memoryview) -> LogAppendInfo:
        """Fetched batches, offsets kept (the leader assigned them); new epochs go into the
        leader epoch cache and idempotent producers' state follows, so this replica can lead."""
        log = self.log
        if log is None:
            raise NotLeaderOrFollower(f"No log for {self.topic_partition}")
        start = log.log_end_offset
        info = log.append(records, assign_offsets=False)
        if info.first_offset >= 0 and info.last_offset >= start:
            try:
                headers = iter_headers(records, validate=False)
            except CorruptBatchError:
                headers = []
            for _, header in headers:
                if header.base_offset >= start and header.last_offset <= info.last_offset:
                    self.producer_state.load_batch(header)
        return info

    def maybe_increment_log_start_offset(self, leader_log_start_offset: int) -> None:
        """Follower: the leader's log start moved up (retention, DeleteRecords): follow it as
        far as our own log reaches (Kafka's maybeIncrementLogStartOffset)."""
        log = self.log
        if log is not None and log.log_start_offset < leader_log_start_offset <= log.log_end_offset:
            log.delete_records(leader_log_start_offset)
            self.producer_state.truncate_head(log.log_start_offset)

    def update_follower_high_watermark(self, leader_high_watermark: int) -> None:
        """Follower: HW = min(leader's HW, own LEO), never backwards."""
        hw = min(leader_high_watermark, self.log_end_offset)
        if hw > self.high_watermark:
            self.high_watermark = hw
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

    def truncate_to(self, offset: int) -> bool:
        """Follower truncation: cut the log, then rebuild the producer state."""
        assert self.log is not None
        if not self.log.truncate_to(offset):
            return False
        self.rebuild_producer_state()
        self.high_watermark = min(self.high_watermark, self.log.log_end_offset)
        return True

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Follower far behind the leader's log start: drop everything, restart at `offset`."""
        assert self.log is not None
        self.log.truncate_fully_and_start_at(offset)
        self.producer_state.rebuild((), offset)
        self.high_watermark = offset


def _ids(replicas: tuple[int, ...]) -> str:
    return "[" + ",".join(str(r) for r in replicas) + "]"
