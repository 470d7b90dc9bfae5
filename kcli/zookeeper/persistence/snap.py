"""FileSnap: ZooKeeper's snapshot files, and purging old snapshots and logs (PurgeTxnLog).

One snapshot file (`snapshot.<zxid hex>`, zxid = last txn applied to the tree it holds):

    FileHeader   magic int32 "ZKSN" | version int32 2 | dbid int64 0          16 bytes
    payload      the serialized sessions and tree (opaque here)
    seal         checksum int64, then the jute string "/" (int32 1, byte '/')  13 bytes

The checksum is Adler32 over every byte before it, FileHeader included: ZooKeeper runs the whole
stream through one CheckedOutputStream (checked against a snapshot written by ZooKeeper 3.8).
ZooKeeper 3.6+ appends more sealed records after the first seal (a digest: zxid int64,
version int32, digest int64, then a seal again over everything before it); we read such files,
taking the payload up to the first seal, and write none. Compressed snapshots
(`snapshot.<zxid>.gz`/`.snappy`) are not recognised.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

from kcli.zookeeper.persistence.files import (
    FILE_HEADER,
    FORMAT_VERSION,
    LOG_PREFIX,
    SNAP_MAGIC,
    SNAPSHOT_PREFIX,
    VERSION_DIR,
    fsync_dir,
    list_files,
    pack_file_header,
    snapshot_name,
    zxid_from_name,
)

log = logging.getLogger("org.apache.zookeeper.server.persistence.FileSnap")

SEAL_PATH = b"\x00\x00\x00\x01/"  # jute string "/"
CHECKSUM = struct.Struct(">q")
SEAL_LEN = CHECKSUM.size + len(SEAL_PATH)
MIN_RETAIN_COUNT = 3  # PurgeTxnLog refuses fewer
TMP_SUFFIX = ".tmp"  # AtomicFileOutputStream's temporary name


class DamagedSnapshotError(ValueError):
    """A snapshot file that does not verify; `latest()` skips it."""


def _seal(checksum: int) -> bytes:
    return CHECKSUM.pack(checksum) + SEAL_PATH


def unseal(data: bytes) -> bytes:
    """The payload of a whole snapshot file's bytes, after checking header and checksums."""
    if len(data) < FILE_HEADER.size + SEAL_LEN:
        raise DamagedSnapshotError(f"{len(data)} bytes is too short for a snapshot")
    magic, version, _dbid = FILE_HEADER.unpack_from(data)
    if magic != SNAP_MAGIC:
        raise DamagedSnapshotError(f"bad magic {magic & 0xFFFFFFFF:#x}")
    if version != FORMAT_VERSION:
        raise DamagedSnapshotError(f"unsupported snapshot format version {version}")
    view = memoryview(data)
    final = len(data) - SEAL_LEN
    if not data.endswith(SEAL_PATH):
        raise DamagedSnapshotError("no end-of-snapshot seal")
    if CHECKSUM.unpack_from(data, final)[0] != zlib.adler32(view[:final]):
        raise DamagedSnapshotError("checksum mismatch")
    # The final seal covers every byte; the payload ends at the first seal (ZooKeeper 3.6+
    # appends sealed extras). A seal is 8 bytes equal to the running Adler32, then "/".
    running = zlib.adler32(view[: FILE_HEADER.size])
    done = FILE_HEADER.size
    at = data.find(SEAL_PATH, done + CHECKSUM.size)
    while 0 <= at <= final + CHECKSUM.size:
        start = at - CHECKSUM.size
        running = zlib.adler32(view[done:start], running)
        done = start
        if CHECKSUM.unpack_from(data, start)[0] == running:
            return data[FILE_HEADER.size : start]
        at = data.find(SEAL_PATH, at + 1)
    raise AssertionError("unreachable: the final seal verified")


class FileSnap:
    """Snapshots under `<data_dir>/version-2`. Call from one thread at a time.

    `data_log_dir` (ZooKeeper's dataLogDir) is where `purge` looks for txn logs; it defaults
    to `data_dir`.
    """

    def __init__(self, data_dir: Path, *, data_log_dir: Path | None = None) -> None:
        self.snap_dir = Path(data_dir) / VERSION_DIR
        self.snap_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = Path(data_log_dir) / VERSION_DIR if data_log_dir else self.snap_dir

    def save(self, zxid: int, snapshot: bytes) -> Path:
        """Write `snapshot.<zxid>` atomically: temp file, fsync, rename, fsync the directory."""
        header = pack_file_header(SNAP_MAGIC)
        checksum = zlib.adler32(snapshot, zlib.adler32(header))
        path = self.snap_dir / snapshot_name(zxid)
        tmp = path.with_name(path.name + TMP_SUFFIX)
        with open(tmp, "wb") as f:
            f.write(header)
            f.write(snapshot)
            f.write(_seal(checksum))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(self.snap_dir)
        return path

    def latest(self) -> tuple[int, bytes] | None:
        """`(zxid, payload)` of the newest snapshot that verifies; damaged ones are skipped."""
        for zxid, path in reversed(list_files(self.snap_dir, SNAPSHOT_PREFIX)):
            payload = self._read(path)
            if payload is not None:
                return zxid, payload
        return None

    def purge(self, retain_count: int) -> list[Path]:
        """Keep the newest `retain_count` valid snapshots and the logs needed to replay from the
        oldest of them; delete older snapshots and logs. Returns what was deleted.

        As PurgeTxnLog: with X the oldest kept snapshot's zxid, delete snapshots below X and logs
        below X except the newest log named at or below X (it may hold txns after X). A snapshot
        counts as kept only if its checksum verifies (ZooKeeper checks just its last bytes).
        """
        if retain_count < MIN_RETAIN_COUNT:
            raise ValueError(f"snapRetainCount must be at least {MIN_RETAIN_COUNT}")
        kept: list[int] = []
        for zxid, path in reversed(list_files(self.snap_dir, SNAPSHOT_PREFIX)):
            if len(kept) == retain_count:
                break
            if self._read(path) is not None:
                kept.append(zxid)
        if not kept:
            return []
        oldest = kept[-1]
        logs = list_files(self.log_dir, LOG_PREFIX)
        needed = max((zxid for zxid, _ in logs if zxid <= oldest), default=None)
        doomed = [path for zxid, path in logs if zxid < oldest and zxid != needed]
        doomed += [
            path for zxid, path in list_files(self.snap_dir, SNAPSHOT_PREFIX) if zxid < oldest
        ]
        doomed += [path for path in self._stale_temp_files() if _tmp_zxid(path) < oldest]
        for path in doomed:
            log.info("Removing file: %s", path)
            path.unlink(missing_ok=True)
        for directory in {path.parent for path in doomed}:
            fsync_dir(directory)
        return sorted(doomed)

    def _stale_temp_files(self) -> list[Path]:
        return [
            p for p in self.snap_dir.glob(f"{SNAPSHOT_PREFIX}.*{TMP_SUFFIX}") if _tmp_zxid(p) >= 0
        ]

    def _read(self, path: Path) -> bytes | None:
        try:
            return unseal(path.read_bytes())
        except (OSError, DamagedSnapshotError) as exc:
            log.warning("Skipping snapshot %s: %s", path, exc)
            return None


def _tmp_zxid(path: Path) -> int:
    """The zxid of a leftover `snapshot.<hex>.tmp`, or -1 for any other name."""
    if not path.name.endswith(TMP_SUFFIX):
        return -1
    zxid = zxid_from_name(path.name[: -len(TMP_SUFFIX)], SNAPSHOT_PREFIX)
    return -1 if zxid is None else zxid
