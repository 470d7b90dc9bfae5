"""Loading a partition directory's segments, with crash recovery (Kafka's LogLoader).

Steps, in order:

1. Leftovers: `*.tmp` checkpoint files, `*.deleted` and `*.cleaned` segment files are removed;
   `*.index.swap` / `*.timeindex.swap` are removed (rebuilt below); index files without a
   `.log` are removed.
2. Every `<base>.log` is opened. A missing index, or one failing its sanity check (size not a
   whole number of entries, ends out of range), is rebuilt from the log: not fatal.
3. `<base>.log.swap` files (the cleaner committed a replacement, see files.py) complete the swap:
   the swap segment is re-validated, live segments whose base offsets fall inside its offset range
   are deleted, and the swap files are renamed to live names.
4. After an unclean stop (no `.kafka_cleanshutdown`), segments from the one holding the recovery
   point onwards are re-validated batch by batch (`LogSegment.recover`); at the first invalid or
   torn batch that segment is truncated and all later segments are deleted.
5. The last segment's indexes are preallocated for appends.

The outcome is reported as a `RecoveryResult` (and logged by the caller).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from kcli.storage import files
from kcli.storage.config import LogConfig
from kcli.storage.errors import CorruptIndexError
from kcli.storage.segment import LogSegment

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RecoveryResult:
    """What loading a partition directory found and changed."""

    directory: Path
    clean_shutdown: bool
    recovered_segments: list[int] = field(default_factory=list)  # base offsets re-validated
    truncated_bytes: int = 0
    truncated_at: int | None = None  # log end offset after the truncation, if any
    deleted_segments: list[int] = field(default_factory=list)  # dropped after a truncation
    rebuilt_indexes: list[int] = field(default_factory=list)  # corrupt or missing indexes
    completed_swaps: list[int] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)

    @property
    def lost_data(self) -> bool:
        return self.truncated_bytes > 0 or bool(self.deleted_segments)

    def summary(self) -> str:
        parts = [f"{self.directory.name}: {'clean' if self.clean_shutdown else 'unclean'} load"]
        if self.recovered_segments:
            parts.append(f"recovered {len(self.recovered_segments)} segment(s)")
        if self.truncated_bytes:
            parts.append(
                f"truncated {self.truncated_bytes} invalid byte(s), log ends at {self.truncated_at}"
            )
        if self.deleted_segments:
            parts.append(f"deleted segments after it: {self.deleted_segments}")
        if self.rebuilt_indexes:
            parts.append(f"rebuilt indexes of segments {self.rebuilt_indexes}")
        if self.completed_swaps:
            parts.append(f"completed swaps {self.completed_swaps}")
        if self.removed_files:
            parts.append(f"removed {len(self.removed_files)} leftover file(s)")
        return "; ".join(parts)


def _open(
    directory: Path, base: int, config: LogConfig, now_ms: int, suffix: str = ""
) -> LogSegment:
    return LogSegment.open(
        directory,
        base,
        index_interval_bytes=config.index_interval_bytes,
        max_index_size=config.segment_index_bytes,
        created_ms=now_ms,
        suffix=suffix,
    )


def _remove_leftovers(directory: Path, result: RecoveryResult) -> tuple[list[int], list[int]]:
    """Step 1; returns (live .log base offsets, .log.swap base offsets), sorted."""
    live: set[int] = set()
    swaps: set[int] = set()
    indexes: list[tuple[int, Path]] = []
    for path in directory.iterdir():
        name = path.name
        if name.endswith(files.TMP_SUFFIX):
            path.unlink(missing_ok=True)
            result.removed_files.append(name)
            continue
        parsed = files.parse_segment_file_name(name)
        if parsed is None:
            continue
        if parsed.suffix in (files.DELETED_SUFFIX, files.CLEANED_SUFFIX) or (
            parsed.suffix == files.SWAP_SUFFIX and parsed.kind != files.LOG_SUFFIX
        ):
            path.unlink(missing_ok=True)
            result.removed_files.append(name)
        elif parsed.suffix == files.SWAP_SUFFIX:
            swaps.add(parsed.base_offset)
        elif parsed.kind == files.LOG_SUFFIX:
            live.add(parsed.base_offset)
        else:
            indexes.append((parsed.base_offset, path))
    for base, path in indexes:
        if base not in live:
            path.unlink(missing_ok=True)
            result.removed_files.append(path.name)
    return sorted(live), sorted(swaps)


def _open_checked(
    directory: Path, base: int, config: LogConfig, now_ms: int, result: RecoveryResult
) -> LogSegment:
    """Step 2 for one segment."""
    had_indexes = all(
        files.segment_file(directory, base, kind).exists()
        for kind in (files.INDEX_SUFFIX, files.TIME_INDEX_SUFFIX)
    )
    segment = _open(directory, base, config, now_ms)
    try:
        if not had_indexes and segment.size:
            raise CorruptIndexError("missing index file")
        segment.offset_index.sanity_check(segment.size)
        segment.time_index.sanity_check(segment.next_offset())
    except CorruptIndexError as exc:
        log.warning("%s segment %d: %s; rebuilding its indexes", directory.name, base, exc)
        result.rebuilt_indexes.append(base)
        truncated = segment.recover()
        if truncated:
            result.truncated_bytes += truncated
            result.truncated_at = segment.next_offset()
    return segment


def _complete_swaps(
    directory: Path,
    *,
    segments: list[LogSegment],
    swaps: list[int],
    config: LogConfig,
    now_ms: int,
    result: RecoveryResult,
) -> list[LogSegment]:
    """Step 3."""
    for base in swaps:
        swap = _open(directory, base, config, now_ms, files.SWAP_SUFFIX)
        swap.recover()
        end = swap.next_offset()
        keep: list[LogSegment] = []
        for seg in segments:
            if base <= seg.base_offset < max(end, base + 1):
                seg.delete_files()
            else:
                keep.append(seg)
        swap.change_suffix("")
        keep.append(swap)
        segments = sorted(keep, key=lambda s: s.base_offset)
        result.completed_swaps.append(base)
    return segments


def load_segments(
    directory: Path,
    config: LogConfig,
    now_ms: int,
    *,
    recovery_point: int,
    log_start_offset: int,
    clean_shutdown: bool,
) -> tuple[list[LogSegment], RecoveryResult]:
    """Open, check and (after an unclean stop) recover a partition directory's segments.

    Returns the live segments ordered by base offset (at least one: an empty log gets a segment
    at `log_start_offset`) and what was done. The last segment is ready for appends.
    """
    result = RecoveryResult(directory, clean_shutdown)
    live, swaps = _remove_leftovers(directory, result)
    segments = [_open_checked(directory, base, config, now_ms, result) for base in live]
    if swaps:
        segments = _complete_swaps(
            directory, segments=segments, swaps=swaps, config=config, now_ms=now_ms, result=result
        )
    if not clean_shutdown and segments:
        first = 0
        for i, seg in enumerate(segments):
            if seg.base_offset <= recovery_point:
                first = i
        for i in range(first, len(segments)):
            seg = segments[i]
            result.recovered_segments.append(seg.base_offset)
            truncated = seg.recover()
            if truncated:
                result.truncated_bytes += truncated
                result.truncated_at = seg.next_offset()
                for later in segments[i + 1 :]:
                    result.deleted_segments.append(later.base_offset)
                    later.delete_files()
                del segments[i + 1 :]
                break
    if not segments:
        segments.append(_open(directory, log_start_offset, config, now_ms))
    segments[-1].resize_indexes(config.segment_index_bytes)
    return segments, result
