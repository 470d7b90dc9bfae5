"""Retention decisions: pure functions of (segments, config, now).

Which of a log's oldest segments may go, with Kafka's rules (UnifiedLog.deleteOldSegments):

1. log start offset: a segment whose successor starts at or below the log start offset holds
   nothing readable (after DeleteRecords or a leader's log start moved);
2. `retention.bytes` (when `cleanup.policy` has delete and it is >= 0): with
   `excess = log size - retention.bytes`, delete the oldest segments while each fits in the excess;
3. `retention.ms` (same condition): delete the oldest segments whose largest timestamp is more
   than retention.ms before now (a segment without timestamps uses its file's mtime).

Each rule removes a prefix of the oldest segments and stops at the first segment it keeps; the
rules apply in that order, each to what the previous left. The active (last) segment is never
deleted, and neither is a segment holding offsets at or above the high watermark (its successor's
base offset is its upper bound).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kcli.storage.config import LogConfig


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What retention needs of a segment."""

    base_offset: int
    size: int
    largest_timestamp: int


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    """Delete the first `count` segments; `reasons` gives a count per rule applied."""

    count: int
    reasons: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        return ", ".join(f"{n} by {why}" for why, n in self.reasons if n)


_Rule = Callable[[SegmentInfo, int], bool]


def _deletable_prefix(
    segments: Sequence[SegmentInfo], upper_bounds: Sequence[int], high_watermark: int, rule: _Rule
) -> int:
    """Length of the prefix of non-active segments below the high watermark that `rule` takes."""
    n = 0
    for i in range(len(segments) - 1):  # the last (active) segment always stays
        if upper_bounds[i] > high_watermark or not rule(segments[i], upper_bounds[i]):
            break
        n += 1
    return n


def log_start_breached(
    segments: Sequence[SegmentInfo], log_end_offset: int, log_start_offset: int, high_watermark: int
) -> int:
    bounds = [s.base_offset for s in segments[1:]] + [log_end_offset]
    return _deletable_prefix(
        segments, bounds, high_watermark, lambda _s, up: up <= log_start_offset
    )


def retention_size_breached(
    segments: Sequence[SegmentInfo], log_end_offset: int, config: LogConfig, high_watermark: int
) -> int:
    if config.retention_bytes < 0:
        return 0
    excess = sum(s.size for s in segments) - config.retention_bytes
    bounds = [s.base_offset for s in segments[1:]] + [log_end_offset]

    def fits(s: SegmentInfo, _up: int) -> bool:
        nonlocal excess
        if excess - s.size < 0:
            return False
        excess -= s.size
        return True

    return _deletable_prefix(segments, bounds, high_watermark, fits)


def retention_ms_breached(
    segments: Sequence[SegmentInfo],
    log_end_offset: int,
    config: LogConfig,
    now_ms: int,
    high_watermark: int,
) -> int:
    if config.retention_ms < 0:
        return 0
    bounds = [s.base_offset for s in segments[1:]] + [log_end_offset]
    return _deletable_prefix(
        segments,
        bounds,
        high_watermark,
        lambda s, _up: now_ms - s.largest_timestamp > config.retention_ms,
    )


def segments_to_delete(
    segments: Sequence[SegmentInfo],
    config: LogConfig,
    now_ms: int,
    *,
    log_start_offset: int,
    log_end_offset: int,
    high_watermark: int | None = None,
) -> RetentionDecision:
    """How many of the oldest `segments` (ordered, the active one last) to delete now."""
    hw = log_end_offset if high_watermark is None else high_watermark
    rest = list(segments)
    reasons: list[tuple[str, int]] = []
    n = log_start_breached(rest, log_end_offset, log_start_offset, hw)
    reasons.append(("log start offset", n))
    rest = rest[n:]
    if config.delete:
        n = retention_size_breached(rest, log_end_offset, config, hw)
        reasons.append(("retention.bytes", n))
        rest = rest[n:]
        n = retention_ms_breached(rest, log_end_offset, config, now_ms, hw)
        reasons.append(("retention.ms", n))
        rest = rest[n:]
    return RetentionDecision(len(segments) - len(rest), tuple(reasons))
