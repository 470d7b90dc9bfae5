"""The diagnostic four-letter words (cons, wchs, wchc, wchp, dump, envi, dirs, crst, srst) in
ZooKeeper 3.8's formats. Like ZooKeeper, they answer only when `4lw.commands.whitelist`
names them (or is `*`)."""

from __future__ import annotations

import getpass
import os
import platform
import socket
import sys
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from kcli.zookeeper.fourletter import VERSION, ServerStats, dir_size

if TYPE_CHECKING:
    from kcli.zookeeper.connection import ServerCnxn
    from kcli.zookeeper.server import ZooKeeperServer


def _sid(session_id: int) -> str:
    return f"0x{session_id & 0xFFFFFFFFFFFFFFFF:x}"


def cons(server: ZooKeeperServer, me: ServerCnxn) -> str:
    lines = []
    for c in sorted(server.connections, key=lambda c: c.remote):
        line = (
            f" /{c.remote[0]}:{c.remote[1]}[{0 if c is me else 1}]"
            f"(queued={len(c.held)},recved={c.packets_received},sent={c.packets_sent}"
        )
        if c.established:
            st = c.stats
            line += (
                f",sid={_sid(c.session_id)},lop={c.last_op},est={c.established_ms}"
                f",to={_timeout(server, c.session_id)},lcxid=0x{c.last_cxid & 0xFFFFFFFF:x}"
                f",lzxid=0x{c.last_zxid & 0xFFFFFFFFFFFFFFFF:x},lresp={c.last_response_ms}"
                f",llat={st.max_latency if st.count == 1 else st.min_latency}"
                f",minlat={st.min_latency},avglat={int(st.avg_latency())},maxlat={st.max_latency}"
            )
        lines.append(line + ")")
    return "\n".join(lines) + "\n\n"


def _timeout(server: ZooKeeperServer, session_id: int) -> int:
    session = server.tracker.sessions.get(session_id)
    return session.timeout if session else 0


def _watch_pairs(server: ZooKeeperServer) -> dict[str, set[int]]:
    """path -> session ids watching it (data or child, one-shot or persistent)."""
    tree = server.db.tree
    out: dict[str, set[int]] = defaultdict(set)
    for table in (tree.data_watches, tree.child_watches):
        for path, watchers in table.by_path.items():
            for w in watchers:
                out[path].add(getattr(w, "session_id", 0))
    return out


def wchs(server: ZooKeeperServer) -> str:
    pairs = _watch_pairs(server)
    sessions = {sid for sids in pairs.values() for sid in sids}
    total = sum(len(sids) for sids in pairs.values())
    return f"{len(sessions)} connections watching {len(pairs)} paths\nTotal watches:{total}\n"


def wchc(server: ZooKeeperServer) -> str:
    by_session: dict[int, list[str]] = defaultdict(list)
    for path, sids in sorted(_watch_pairs(server).items()):
        for sid in sids:
            by_session[sid].append(path)
    return "".join(
        f"{_sid(sid)}\n" + "".join(f"\t{p}\n" for p in paths) + "\n"
        for sid, paths in sorted(by_session.items())
    )


def wchp(server: ZooKeeperServer) -> str:
    return (
        "".join(
            f"{path}\n" + "".join(f"\t{_sid(sid)}\n" for sid in sorted(sids))
            for path, sids in sorted(_watch_pairs(server).items())
        )
        + "\n"
    )


def dump(server: ZooKeeperServer) -> str:
    tracker = server.tracker
    buckets: dict[int, list[int]] = defaultdict(list)
    for sid, session in tracker.sessions.items():
        buckets[session.expire_time].append(sid)
    wall_offset = server.clock.time_ms() - server.now_ms()  # tracker times are monotonic
    out = [f"SessionTracker dump:\nSession Sets ({len(buckets)})/({len(tracker.sessions)}):"]
    for expire, sids in sorted(buckets.items()):
        when = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime((expire + wall_offset) / 1000))
        out.append(f"{len(sids)} expire at {when}:")
        out.extend(f"\t{_sid(sid)}" for sid in sorted(sids))
    ephemerals = server.db.tree.ephemerals
    out.append(f"ephemeral nodes dump:\nSessions with Ephemerals ({len(ephemerals)}):")
    for sid, paths in sorted(ephemerals.items()):
        out.append(f"{_sid(sid)}:")
        out.extend(f"\t{p}" for p in sorted(paths))
    conns = sorted(server.connections, key=lambda c: c.remote)
    out.append(f"Connections dump:\nConnections Sets (1)/({len(conns)}):")
    out.extend(f"\tip: /{c.remote[0]}:{c.remote[1]} sessionId: {_sid(c.session_id)}" for c in conns)
    return "\n".join(out) + "\n"


def envi(server: ZooKeeperServer) -> str:
    rows = [
        ("zookeeper.version", VERSION),
        ("host.name", socket.gethostname()),
        ("python.version", platform.python_version()),
        ("python.executable", sys.executable),
        ("os.name", platform.system()),
        ("os.arch", platform.machine()),
        ("os.version", platform.release()),
        ("user.name", getpass.getuser()),
        ("user.home", os.path.expanduser("~")),
        ("user.dir", os.getcwd()),
    ]
    return "Environment:\n" + "".join(f"{k}={v}\n" for k, v in rows)


def dirs(server: ZooKeeperServer) -> str:
    cfg = server.config
    return (
        f"datadir_size: {dir_size(cfg.data_dir / 'version-2')}\n"
        f"logdir_size: {dir_size(cfg.data_log_dir / 'version-2')}\n"
    )


def crst(server: ZooKeeperServer) -> str:
    for c in server.connections:
        c.stats = ServerStats()
        c.packets_received = c.packets_sent = 0
    return "Connection stats reset.\n"


def srst(server: ZooKeeperServer) -> str:
    server.stats = ServerStats()
    return "Server stats reset.\n"
