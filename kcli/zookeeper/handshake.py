"""Connection handshake and auth packets (ZooKeeper's ZooKeeperServer.processConnectRequest
and processSasl/processAuth parts).

A ConnectRequest with session id 0 opens a session (a logged createSession txn; the reply
waits until it is durable). A non-zero id with the right password reattaches the session; an
unknown, closing or wrongly-authenticated one gets timeOut 0 (the client's "session expired")
and the connection is closed, as ZooKeeper does.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import TYPE_CHECKING

from kcli.zookeeper.codes import Code, OpCode, Xid
from kcli.zookeeper.jute import ConnectRequest, ConnectResponse, Id, frame
from kcli.zookeeper.records import AuthPacket
from kcli.zookeeper.sessions import session_password
from kcli.zookeeper.txn import CreateSessionTxn

if TYPE_CHECKING:
    from kcli.zookeeper.connection import ServerCnxn
    from kcli.zookeeper.server import ZooKeeperServer

log = logging.getLogger("org.apache.zookeeper.server.ZooKeeperServer")


def handle_connect(server: ZooKeeperServer, cnxn: ServerCnxn, req: ConnectRequest) -> None:
    ro = None if req.read_only is None else False
    if req.last_zxid_seen > server.db.last_zxid:
        log.info(
            "Refusing session request for client %s as it has seen zxid 0x%x our last "
            "zxid is 0x%x client must try another server",
            cnxn.describe(),
            req.last_zxid_seen,
            server.db.last_zxid,
        )
        cnxn.close_now(None)
        return
    now = server.now_ms()
    if req.session_id == 0:
        timeout = server.config.negotiate_timeout(req.timeout)
        sid = server.tracker.next_session_id()
        server.tracker.add(sid, timeout, now)
        zxid = server.submit(sid, 0, OpCode.CREATE_SESSION, CreateSessionTxn(timeout))[1]
        log.info(
            "Established session 0x%x with negotiated timeout %d for client %s",
            sid,
            timeout,
            cnxn.describe(),
        )
        server.bind(cnxn, sid)
        rsp = ConnectResponse(0, timeout, sid, session_password(sid), ro)
        cnxn.send(frame(rsp.pack()), zxid)
        return
    sid = req.session_id
    session = server.tracker.sessions.get(sid)
    if session is None or session.closing or req.passwd != session_password(sid):
        log.info(
            "Invalid session 0x%x for client %s, probably expired",
            sid & 0xFFFFFFFFFFFFFFFF,
            cnxn.describe(),
        )
        cnxn.send(frame(ConnectResponse(0, 0, 0, bytes(16), ro).pack()), server.db.last_zxid)
        cnxn.close_after()
        return
    server.tracker.touch(sid, now)
    server.bind(cnxn, sid)
    log.info("Reopened session 0x%x for client %s", sid, cnxn.describe())
    rsp = ConnectResponse(0, session.timeout, sid, session_password(sid), ro)
    cnxn.send(frame(rsp.pack()), server.db.last_zxid)


def authenticate(cnxn: ServerCnxn, pkt: AuthPacket) -> None:
    """Auth packets: `digest` adds an identity (ZooKeeper's user:base64(sha1(user:password)));
    ACLs are stored but not enforced, so identities only show in whoAmI and `auth` ACLs."""
    if pkt.scheme == "digest":
        text = pkt.auth.decode("utf-8", "replace")
        user = text.split(":", 1)[0]
        digest = base64.b64encode(hashlib.sha1(pkt.auth).digest()).decode()
        cnxn.auth_ids.append(Id("digest", f"{user}:{digest}"))
        cnxn.send_reply(Xid.AUTH, 0, 0)
    elif pkt.scheme == "ip":
        cnxn.send_reply(Xid.AUTH, 0, 0)
    else:
        log.warning("Authentication failed for scheme: %s", pkt.scheme)
        cnxn.send_reply(Xid.AUTH, 0, Code.AUTHFAILED)
        cnxn.close_after()
