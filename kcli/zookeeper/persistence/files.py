"""File names, the 16-byte FileHeader and small I/O helpers shared by the txn log and snapshots.

Names are ZooKeeper's (`Util.makeLogName` / `makeSnapshotName`): the zxid in lowercase hex,
no padding, so files sort by zxid only after parsing the suffix.

    <dataDir>/version-2/log.<zxid of the first txn in the file>
    <dataDir>/version-2/snapshot.<zxid of the last txn applied to the tree>

FileHeader (jute, big-endian):  magic int32 | version int32 (= 2) | dbid int64 (= 0)
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

from kcli.errors import TerseError

VERSION_DIR = "version-2"
LOG_PREFIX = "log"
SNAPSHOT_PREFIX = "snapshot"

TXNLOG_MAGIC = 0x5A4B4C47  # b"ZKLG"
SNAP_MAGIC = 0x5A4B534E  # b"ZKSN"
FORMAT_VERSION = 2
DB_ID = 0
FILE_HEADER = struct.Struct(">iiq")

_HEX = re.compile(r"[0-9a-fA-F]{1,16}")


class CorruptLogError(TerseError):
    """Stored data that cannot be explained by a crash; start-up must stop.

    A torn tail of the newest log file is expected after a crash and is repaired silently;
    this is for damage in the middle of the history (a non-last log file, a foreign file).
    """


def log_name(zxid: int) -> str:
    return f"{LOG_PREFIX}.{zxid:x}"


def snapshot_name(zxid: int) -> str:
    return f"{SNAPSHOT_PREFIX}.{zxid:x}"


def zxid_from_name(name: str, prefix: str) -> int | None:
    """The zxid in `<prefix>.<hex>`, or None for any other name (ZooKeeper's getZxidFromName)."""
    parts = name.split(".")
    if len(parts) != 2 or parts[0] != prefix or not _HEX.fullmatch(parts[1]):
        return None
    zxid = int(parts[1], 16)
    return zxid if zxid < 1 << 63 else None


def list_files(directory: Path, prefix: str) -> list[tuple[int, Path]]:
    """`(zxid, path)` of every `<prefix>.<hex>` file in `directory`, oldest first."""
    found = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        zxid = zxid_from_name(name, prefix)
        if zxid is not None:
            found.append((zxid, directory / name))
    found.sort()
    return found


def pack_file_header(magic: int) -> bytes:
    return FILE_HEADER.pack(magic, FORMAT_VERSION, DB_ID)


def fsync_dir(directory: Path) -> None:
    """Make a create, rename or unlink in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
