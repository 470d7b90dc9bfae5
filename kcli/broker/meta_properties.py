"""`meta.properties` in every log dir: which cluster and broker id the data belongs to.

Format (Kafka's BrokerMetadataCheckpoint, ZooKeeper mode):

    #
    #<date>
    cluster.id=<base64url uuid>
    version=0
    broker.id=<id>

A broker refuses to start when a log dir's file names another cluster or another broker id,
so a misconfigured zookeeper.connect or broker.id cannot mix two brokers' data.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from kcli.errors import ConfigError, TerseError
from kcli.properties import parse_properties

FILE_NAME = "meta.properties"


@dataclass(frozen=True, slots=True)
class MetaProperties:
    cluster_id: str | None
    broker_id: int


def read(log_dir: str) -> MetaProperties | None:
    path = Path(log_dir) / FILE_NAME
    try:
        props = parse_properties(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TerseError(f"Failed to read {path}: {exc.strerror}") from None
    try:
        return MetaProperties(props.get("cluster.id"), int(props["broker.id"]))
    except (KeyError, ValueError):
        raise ConfigError(f"{path} is not a valid meta.properties file") from None


def write(log_dir: str, meta: MetaProperties) -> None:
    """Atomically (temp file + rename), as Kafka does."""
    path = Path(log_dir) / FILE_NAME
    stamp = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    lines = ["#", f"#{stamp}"]
    if meta.cluster_id is not None:
        lines.append(f"cluster.id={meta.cluster_id}")
    lines += ["version=0", f"broker.id={meta.broker_id}", ""]
    tmp = path.with_suffix(".properties.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def check_cluster_id(found: dict[str, MetaProperties], cluster_id: str) -> None:
    for meta in found.values():
        if meta.cluster_id is not None and meta.cluster_id != cluster_id:
            raise TerseError(
                f"The Cluster ID {cluster_id} doesn't match stored clusterId "
                f"Some({meta.cluster_id}) in meta.properties. The broker is trying to join the "
                "wrong cluster. Configured zookeeper.connect may be wrong."
            )


def resolve_broker_id(found: dict[str, MetaProperties], configured: int) -> int | None:
    """The broker id the log dirs agree on with the configuration (None: not decided yet)."""
    stored = {m.broker_id for m in found.values()}
    if len(stored) > 1:
        raise TerseError(
            f"Failed to match broker.id across log.dirs: {', '.join(map(str, sorted(stored)))}"
        )
    if stored:
        (stored_id,) = stored
        if configured >= 0 and configured != stored_id:
            raise TerseError(
                f"Configured broker.id {configured} doesn't match stored broker.id "
                f"Some({stored_id}) in meta.properties. If you moved your data, make sure your "
                "configured broker.id matches. If you intend to create a new broker, you should "
                "remove all data in your data directories (log.dirs)."
            )
        return stored_id
    return configured if configured >= 0 else None


def load_all(log_dirs: tuple[str, ...]) -> dict[str, MetaProperties]:
    """Create missing log dirs and read the meta.properties each one has."""
    found: dict[str, MetaProperties] = {}
    for log_dir in log_dirs:
        try:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TerseError(f"Failed to create data directory {log_dir}: {exc.strerror}") from None
        meta = read(log_dir)
        if meta is not None:
            found[log_dir] = meta
    return found


def write_missing(
    found: dict[str, MetaProperties], log_dirs: tuple[str, ...], meta: MetaProperties
) -> None:
    for log_dir in log_dirs:
        if found.get(log_dir) != meta:
            write(log_dir, meta)
