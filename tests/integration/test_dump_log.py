"""`kcli dump-log` as a real process on files in a temp dir."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest

from kcli.protocol.batch import Compression, TimestampType
from kcli.protocol.offsets_schema import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    OffsetCommitValue,
    encode_group_metadata_value,
    encode_key,
    encode_offset_commit_value,
)
from kcli.protocol.records import ControlRecordType, Record, build_batch, build_end_txn_batch
from kcli.testing.process import kcli_argv

pytestmark = pytest.mark.integration
TS = 1_700_000_000_000


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(kcli_argv("dump-log", *args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def segment(tmp_path: Path) -> Path:
    """Three batches (plain, gzip with producer state, a COMMIT marker) and a torn tail."""
    first = build_batch(
        [Record(b"K1", b"V5", TS), Record(b"K5", b"V2", TS + 1, (("h", b"1"), ("g", None)))], 0
    )
    second = build_batch(
        [Record(None, b"hello", TS + 2)],
        2,
        compression=Compression.GZIP,
        producer_id=4,
        producer_epoch=0,
        base_sequence=0,
        is_transactional=True,
    )
    marker = build_end_txn_batch(
        ControlRecordType.COMMIT, 4, 0, coordinator_epoch=3, base_offset=3, timestamp=TS + 3
    )
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(first + second + marker + marker[:20])
    # offset index entry for the 2nd batch (relative offset 2 -> position of batch 2), then zeros
    (tmp_path / "00000000000000000000.index").write_bytes(
        struct.pack(">ii", 2, len(first)) + bytes(16)
    )
    (tmp_path / "00000000000000000000.timeindex").write_bytes(
        struct.pack(">qi", TS + 1, 1) + struct.pack(">qi", TS + 2, 2) + bytes(12)
    )
    return path


def test_log_batches_records_and_torn_tail(segment: Path) -> None:
    res = run("--files", str(segment), "--print-data-log")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"Dumping {segment}"
    assert lines[1] == "Starting offset: 0"
    assert lines[2] == (
        "baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 "
        "producerEpoch: -1 partitionLeaderEpoch: -1 isTransactional: false isControl: false "
        f"deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: {TS + 1} size: 90 magic: 2 "
        f"compresscodec: none crc: {_crc(segment, 0)} isvalid: true"
    )
    assert lines[3] == (
        f"| offset: 0 CreateTime: {TS} keySize: 2 valueSize: 2 sequence: -1 headerKeys: [] "
        "key: K1 payload: V5"
    )
    assert lines[4].endswith("headerKeys: [h,g] key: K5 payload: V2")
    assert "compresscodec: gzip" in lines[5] and "producerId: 4" in lines[5]
    assert "isTransactional: true" in lines[5] and "lastSequence: 0" in lines[5]
    assert lines[6].endswith("sequence: 0 headerKeys: [] payload: hello")
    assert "isControl: true" in lines[7]
    assert lines[8].endswith("endTxnMarker: COMMIT coordinatorEpoch: 3")
    assert lines[9] == f"Found 20 invalid bytes at the end of {segment.name}"


def test_batch_headers_only_without_deep_iteration(segment: Path) -> None:
    res = run("--files", str(segment))
    assert [ln.split(" ")[0] for ln in res.stdout.splitlines()] == [
        "Dumping",
        "Starting",
        "baseOffset:",
        "baseOffset:",
        "baseOffset:",
        "Found",
    ]
    deep = run("--files", str(segment), "--deep-iteration").stdout
    assert "| offset: 2" in deep and "payload" not in deep


def test_corrupt_batch_is_reported_not_fatal(segment: Path) -> None:
    data = bytearray(segment.read_bytes())
    data[80] ^= 0xFF  # inside the first batch's records
    segment.write_bytes(bytes(data))
    res = run("--files", str(segment), "--deep-iteration")
    assert res.returncode == 0, res.stderr
    assert "isvalid: false" in res.stdout.splitlines()[2]
    assert "Traceback" not in res.stderr


def test_indexes_and_sanity_check(segment: Path) -> None:
    index = segment.with_suffix(".index")
    timeindex = segment.with_suffix(".timeindex")
    res = run("--files", f"{index},{timeindex}")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        f"Dumping {index}",
        "offset: 2 position: 90",
        f"Dumping {timeindex}",
        f"timestamp: {TS + 1} offset: 1",
        f"timestamp: {TS + 2} offset: 2",
    ]
    # The time index entry for offset 1 points inside a batch ending at 1: consistent.
    assert res.stderr == ""
    sane = run("--files", str(index), "--index-sanity-check")
    assert sane.stdout.splitlines()[-1] == f"{index} passed sanity check."
    index.write_bytes(struct.pack(">ii", 1, 0) + b"\x00\x00\x00")  # not a multiple of 8
    bad = run("--files", str(index), "--index-sanity-check")
    assert bad.returncode == 1
    assert "is corrupt, found 11 bytes" in bad.stderr


def test_verify_index_only_reports_mismatches(segment: Path) -> None:
    index = segment.with_suffix(".index")
    index.write_bytes(struct.pack(">ii", 1, 90))  # the batch at 90 ends at offset 2, not 1
    res = run("--files", str(index), "--verify-index-only")
    assert res.stdout.splitlines() == [f"Dumping {index}"]
    assert f"Mismatches in :{index.resolve()}" in res.stderr
    assert "  Index offset: 1, log offset: 2" in res.stderr


def test_offsets_decoder(tmp_path: Path) -> None:
    key = encode_key(OffsetCommitKey("grp", "lab", 0))
    value = encode_offset_commit_value(OffsetCommitValue(5, "", TS, leader_epoch=0))
    group = encode_group_metadata_value(GroupMetadataValue("consumer", 1, "range", "m", ()))
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(
        build_batch(
            [
                Record(key, value, TS),
                Record(encode_key(GroupMetadataKey("grp")), group, TS),
                Record(key, None, TS),
            ],
            0,
            timestamp_type=TimestampType.LOG_APPEND_TIME,
            max_timestamp=TS,
        )
    )
    res = run("--offsets-decoder", "--files", str(path))
    lines = res.stdout.splitlines()
    assert lines[3].endswith(
        'key: {"type":"1","data":{"group":"grp","topic":"lab","partition":0}} payload: '
        '{"version":"3","data":{"offset":5,"leaderEpoch":0,"metadata":"",'
        f'"commitTimestamp":{TS}}}}}'
    )
    assert lines[3].startswith(f"| offset: 0 LogAppendTime: {TS} ")
    assert 'key: {"type":"2","data":{"group":"grp"}} payload: {"version":"3"' in lines[4]
    assert lines[5].endswith("payload: <DELETE>")
    # Non-consecutive offsets are not reported for this dense batch.
    assert "Non-consecutive" not in res.stderr


def test_json_format_and_max_bytes(segment: Path) -> None:
    res = run("--files", str(segment), "--print-data-log", "--format", "json", "--max-bytes", "200")
    data = json.loads(res.stdout)
    (item,) = data["files"]
    assert [b["baseOffset"] for b in item["batches"]] == [0, 2]  # the third ends past byte 200
    assert item["batches"][0]["records"][1] == {
        "offset": 1,
        "timestamp": TS + 1,
        "keySize": 2,
        "valueSize": 2,
        "sequence": -1,
        "headerKeys": ["h", "g"],
        "key": "K5",
        "payload": "V2",
    }
    assert item["invalidBytes"] is None


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    res = run("--files", str(tmp_path / "00000000000000000000.log"))
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.strip().splitlines() == [
        f"Error: {tmp_path / '00000000000000000000.log'}: no such file"
    ]
    other = tmp_path / "notes.txt"
    other.write_text("x")
    res = run("--files", str(other))
    assert res.returncode == 0
    assert res.stderr.strip() == f"Ignoring unknown file {other}"


def _crc(path: Path, pos: int) -> int:
    return int(struct.unpack_from(">I", path.read_bytes(), pos + 17)[0])


def test_segment_written_by_the_storage_log_and_cleaned(tmp_path: Path) -> None:
    """A real partition directory: Log.append with a small index interval, then compaction."""
    from kcli.clock import MockClock
    from kcli.storage.cleaner import LogCleaner
    from kcli.storage.config import LogConfig
    from kcli.storage.log import Log

    clock = MockClock(TS + 10_000)
    config = LogConfig(
        cleanup_policy=("compact",), index_interval_bytes=100, segment_index_bytes=4096
    )
    lg = Log.open(tmp_path / "lab-0", config, clock=clock)
    for i in range(12):
        value = None if i == 11 else f"v{i}".encode()
        lg.append(bytearray(build_batch([Record(f"K{i % 3}".encode(), value, TS + i)])))
    lg.roll()
    seg = tmp_path / "lab-0" / "00000000000000000000"
    files = [f"{seg}.log", f"{seg}.index", f"{seg}.timeindex"]
    res = run("--files", ",".join(files), "--deep-iteration")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # index entries agree with the log
    out = res.stdout.splitlines()
    assert sum(ln.startswith("baseOffset:") for ln in out) == 12
    assert sum(ln.startswith("| offset:") for ln in out) == 12
    index_lines = out[out.index(f"Dumping {seg}.index") + 1 : out.index(f"Dumping {seg}.timeindex")]
    assert index_lines and all(ln.startswith("offset: ") for ln in index_lines)
    assert out[-1].startswith("timestamp: ")
    verify = run("--files", f"{seg}.index,{seg}.timeindex", "--verify-index-only")
    assert verify.stdout.splitlines() == [f"Dumping {seg}.index", f"Dumping {seg}.timeindex"]
    assert verify.stderr == ""

    assert LogCleaner(clock).clean_log(lg).cleaned
    lg.close()
    res = run("--files", f"{seg}.log", "--print-data-log")
    records = [ln for ln in res.stdout.splitlines() if ln.startswith("| ")]
    assert [ln.split()[2] for ln in records] == ["9", "10", "11"]
    assert records[-1].endswith("valueSize: -1 sequence: -1 headerKeys: [] key: K2")
    tomb_batch = [ln for ln in res.stdout.splitlines() if ln.startswith("baseOffset: 11 ")]
    assert f"deleteHorizonMs: OptionalLong[{TS + 10_000 + 86_400_000}]" in tomb_batch[0]
    assert "Non-consecutive offsets" not in res.stderr  # 9, 10, 11 are consecutive


def test_non_consecutive_offsets_reported(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000000.log"
    path.write_bytes(
        build_batch([Record(b"a", b"1", TS)], 0) + build_batch([Record(b"b", b"2", TS)], 5)
    )
    res = run("--files", str(path), "--deep-iteration")
    assert res.returncode == 0
    assert res.stderr.splitlines() == [
        f"Non-consecutive offsets in {path.resolve()}",
        "  0 is followed by 5",
    ]
