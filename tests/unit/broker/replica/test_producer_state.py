"""Idempotent-producer state: duplicates, gaps, fencing, unknown producers, rebuild."""

from __future__ import annotations

import pytest

from kcli.broker.txn.producer_state import (
    INT32_MAX,
    InvalidProducerEpoch,
    OutOfOrderSequence,
    ProducerStateManager,
)
from kcli.protocol.batch import parse_header
from kcli.protocol.records import Record, build_batch


def appended(  # noqa: PLR0917 - one batch's fields, in the order Kafka names them
    state: ProducerStateManager, pid: int, epoch: int, seq: int, count: int, offset: int
) -> None:
    assert state.check_append([(pid, epoch, seq, count - 1)]) is None
    state.update(pid, epoch, seq, count - 1, offset, 1000)


def test_in_order_batches_pass_and_retry_returns_original_offsets() -> None:
    state = ProducerStateManager()
    appended(state, 7, 0, 0, 3, 100)
    appended(state, 7, 0, 3, 2, 103)
    duplicate = state.check_append([(7, 0, 0, 2)])
    assert duplicate is not None and (duplicate.first_offset, duplicate.last_offset) == (100, 102)
    duplicate = state.check_append([(7, 0, 3, 1)])
    assert duplicate is not None and duplicate.first_offset == 103


def test_only_the_last_five_batches_are_remembered() -> None:
    state = ProducerStateManager()
    for i in range(6):
        appended(state, 1, 0, i, 1, i)
    assert state.check_append([(1, 0, 5, 0)]) is not None
    with pytest.raises(OutOfOrderSequence):  # batch 0 is forgotten: now a gap, not a retry
        state.check_append([(1, 0, 0, 0)])


def test_gap_is_out_of_order() -> None:
    state = ProducerStateManager()
    appended(state, 1, 0, 0, 5, 0)
    with pytest.raises(OutOfOrderSequence):
        state.check_append([(1, 0, 6, 0)])


def test_lower_epoch_is_fenced_and_new_epoch_must_start_at_zero() -> None:
    state = ProducerStateManager()
    appended(state, 1, 3, 0, 1, 0)
    with pytest.raises(InvalidProducerEpoch):
        state.check_append([(1, 2, 1, 0)])
    with pytest.raises(OutOfOrderSequence):
        state.check_append([(1, 4, 5, 0)])
    appended(state, 1, 4, 0, 1, 1)
    assert state.producers[1].epoch == 4


def test_unknown_producer_accepts_any_sequence_and_non_idempotent_is_unchecked() -> None:
    state = ProducerStateManager()
    assert state.check_append([(9, 0, 4242, 0)]) is None
    assert state.check_append([(-1, -1, 0, 10), (-1, -1, 0, 10)]) is None


def test_sequence_wraps_at_int32_max() -> None:
    state = ProducerStateManager()
    appended(state, 1, 0, INT32_MAX, 1, 0)
    assert state.check_append([(1, 0, 0, 0)]) is None


def test_batches_of_one_append_are_checked_against_each_other() -> None:
    state = ProducerStateManager()
    assert state.check_append([(1, 0, 0, 1), (1, 0, 2, 0)]) is None
    with pytest.raises(OutOfOrderSequence):
        state.check_append([(1, 0, 0, 1), (1, 0, 5, 0)])


def test_truncate_head_and_expiry_forget_producers() -> None:
    state = ProducerStateManager()
    appended(state, 1, 0, 0, 10, 0)  # offsets 0..9
    appended(state, 2, 0, 0, 1, 10)
    assert state.truncate_head(10) == 1 and 1 not in state.producers
    assert state.check_append([(1, 0, 77, 0)]) is None  # unknown again
    assert state.remove_expired(now_ms=1000 + 5, expiration_ms=5) == 1 and len(state) == 0


def test_rebuild_from_batch_headers() -> None:
    headers = []
    offset = 0
    for seq in (0, 2, 4):
        raw = build_batch(
            [Record(b"k", b"v"), Record(b"k", b"v")],
            base_offset=offset,
            producer_id=5,
            producer_epoch=1,
            base_sequence=seq,
        )
        headers.append(parse_header(raw))
        offset += 2
    state = ProducerStateManager()
    state.rebuild(headers, log_start_offset=0)
    duplicate = state.check_append([(5, 1, 4, 1)])
    assert duplicate is not None and duplicate.first_offset == 4
    with pytest.raises(OutOfOrderSequence):
        state.check_append([(5, 1, 7, 0)])
    state.rebuild(headers, log_start_offset=6)  # every batch below the log start: forgotten
    assert len(state) == 0
