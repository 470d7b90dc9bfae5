"""ZooKeeperServer: the single-node server's composition root and request pipeline.

Pipeline (ZooKeeper's Prep -> Sync -> Final processors, on one event loop):
  1. a write request is prepped into a txn (or an ErrorTxn) and given the next zxid;
  2. the txn is applied to the tree at once, so the next request sees it, and appended to
     the txn log buffer; watch events it triggers are queued on their connections;
  3. the sync thread (sync.py) writes and fsyncs every buffered txn in one commit (one fsync
     for all writes that arrived meanwhile: group commit); when it reports back, held
     replies and events up to that zxid are released.
Reads are answered from the tree right away but also wait for the zxid they saw to be
durable. Sessions expire in tickTime buckets (sessions.py); expiry is a logged closeSession.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from kcli.clock import SYSTEM_CLOCK, Clock
from kcli.errors import TerseError
from kcli.zookeeper import fourletter, handshake
from kcli.zookeeper.codes import KeeperError, OpCode, Xid
from kcli.zookeeper.config import ZooKeeperConfig
from kcli.zookeeper.connection import ServerCnxn
from kcli.zookeeper.database import ZKDatabase
from kcli.zookeeper.datatree import TxnResult
from kcli.zookeeper.final import answer_read, write_response
from kcli.zookeeper.jute import ConnectRequest, RequestHeader
from kcli.zookeeper.persistence import DataDirLock, FileSnap, FileTxnLog
from kcli.zookeeper.prep import empty_containers, prep_close_session, prep_request
from kcli.zookeeper.records import (
    AuthPacket,
    CheckVersionRequest,
    CreateRequest,
    DeleteRequest,
    MultiRequest,
    Request,
    SetACLRequest,
    SetDataRequest,
    SetWatches,
)
from kcli.zookeeper.sessions import SessionTracker
from kcli.zookeeper.sync import SyncRequestProcessor
from kcli.zookeeper.txn import TxnHeader, TxnRecord, encode_txn

log = logging.getLogger("org.apache.zookeeper.server.ZooKeeperServer")

WRITE_REQUESTS = (
    CreateRequest,
    DeleteRequest,
    SetDataRequest,
    SetACLRequest,
    CheckVersionRequest,
    MultiRequest,
)


class ZooKeeperServer:
    def __init__(self, config: ZooKeeperConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.clock = clock
        self.db = ZKDatabase()
        self.stats = fourletter.ServerStats()
        self.connections: set[ServerCnxn] = set()
        self.by_session: dict[int, set[ServerCnxn]] = {}
        self._per_ip: Counter[str] = Counter()
        self._held: set[ServerCnxn] = set()
        self.committed_zxid = 0
        self.applying_zxid = 0
        self.next_zxid = 1
        self.snapshots_taken = 0
        self.fsync_count = 0  # commits (one fsync each) and the txns they carried
        self.fsync_txns = 0
        self.fsync_ms_total = 0.0
        self.port = config.client_port
        self.tracker = SessionTracker(config.tick_time, self.now_ms())
        self._lock = DataDirLock(config.data_dir)
        self._log_lock = DataDirLock(config.data_log_dir) if self._separate_log_dir() else None
        self.txnlog: FileTxnLog | None = None
        self.snap: FileSnap | None = None
        self._sync: SyncRequestProcessor | None = None
        # Snapshots and purges: their own thread, so a snapshot never delays acks.
        self._snap_executor = ThreadPoolExecutor(1, thread_name_prefix="zk-snap")
        self._snap_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._server: asyncio.Server | None = None
        self._stopping = False
        self._txns_since_snap = 0
        self._snap_threshold = self._next_snap_threshold()
        self._started = clock.monotonic()
        self.failed: BaseException | None = None
        self.stopped = asyncio.Event()

    def _separate_log_dir(self) -> bool:
        return self.config.data_log_dir.resolve() != self.config.data_dir.resolve()

    def now_ms(self) -> int:
        return int(self.clock.monotonic() * 1000)

    def uptime_ms(self) -> int:
        return int((self.clock.monotonic() - self._started) * 1000)

    def _next_snap_threshold(self) -> int:
        # ZooKeeper randomises so that servers of an ensemble don't all snapshot at once.
        half = max(self.config.snap_count // 2, 1)
        return half + random.randrange(half)

    # --- lifecycle -----------------------------------------------------------------------

    def load(self) -> None:
        """Lock the data dir(s) and rebuild the tree: newest snapshot + txns after it."""
        self._lock.acquire()
        if self._log_lock is not None:
            self._log_lock.acquire()
        self.snap = FileSnap(self.config.data_dir, data_log_dir=self.config.data_log_dir)
        self.txnlog = FileTxnLog(self.config.data_log_dir)
        latest = self.snap.latest()
        snap_zxid = 0
        if latest is not None:
            snap_zxid, payload = latest
            self.db = ZKDatabase.from_snapshot(payload, snap_zxid)
        replayed = self.db.replay(self.txnlog.read_from(snap_zxid + 1))
        last = max(self.db.last_zxid, self.txnlog.last_zxid)
        self.next_zxid = last + 1
        self.committed_zxid = self.applying_zxid = self.db.last_zxid
        self._txns_since_snap = replayed  # so restarts cannot grow the log unbounded
        # Ephemerals whose session is gone (ZooKeeper's "dead sessions" clean-up at load).
        for owner in [o for o in self.db.tree.ephemerals if o not in self.db.sessions]:
            self.db.tree.kill_session(owner, self.db.last_zxid)
        now = self.now_ms()
        for sid, timeout in self.db.sessions.items():
            self.tracker.add(sid, timeout, now)
        log.info(
            "Loaded snapshot 0x%x and %d txns; last zxid 0x%x, %d sessions restored",
            snap_zxid,
            replayed,
            self.db.last_zxid,
            len(self.db.sessions),
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        host = self.config.client_port_address
        try:
            self._server = await loop.create_server(
                lambda: ServerCnxn(self), host, self.config.client_port, reuse_address=True
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise TerseError(
                    f"port {self.config.client_port} on {host} is already in use"
                ) from None
            raise TerseError(f"cannot listen on {host}:{self.config.client_port}: {exc}") from None
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        log.info("binding to port /%s:%d", host, self.port)
        assert self.txnlog is not None
        self._sync = SyncRequestProcessor(self.txnlog, loop, self._committed, self._fatal)
        self._sync.start()
        self._tasks = [
            asyncio.create_task(self._expirer(), name="zk-expirer"),
            asyncio.create_task(self._container_manager(), name="zk-containers"),
        ]
        if self.config.purge_interval_hours > 0:
            self._tasks.append(asyncio.create_task(self._purger(), name="zk-purger"))

    async def stop(self) -> None:
        """Clean shutdown: stop accepting, commit what is buffered, close files."""
        if self._stopping:
            return
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for c in list(self.connections):
            c.close_now(None)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._snap_task is not None:
            with contextlib.suppress(Exception):
                await self._snap_task  # a snapshot being written is finished, not torn
        if self._sync is not None:
            self._sync.shutdown()
        if self.txnlog is not None and self.failed is None:
            self.txnlog.close()  # commits what is still buffered
        self._snap_executor.shutdown(wait=True)
        self._lock.release()
        if self._log_lock is not None:
            self._log_lock.release()
        log.info("shutdown of ZooKeeper server complete (last zxid 0x%x)", self.db.last_zxid)
        self.stopped.set()

    # --- connections ---------------------------------------------------------------------

    def accept(self, cnxn: ServerCnxn) -> bool:
        if self._stopping:
            return False
        ip = cnxn.remote[0]
        limit = self.config.max_client_cnxns
        if limit and self._per_ip[ip] >= limit:
            log.warning("Too many connections from /%s - max is %d", ip, limit)
            return False
        self._per_ip[ip] += 1
        self.connections.add(cnxn)
        return True

    def connection_closed(self, cnxn: ServerCnxn) -> None:
        if cnxn not in self.connections:
            return
        self.connections.discard(cnxn)
        ip = cnxn.remote[0]
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]
        self._held.discard(cnxn)
        self.db.tree.remove_watcher(cnxn)
        peers = self.by_session.get(cnxn.session_id)
        if peers is not None:
            peers.discard(cnxn)
            if not peers:
                del self.by_session[cnxn.session_id]

    def hold(self, cnxn: ServerCnxn) -> None:
        # A held connection's first message always waits for a requested commit, whose
        # completion (_committed) releases it.
        self._held.add(cnxn)

    def touch(self, cnxn: ServerCnxn) -> bool:
        return self.tracker.touch(cnxn.session_id, self.now_ms())

    def four_letter_word(self, cnxn: ServerCnxn, word: str) -> None:
        log.info("Processing %s command from /%s:%d", word, *cnxn.remote)
        cnxn.write_text(fourletter.answer(self, cnxn, word))

    def handle_connect(self, cnxn: ServerCnxn, req: ConnectRequest) -> None:
        handshake.handle_connect(self, cnxn, req)

    def bind(self, cnxn: ServerCnxn, sid: int) -> None:
        cnxn.session_id = sid
        cnxn.established = True
        cnxn.established_ms = self.clock.time_ms()
        self.by_session.setdefault(sid, set()).add(cnxn)

    # --- requests ------------------------------------------------------------------------

    def process_request(
        self, cnxn: ServerCnxn, hdr: RequestHeader, record: Request, started: float
    ) -> None:
        op = hdr.type
        if op == OpCode.PING:
            cnxn.send_reply(Xid.PING, self.db.last_zxid, 0, started=started)
        elif op == OpCode.CLOSE_SESSION:
            zxid = self.close_session(cnxn.session_id, hdr.xid, requester=cnxn)
            cnxn.send_reply(hdr.xid, zxid, 0, started=started)
            cnxn.close_after(zxid)
        elif op in (OpCode.SET_WATCHES, OpCode.SET_WATCHES2):
            assert isinstance(record, SetWatches)
            self.applying_zxid = self.db.last_zxid
            self.db.tree.set_watches(
                record.relative_zxid,
                record.data,
                record.exist,
                record.child,
                cnxn,
                persistent=record.persistent or (),
                recursive=record.persistent_recursive or (),
            )
            cnxn.send_reply(Xid.SET_WATCHES, self.db.last_zxid, 0, started=started)
        elif op == OpCode.AUTH:
            assert isinstance(record, AuthPacket)
            handshake.authenticate(cnxn, record)
        elif isinstance(record, WRITE_REQUESTS):
            txn_type, txn = prep_request(self.db.tree, op, record, cnxn.session_id, cnxn.auth_ids)
            result, zxid = self.submit(cnxn.session_id, hdr.xid, txn_type, txn)
            err, body = write_response(op, result)
            cnxn.send_reply(hdr.xid, zxid, err, body, started)
        else:
            try:
                body = answer_read(self, cnxn, op, record)
            except KeeperError as exc:
                cnxn.send_reply(hdr.xid, self.db.last_zxid, exc.code, started=started)
            else:
                cnxn.send_reply(hdr.xid, self.db.last_zxid, 0, body, started)

    def submit(self, session_id: int, cxid: int, op: int, txn: TxnRecord) -> tuple[TxnResult, int]:
        """Give a txn the next zxid, apply it, buffer it for the log."""
        zxid = self.next_zxid
        self.next_zxid += 1
        hdr = TxnHeader(session_id, cxid, zxid, self.clock.time_ms(), op)
        self.applying_zxid = zxid
        try:
            result = self.db.process_txn(hdr, txn)
        finally:
            self.applying_zxid = self.db.last_zxid
        assert self.txnlog is not None
        self.txnlog.append(zxid, encode_txn(hdr, txn))
        assert self._sync is not None
        self._sync.request(zxid)
        return result, zxid

    def close_session(
        self, session_id: int, cxid: int = 0, requester: ServerCnxn | None = None
    ) -> int:
        """Log a closeSession (ephemerals go), forget the session, close its connections."""
        self.tracker.set_closing(session_id)
        txn = prep_close_session(self.db.tree, session_id)
        zxid = self.submit(session_id, cxid, OpCode.CLOSE_SESSION, txn)[1]
        self.tracker.remove(session_id)
        for c in self.by_session.pop(session_id, set()):
            if c is not requester:
                c.close_after(zxid)
        return zxid

    # --- background tasks ----------------------------------------------------------------

    def _committed(self, zxid: int, fsync_ms: float) -> None:
        """From the sync thread (via the loop): txns up to `zxid` are durable."""
        if zxid <= self.committed_zxid or self._stopping:
            return
        self.fsync_ms_total += fsync_ms
        self.fsync_count += 1
        self.fsync_txns += zxid - self.committed_zxid
        self._txns_since_snap += zxid - self.committed_zxid
        self.committed_zxid = zxid
        self._release_held()
        if self._txns_since_snap >= self._snap_threshold:
            self._txns_since_snap = 0
            if self._snap_task is None or self._snap_task.done():
                self._snap_task = asyncio.create_task(self._take_snapshot())
            else:
                log.warning("Too busy to snap, skipping")

    def _release_held(self) -> None:
        committed = self.committed_zxid
        for c in list(self._held):
            c.flush_held(committed)
            if not c.held:
                self._held.discard(c)

    async def _take_snapshot(self) -> None:
        assert self.txnlog is not None and self.snap is not None
        self._snap_threshold = self._next_snap_threshold()
        self.txnlog.roll()
        zxid = self.db.last_zxid
        payload = self.db.serialize_snapshot()
        log.info("Creating new log file and snapshot 0x%x", zxid)
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._snap_executor, self.snap.save, zxid, payload
            )
            self.snapshots_taken += 1
        except OSError as exc:
            log.error("Unable to write snapshot 0x%x: %s", zxid, exc)

    async def _expirer(self) -> None:
        while True:
            wait_ms = self.tracker.next_expiration() - self.now_ms()
            await asyncio.sleep(max(wait_ms, 1) / 1000)
            for sid in self.tracker.due(self.now_ms()):
                session = self.tracker.sessions.get(sid)
                log.info(
                    "Expiring session 0x%x, timeout of %dms exceeded",
                    sid,
                    session.timeout if session else 0,
                )
                self.close_session(sid)

    async def _container_manager(self) -> None:
        """Delete containers whose last child went away (ZooKeeper's ContainerManager)."""
        while True:
            await asyncio.sleep(self.config.container_check_interval_ms / 1000)
            for txn in empty_containers(self.db.tree):
                log.info("Attempting to delete candidate container: %s", txn.path)
                self.submit(0, 0, OpCode.DELETE_CONTAINER, txn)

    async def _purger(self) -> None:
        while True:
            await asyncio.sleep(self.config.purge_interval_hours * 3600)
            await self.purge()

    async def purge(self) -> None:
        """Autopurge: keep autopurge.snapRetainCount snapshots and the logs they need."""
        assert self.snap is not None
        log.info("Purge task started.")
        try:
            removed = await asyncio.get_running_loop().run_in_executor(
                self._snap_executor, self.snap.purge, self.config.snap_retain_count
            )
        except OSError as exc:
            log.error("Purge failed: %s", exc)
            return
        log.info("Purge task completed: %d files removed.", len(removed))

    def _fatal(self, exc: BaseException) -> None:
        log.error("Severe unrecoverable error writing the txn log, exiting: %s", exc)
        self.failed = exc
        self.stopped.set()
