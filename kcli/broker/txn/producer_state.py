"""Idempotent-producer state of one partition (Kafka's ProducerStateManager/ProducerAppendInfo).

Per producer id: its current epoch and the metadata of its last 5 batches (first/last sequence,
first/last offset), because an idempotent producer keeps at most 5 requests in flight. Rules
for a client append (ProducerAppendInfo.checkSequence, Kafka 2.5+):

- epoch below the known one                     -> InvalidProducerEpoch (INVALID_PRODUCER_EPOCH)
- same epoch, sequences equal a retained batch  -> duplicate: answer with its original offsets,
                                                   append nothing
- new (higher) epoch                            -> the first sequence must be 0
- same epoch                                    -> first sequence = last sequence + 1
                                                   (wrapping from 2^31-1 to 0)
- unknown producer (never seen, or its batches  -> any sequence (KIP-360: no more
  all removed by retention)                        UNKNOWN_PRODUCER_ID)
- producer id -1                                -> not idempotent, nothing checked

The state lives in memory and is rebuilt from the batch headers on log load and after a
truncation (`rebuild`); entries idle longer than `producer.id.expiration.ms` are dropped.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass

from kcli.protocol.batch import BatchHeader

NUM_BATCHES_TO_RETAIN = 5
INT32_MAX = 2**31 - 1


class ProducerStateError(Exception):
    """Root of idempotence errors (mapped to Kafka codes by the handler layer)."""


class OutOfOrderSequence(ProducerStateError):
    """OUT_OF_ORDER_SEQUENCE_NUMBER (45)."""


class InvalidProducerEpoch(ProducerStateError):
    """INVALID_PRODUCER_EPOCH (47)."""


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


class ProducerStateEntry:
    __slots__ = ("batches", "epoch", "last_timestamp", "producer_id")

    def __init__(self, producer_id: int, epoch: int) -> None:
        self.producer_id = producer_id
        self.epoch = epoch
        self.batches: collections.deque[BatchMetadata] = collections.deque(
            maxlen=NUM_BATCHES_TO_RETAIN
        )
        self.last_timestamp = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else -1

    @property
    def last_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1

    def find_duplicate(self, epoch: int, first_seq: int, last_seq: int) -> BatchMetadata | None:
        if epoch != self.epoch:
            return None
        for b in self.batches:
            if b.first_seq == first_seq and b.last_seq == last_seq:
                return b
        return None


def in_sequence(last_seq: int, next_seq: int) -> bool:
    return next_seq == last_seq + 1 or (next_seq == 0 and last_seq == INT32_MAX)


def last_sequence(base_seq: int, last_offset_delta: int) -> int:
    return (base_seq + last_offset_delta) & INT32_MAX if base_seq >= 0 else -1


# (producer id, epoch, base sequence, last offset delta) of one batch in an append
BatchIds = tuple[int, int, int, int]


class ProducerStateManager:
    def __init__(self, topic_partition: object = None) -> None:
        self.topic_partition = topic_partition
        self.producers: dict[int, ProducerStateEntry] = {}

    def __len__(self) -> int:
        return len(self.producers)

    def check_append(self, batches: Iterable[BatchIds]) -> BatchMetadata | None:
        """Validate the batches of one client append, in order. Returns the retained batch when
        the append is a retry of one (nothing must be appended); raises ProducerStateError."""
        pending: dict[int, tuple[int, int]] = {}  # producer id -> (epoch, last seq) in this append
        for producer_id, epoch, base_seq, delta in batches:
            if producer_id < 0:
                continue
            last_seq = last_sequence(base_seq, delta)
            if producer_id in pending:
                known_epoch, known_last = pending[producer_id]
            else:
                entry = self.producers.get(producer_id)
                if entry is None:
                    pending[producer_id] = (epoch, last_seq)
                    continue  # unknown producer: any sequence
                duplicate = entry.find_duplicate(epoch, base_seq, last_seq)
                if duplicate is not None:
                    return duplicate
                known_epoch, known_last = entry.epoch, entry.last_seq
            self._check(producer_id, epoch, base_seq, known_epoch, known_last)
            pending[producer_id] = (epoch, last_seq)
        return None

    def _check(
        self, producer_id: int, epoch: int, first_seq: int, known_epoch: int, known_last: int
    ) -> None:
        if epoch < known_epoch:
            raise InvalidProducerEpoch(
                f"Epoch of producer {producer_id} at offset in {self.topic_partition} is "
                f"{epoch}, which is smaller than the last seen epoch {known_epoch}"
            )
        if epoch != known_epoch:
            if first_seq != 0:
                raise OutOfOrderSequence(
                    f"Invalid sequence number for new epoch of producer {producer_id} in "
                    f"partition {self.topic_partition}: {epoch} (request epoch), {first_seq} "
                    f"(seq. number), {known_epoch} (current producer epoch)"
                )
        elif not in_sequence(known_last, first_seq):
            raise OutOfOrderSequence(
                f"Out of order sequence number for producer {producer_id} in partition "
                f"{self.topic_partition}: {first_seq} (incoming seq. number), {known_last} "
                "(current end sequence number)"
            )

    def update(  # noqa: PLR0917 - the five fields of one batch, as appended
        self,
        producer_id: int,
        epoch: int,
        base_seq: int,
        delta: int,
        first_offset: int,
        timestamp: int,
    ) -> None:
        """Record an appended batch (offsets as written)."""
        if producer_id < 0:
            return
        entry = self.producers.get(producer_id)
        if entry is None or epoch != entry.epoch:
            entry = self.producers[producer_id] = ProducerStateEntry(producer_id, epoch)
        entry.batches.append(
            BatchMetadata(
                base_seq, last_sequence(base_seq, delta), first_offset, first_offset + delta,
                timestamp,
            )
        )  # fmt: skip
        entry.last_timestamp = timestamp

    def load_batch(self, header: BatchHeader, timestamp: int | None = None) -> None:
        """Replay one batch read back from the log (rebuild)."""
        if header.producer_id < 0 or header.is_control:
            return
        self.update(
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
            header.last_offset_delta,
            header.base_offset,
            header.max_timestamp if timestamp is None else timestamp,
        )

    def rebuild(self, headers: Iterable[BatchHeader], log_start_offset: int = 0) -> None:
        """Forget everything and replay the batch headers of a log, oldest first."""
        self.producers.clear()
        for header in headers:
            if header.base_offset + header.last_offset_delta >= log_start_offset:
                self.load_batch(header)

    def truncate_head(self, log_start_offset: int) -> int:
        """Drop producers whose batches all lie below the log start offset (retention);
        they become unknown, so their next sequence is accepted as is."""
        gone = [pid for pid, e in self.producers.items() if e.last_offset < log_start_offset]
        for pid in gone:
            del self.producers[pid]
        return len(gone)

    def remove_expired(self, now_ms: int, expiration_ms: int) -> int:
        gone = [
            pid for pid, e in self.producers.items() if now_ms - e.last_timestamp >= expiration_ms
        ]
        for pid in gone:
            del self.producers[pid]
        return len(gone)
