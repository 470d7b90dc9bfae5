"""Four-letter words on the client port, in ZooKeeper 3.8's text formats.

ZooKeeper 3.5+ answers only whitelisted words (`4lw.commands.whitelist`, default `srvr`).
kcli answers ruok, stat, srvr, mntr, conf and isro when no whitelist is set; with one, exactly
the words it names (`*`: all, including the diagnostics in diagnostics.py), and refuses the
others with ZooKeeper's sentence.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kcli import __version__

if TYPE_CHECKING:
    from kcli.zookeeper.connection import ServerCnxn
    from kcli.zookeeper.server import ZooKeeperServer

VERSION = f"3.8.0-kcli-{__version__}, built on 1970-01-01 00:00 UTC"


@dataclass
class ServerStats:
    packets_received: int = 0
    packets_sent: int = 0
    min_latency: int = 0
    max_latency: int = 0
    total_latency: float = 0.0
    count: int = 0
    started: float = field(default=0.0)

    def sent(self, started: float, now: float = 0.0) -> None:
        self.packets_sent += 1
        if started:
            ms = int(((now or time.monotonic()) - started) * 1000)
            if self.count == 0 or ms < self.min_latency:
                self.min_latency = ms
            self.max_latency = max(self.max_latency, ms)
            self.total_latency += ms
            self.count += 1

    def avg_latency(self) -> float:
        return self.total_latency / self.count if self.count else 0.0


def dir_size(path: Path) -> int:
    try:
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    except OSError:
        return 0


def _summary(server: ZooKeeperServer) -> list[str]:
    st = server.stats
    return [
        f"Latency min/avg/max: {st.min_latency}/{round(st.avg_latency(), 4)}/{st.max_latency}",
        f"Received: {st.packets_received}",
        f"Sent: {st.packets_sent}",
        f"Connections: {len(server.connections)}",
        "Outstanding: 0",
        f"Zxid: 0x{server.db.last_zxid:x}",
        "Mode: standalone",
        f"Node count: {server.db.tree.node_count()}",
    ]


def srvr(server: ZooKeeperServer) -> str:
    return "\n".join([f"Zookeeper version: {VERSION}", *_summary(server)]) + "\n"


def stat(server: ZooKeeperServer, me: ServerCnxn) -> str:
    lines = [f"Zookeeper version: {VERSION}", "Clients:"]
    for c in sorted(server.connections, key=lambda c: c.remote):
        ops = 0 if c is me else 1
        lines.append(
            f" /{c.remote[0]}:{c.remote[1]}[{ops}]"
            f"(queued={len(c.held)},recved={c.packets_received},sent={c.packets_sent})"
        )
    return "\n".join([*lines, "", *_summary(server)]) + "\n"


def conf(server: ZooKeeperServer) -> str:
    cfg = server.config
    data = cfg.data_dir / "version-2"
    logs = cfg.data_log_dir / "version-2"
    return (
        f"clientPort={server.port}\n"
        "secureClientPort=-1\n"
        f"dataDir={data}\n"
        f"dataDirSize={dir_size(data)}\n"
        f"dataLogDir={logs}\n"
        f"dataLogSize={dir_size(logs)}\n"
        f"tickTime={cfg.tick_time}\n"
        f"maxClientCnxns={cfg.max_client_cnxns}\n"
        f"minSessionTimeout={cfg.min_session_timeout}\n"
        f"maxSessionTimeout={cfg.max_session_timeout}\n"
        "clientPortListenBacklog=-1\n"
        "serverId=0\n"
    )


def mntr(server: ZooKeeperServer) -> str:
    st = server.stats
    tree = server.db.tree
    try:
        open_fds = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_fds = -1
    rows: list[tuple[str, object]] = [
        ("zk_version", VERSION),
        ("zk_server_state", "standalone"),
        ("zk_ephemerals_count", tree.ephemeral_count()),
        ("zk_num_alive_connections", len(server.connections)),
        ("zk_avg_latency", round(st.avg_latency(), 4)),
        ("zk_outstanding_requests", 0),
        ("zk_znode_count", tree.node_count()),
        ("zk_global_sessions", len(server.tracker.sessions)),
        ("zk_packets_sent", st.packets_sent),
        ("zk_packets_received", st.packets_received),
        ("zk_watch_count", tree.watch_count()),
        ("zk_min_latency", st.min_latency),
        ("zk_max_file_descriptor_count", resource.getrlimit(resource.RLIMIT_NOFILE)[0]),
        ("zk_approximate_data_size", tree.approximate_data_size()),
        ("zk_open_file_descriptor_count", open_fds),
        ("zk_local_sessions", 0),
        ("zk_uptime", server.uptime_ms()),
        ("zk_max_latency", st.max_latency),
        ("zk_last_zxid", f"0x{server.db.last_zxid:x}"),
        ("zk_snap_count", server.snapshots_taken),
        ("zk_cnt_fsynctime", server.fsync_count),
        ("zk_avg_fsynctime", round(server.fsync_ms_total / max(server.fsync_count, 1), 4)),
        ("zk_cnt_sync_processor_batch_size", server.fsync_count),
        (
            "zk_avg_sync_processor_batch_size",
            round(server.fsync_txns / max(server.fsync_count, 1), 4),
        ),
    ]
    return "".join(f"{k}\t{v}\n" for k, v in rows)


def answer(server: ZooKeeperServer, me: ServerCnxn, word: str) -> str:
    allowed = server.config.four_letter_words
    if allowed is not None and word not in allowed:
        return f"{word} is not executed because it is not in the whitelist.\n"
    if word == "ruok":
        return "imok"
    if word == "srvr":
        return srvr(server)
    if word == "stat":
        return stat(server, me)
    if word == "conf":
        return conf(server)
    if word == "mntr":
        return mntr(server)
    if word == "isro":
        return "rw"
    from kcli.zookeeper import diagnostics

    if word in ("cons", "dump"):
        return diagnostics.cons(server, me) if word == "cons" else diagnostics.dump(server)
    handler = {
        "wchs": diagnostics.wchs,
        "wchc": diagnostics.wchc,
        "wchp": diagnostics.wchp,
        "envi": diagnostics.envi,
        "dirs": diagnostics.dirs,
        "crst": diagnostics.crst,
        "srst": diagnostics.srst,
    }.get(word)
    if handler is None:
        return f"{word} is not executed because it is not in the whitelist.\n"
    return handler(server)
