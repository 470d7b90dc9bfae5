"""Durable state of the embedded ZooKeeper: transaction log and snapshots, in ZooKeeper's format.

A kcli data dir is laid out like an Apache ZooKeeper 3.x data dir, file for file, so the same
tools read both (ZooKeeper's TxnLogToolkit prints kcli's logs; FileTxnLog reads ZooKeeper's):

    <dataDir>/.lock                       flock held by the running server (kcli only)
    <dataDir>/version-2/log.<zxid>        txns, <zxid> = first zxid in the file, lowercase hex
    <dataDir>/version-2/snapshot.<zxid>   the tree, <zxid> = last zxid applied to it

Byte layouts (big-endian jute; details beside the code in txnlog.py and snap.py):

    FileHeader  magic int32 ("ZKLG" log / "ZKSN" snapshot) | version int32 2 | dbid int64 0
    log entry   checksum int64 (Adler32 of txn) | txnLen int32 | txn bytes | EOR byte 'B'
                after the last entry: end of file, or zeros (checksum 0 and txnLen 0)
    snapshot    FileHeader | payload | checksum int64 (Adler32 of all bytes before it)
                | jute string "/"

The txn bytes start with the jute TxnHeader (clientId int64, cxid int32, zxid int64, time int64,
type int32); FileTxnLog reads each entry's zxid at byte offset 12 and relies on nothing else.

What a restart rebuilds (the server's job, with these pieces):
    1. `FileSnap.latest()`: the newest snapshot whose checksum verifies (damaged ones skipped).
    2. `FileTxnLog(data_dir)` repairs the newest log file: a torn or half-written last entry
       (short read, checksum mismatch, missing EOR, zero padding) ends the log there and is
       truncated away; a newest file with no complete entry is deleted. Every commit() that
       returned before the crash survives. Damage in an older file raises CorruptLogError
       from read_from(), as it cannot come from a crash.
    3. `read_from(snapshot_zxid + 1)` replays the txns after the snapshot; the next zxid
       follows `max(snapshot zxid, last_zxid)`. The first append after opening starts a new
       log file, as ZooKeeper does after every restart.

Threading: `FileTxnLog.append()` does no I/O (encode + buffer under a lock) and is called from
the event-loop thread; `commit()` (write + fsync of everything buffered) runs in one worker
thread at a time, which is how concurrent writes share one fsync (group commit). `roll()` may
be called from the loop thread at any time: entries appended before it stay in the old file.
`FileSnap` and `DataDirLock` are called from one thread at a time.
"""

from kcli.zookeeper.persistence.datadir import DataDirLock, check_data_dir
from kcli.zookeeper.persistence.files import (
    VERSION_DIR,
    CorruptLogError,
    log_name,
    snapshot_name,
    zxid_from_name,
)
from kcli.zookeeper.persistence.snap import DamagedSnapshotError, FileSnap, unseal
from kcli.zookeeper.persistence.txnlog import FileTxnLog

__all__ = [
    "VERSION_DIR",
    "CorruptLogError",
    "DamagedSnapshotError",
    "DataDirLock",
    "FileSnap",
    "FileTxnLog",
    "check_data_dir",
    "log_name",
    "snapshot_name",
    "unseal",
    "zxid_from_name",
]
