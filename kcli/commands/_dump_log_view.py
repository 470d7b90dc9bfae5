"""Rendering for `kcli dump-log`: Kafka's DumpLogSegments lines (stdout), its error summaries
(stderr), and a JSON form of the same facts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kcli.commands import _dump_log_files as files
from kcli.commands._dump_log_files import BatchDump
from kcli.protocol.batch import BatchHeader, TimestampType
from kcli.protocol.offsets_json import decode_record
from kcli.protocol.records import (
    ControlRecordType,
    CorruptRecordError,
    Record,
    parse_control_type,
    parse_end_txn_marker,
)

INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Options:
    deep: bool = False
    print_contents: bool = False
    offsets_decoder: bool = False
    verify_only: bool = False
    sanity_only: bool = False
    max_bytes: int = INT_MAX
    skip_metadata: bool = False


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"files": self.items, "errors": self.errors}


def _ts_type(header: BatchHeader) -> str:
    return (
        "LogAppendTime" if header.timestamp_type == TimestampType.LOG_APPEND_TIME else "CreateTime"
    )


def _bool(v: bool) -> str:
    return "true" if v else "false"


def batch_line(b: BatchDump) -> str:
    h = b.header
    horizon = f"OptionalLong[{h.base_timestamp}]" if h.has_delete_horizon else "OptionalLong.empty"
    return (
        f"baseOffset: {h.base_offset} lastOffset: {h.last_offset} count: {h.records_count} "
        f"baseSequence: {h.base_sequence} lastSequence: {h.last_sequence} "
        f"producerId: {h.producer_id} producerEpoch: {h.producer_epoch} "
        f"partitionLeaderEpoch: {h.partition_leader_epoch} isTransactional: "
        f"{_bool(h.is_transactional)} isControl: {_bool(h.is_control)} deleteHorizonMs: {horizon} "
        f"position: {b.position} {_ts_type(h)}: {h.max_timestamp} size: {h.size} "
        f"magic: {h.magic} compresscodec: {h.compression.name.lower()} crc: {h.crc} "
        f"isvalid: {_bool(b.is_valid)}"
    )


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _control_text(rec: Record) -> str:
    try:
        type_id = parse_control_type(rec.key)
        if type_id in (ControlRecordType.ABORT, ControlRecordType.COMMIT):
            marker = parse_end_txn_marker(rec)
            return (
                f" endTxnMarker: {marker.control_type.name} "
                f"coordinatorEpoch: {marker.coordinator_epoch}"
            )
        known = {t.value: t.name for t in ControlRecordType}
        name = known.get(type_id, "UNKNOWN")
        return f" controlType: {name}({type_id})"
    except CorruptRecordError as exc:
        return f" controlType: UNKNOWN ({exc})"


def _contents(rec: Record, opts: Options) -> tuple[str | None, str | None]:
    if opts.offsets_decoder:
        return decode_record(rec.key, rec.value, rec.offset)
    key = None if rec.key is None else _text(rec.key)
    return key, (None if rec.value is None else _text(rec.value))


def record_line(b: BatchDump, rec: Record, opts: Options) -> str:
    out = ""
    prefix = "| "
    if not opts.skip_metadata:
        header_keys = ",".join(k for k, _ in rec.headers)
        out += (
            f"{prefix}offset: {rec.offset} {_ts_type(b.header)}: {rec.timestamp} "
            f"keySize: {rec.key_size} valueSize: {rec.value_size} "
            f"sequence: {rec.sequence} headerKeys: [{header_keys}]"
        )
        prefix = " "
        if b.header.is_control:
            out += _control_text(rec)
    if opts.print_contents and not b.header.is_control:
        key, payload = _contents(rec, opts)
        if key is not None:
            out += f"{prefix}key: {key}"
        if payload is not None:
            out += f" payload: {payload}"
    return out


def _batch_json(b: BatchDump, opts: Options) -> dict[str, Any]:
    h = b.header
    item: dict[str, Any] = {
        "baseOffset": h.base_offset,
        "lastOffset": h.last_offset,
        "count": h.records_count,
        "baseSequence": h.base_sequence,
        "lastSequence": h.last_sequence,
        "producerId": h.producer_id,
        "producerEpoch": h.producer_epoch,
        "partitionLeaderEpoch": h.partition_leader_epoch,
        "isTransactional": h.is_transactional,
        "isControl": h.is_control,
        "deleteHorizonMs": h.base_timestamp if h.has_delete_horizon else None,
        "position": b.position,
        "timestampType": _ts_type(h),
        "maxTimestamp": h.max_timestamp,
        "size": h.size,
        "magic": h.magic,
        "compresscodec": h.compression.name.lower(),
        "crc": h.crc,
        "isvalid": b.is_valid,
    }
    if opts.deep:
        records = []
        for rec in b.records:
            r: dict[str, Any] = {
                "offset": rec.offset,
                "timestamp": rec.timestamp,
                "keySize": rec.key_size,
                "valueSize": rec.value_size,
                "sequence": rec.sequence,
                "headerKeys": [k for k, _ in rec.headers],
            }
            if opts.print_contents and not h.is_control:
                r["key"], r["payload"] = _contents(rec, opts)
            records.append(r)
        item["records"] = records
        if b.error:
            item["error"] = b.error
    return item


def dump_log(path: Path, opts: Options, report: Report) -> None:
    base = files.base_offset_of(path)
    with path.open("rb") as f:
        data = f.read(opts.max_bytes)
    size = path.stat().st_size
    dump = files.read_log(data, base, opts.deep)
    report.lines.append(f"Starting offset: {base if base is not None else 0}")
    for b in dump.batches:
        report.lines.append(batch_line(b))
        for rec in b.records:
            report.lines.append(record_line(b, rec, opts))
        if b.error:
            report.lines.append(f"| corrupt records in batch at position {b.position}: {b.error}")
    if dump.corrupt_header:
        report.lines.append(dump.corrupt_header)
    valid = size - dump.invalid_bytes - max(size - len(data), 0)
    trailing = size - valid
    if trailing > 0 and opts.max_bytes == INT_MAX:
        report.lines.append(f"Found {trailing} invalid bytes at the end of {path.name}")
    if dump.non_consecutive:
        report.errors.append(f"Non-consecutive offsets in {os.path.abspath(path)}")
        report.errors.extend(f"  {a} is followed by {b}" for a, b in dump.non_consecutive)
    report.items.append(
        {
            "file": str(path),
            "kind": "log",
            "startingOffset": base,
            "batches": [_batch_json(b, opts) for b in dump.batches],
            "invalidBytes": trailing if opts.max_bytes == INT_MAX else None,
        }
    )


def _read_log_sibling(path: Path, report: Report) -> bytes | None:
    log_path = files.sibling(path, files.LOG)
    if not log_path.is_file():
        report.errors.append(f"{log_path} not found: index entries are not checked against it")
        return None
    return log_path.read_bytes()


def _sanity(path: Path, problem: str | None, item: dict[str, Any], report: Report) -> None:
    """Kafka runs the broker's index sanity check and fails loudly (exit 1 here)."""
    item["sanityCheck"] = problem or "passed"
    if problem:
        report.errors.append(problem)
        report.failed = True
    else:
        report.lines.append(f"{path} passed sanity check.")


def dump_index(path: Path, opts: Options, report: Report) -> None:
    base = files.base_offset_of(path) or 0
    raw = path.read_bytes()
    entries = files.read_offset_index(raw, base)
    item: dict[str, Any] = {"file": str(path), "kind": "index", "entries": []}
    report.items.append(item)
    if not entries:
        report.lines.append(f"{path} is empty.")
        return
    if opts.sanity_only:
        _sanity(path, files.offset_index_sanity(path, len(raw), entries, base), item, report)
        return
    log = _read_log_sibling(path, report)
    mismatches = []
    for offset, position in entries:
        if log is not None:
            found = files.first_batch_last_offset(log, position)
            if found != offset:
                mismatches.append((offset, -1 if found is None else found))
        if not opts.verify_only:
            report.lines.append(f"offset: {offset} position: {position}")
        item["entries"].append({"offset": offset, "position": position})
    item["mismatches"] = [{"indexOffset": a, "logOffset": b} for a, b in mismatches]
    if mismatches:
        # Kafka prepends each mismatch to a list, so they print last first.
        report.errors.append(f"Mismatches in :{os.path.abspath(path)}")
        report.errors.extend(
            f"  Index offset: {a}, log offset: {b}" for a, b in reversed(mismatches)
        )


def dump_time_index(path: Path, opts: Options, report: Report) -> None:
    base = files.base_offset_of(path) or 0
    raw = path.read_bytes()
    entries = files.read_time_index(raw, base)
    item: dict[str, Any] = {"file": str(path), "kind": "timeindex", "entries": []}
    report.items.append(item)
    if opts.sanity_only:
        _sanity(path, files.time_index_sanity(path, len(raw), entries, base), item, report)
        return
    log = _read_log_sibling(path, report)
    index_path = files.sibling(path, files.INDEX)
    index = files.read_offset_index(index_path.read_bytes(), base) if index_path.is_file() else []
    mismatched: list[str] = []
    out_of_order: list[str] = []
    not_found: list[str] = []
    prev = -1
    for timestamp, offset in entries:
        if log is not None:
            last, max_ts = files.batch_max_timestamp_at(log, index, offset)
            if max_ts is None:
                not_found.append(f"Indexed offset: {offset}, found log offset: {last}")
            else:
                if max_ts != timestamp:
                    mismatched.append(f"  Index timestamp: {timestamp}, log timestamp: {max_ts}")
                if prev >= timestamp:
                    out_of_order.append(
                        f"  Index timestamp: {timestamp}, Previously indexed timestamp: {prev}"
                    )
        if not opts.verify_only:
            report.lines.append(f"timestamp: {timestamp} offset: {offset}")
        item["entries"].append({"timestamp": timestamp, "offset": offset})
        prev = timestamp
    where = os.path.abspath(path)
    if mismatched:
        report.errors += [f"Found timestamp mismatch in :{where}", *mismatched]
    if out_of_order:
        report.errors += [f"Found out of order timestamp in :{where}", *out_of_order]
    if not_found:
        report.errors += ["The following indexed offsets are not found in the log.", *not_found]


def dump_files(paths: list[Path], opts: Options) -> Report:
    report = Report()
    for path in paths:
        report.lines.append(f"Dumping {path}")
        kind = files.file_kind(path)
        if kind == files.LOG:
            dump_log(path, opts, report)
        elif kind == files.INDEX:
            dump_index(path, opts, report)
        elif kind == files.TIME_INDEX:
            dump_time_index(path, opts, report)
        else:
            report.errors.append(f"Ignoring unknown file {path}")
    return report
