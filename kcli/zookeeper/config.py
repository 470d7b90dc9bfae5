"""ZooKeeperConfig from zookeeper.properties (Kafka's and ZooKeeper's key names and defaults).

Unknown keys are logged once and ignored (Kafka's file carries keys such as
`admin.enableServer` that only matter to the Java server); a bad value is a ConfigError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kcli.errors import ConfigError

log = logging.getLogger("kcli.zookeeper.ZooKeeperConfig")

FOUR_LETTER_DEFAULT = frozenset({"ruok", "stat", "srvr", "mntr", "conf", "isro"})


def _whitelist(raw: str | None) -> frozenset[str] | None:
    """`4lw.commands.whitelist`: comma-separated words, or `*` for all."""
    if raw is None or not raw.strip():
        return FOUR_LETTER_DEFAULT
    words = {w.strip() for w in raw.split(",") if w.strip()}
    return None if "*" in words else frozenset(words)


KNOWN_KEYS = frozenset(
    {
        "dataDir",
        "dataLogDir",
        "clientPort",
        "clientPortAddress",
        "tickTime",
        "maxClientCnxns",
        "minSessionTimeout",
        "maxSessionTimeout",
        "autopurge.snapRetainCount",
        "autopurge.purgeInterval",
        "snapCount",
        # A Java system property of ZooKeeper's ContainerManager, accepted here as a key.
        "znode.container.checkIntervalMs",
        "4lw.commands.whitelist",
    }
)

# Keys of the Java server that make no difference here; accepted silently.
IGNORED_KEYS = frozenset(
    {
        "admin.enableServer",
        "admin.serverPort",
        "initLimit",
        "syncLimit",
        "preAllocSize",
        "globalOutstandingLimit",
        "jute.maxbuffer",
        "standaloneEnabled",
        "reconfigEnabled",
        "metricsProvider.className",
    }
)


@dataclass(frozen=True)
class ZooKeeperConfig:
    data_dir: Path
    data_log_dir: Path
    client_port: int = 2181
    client_port_address: str = "0.0.0.0"
    tick_time: int = 2000
    max_client_cnxns: int = 60
    min_session_timeout: int = 4000
    max_session_timeout: int = 40000
    snap_retain_count: int = 3
    purge_interval_hours: int = 0
    snap_count: int = 100000
    container_check_interval_ms: int = 60000
    # None: every word (`*`); the default is FOUR_LETTER_DEFAULT
    four_letter_words: frozenset[str] | None = FOUR_LETTER_DEFAULT

    @classmethod
    def from_props(cls, props: dict[str, str]) -> ZooKeeperConfig:
        unknown = sorted(k for k in props if k not in KNOWN_KEYS and k not in IGNORED_KEYS)
        if unknown:
            log.warning("Ignoring unknown ZooKeeper properties: %s", ", ".join(unknown))

        def integer(key: str, default: int, minimum: int) -> int:
            raw = props.get(key)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"{key} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(f"{key} must be at least {minimum}, got {value}")
            return value

        data_dir = props.get("dataDir", "").strip()
        if not data_dir:
            raise ConfigError("dataDir is not set")
        port = integer("clientPort", 2181, 0)
        if port > 65535:
            raise ConfigError(f"clientPort must be a TCP port (0-65535), got {port}")
        tick = integer("tickTime", 2000, 1)
        min_to = integer("minSessionTimeout", 2 * tick, 0)
        max_to = integer("maxSessionTimeout", 20 * tick, 0)
        if min_to > max_to:
            raise ConfigError(
                f"minSessionTimeout ({min_to}) must not be larger than maxSessionTimeout ({max_to})"
            )
        log_dir = props.get("dataLogDir", "").strip() or data_dir
        return cls(
            data_dir=Path(data_dir),
            data_log_dir=Path(log_dir),
            client_port=port,
            client_port_address=props.get("clientPortAddress", "").strip() or "0.0.0.0",
            tick_time=tick,
            max_client_cnxns=integer("maxClientCnxns", 60, 0),
            min_session_timeout=min_to,
            max_session_timeout=max_to,
            snap_retain_count=max(integer("autopurge.snapRetainCount", 3, 0), 3),
            purge_interval_hours=integer("autopurge.purgeInterval", 0, 0),
            snap_count=integer("snapCount", 100000, 2),
            container_check_interval_ms=integer("znode.container.checkIntervalMs", 60000, 1),
            four_letter_words=_whitelist(props.get("4lw.commands.whitelist")),
        )

    def negotiate_timeout(self, requested: int) -> int:
        return max(self.min_session_timeout, min(requested, self.max_session_timeout))
