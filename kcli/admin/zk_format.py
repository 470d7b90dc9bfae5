"""Pure formatting for `zookeeper-shell`: zkCli.sh's text layouts and their JSON twins.

zkCli prints a znode's Stat as eleven `name = value` lines: zxids and the ephemeral owner as
unpadded hex (`0x1a`), times as `java.util.Date.toString()` in local time
(`Sat Nov 21 20:26:48 UTC 2026`), counters in decimal. Child lists print as Java's
`List.toString()`: `[a, b]`. Node data prints as text, or `null` for a node with no data.
Nothing here touches the network.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

# The order zkCli prints them in, with the ZnodeStat attribute each reads.
STAT_FIELDS: tuple[tuple[str, str], ...] = (
    ("cZxid", "czxid"),
    ("ctime", "ctime"),
    ("mZxid", "mzxid"),
    ("mtime", "mtime"),
    ("pZxid", "pzxid"),
    ("cversion", "cversion"),
    ("dataVersion", "version"),
    ("aclVersion", "aversion"),
    ("ephemeralOwner", "ephemeralOwner"),
    ("dataLength", "dataLength"),
    ("numChildren", "numChildren"),
)
_HEX = {"czxid", "mzxid", "pzxid", "ephemeralOwner"}
_TIME = {"ctime", "mtime"}


class StatLike(Protocol):
    """The fields of ZooKeeper's Stat record, under its own names (kazoo's ZnodeStat fits)."""

    czxid: int
    mzxid: int
    ctime: int
    mtime: int
    version: int
    cversion: int
    aversion: int
    ephemeralOwner: int
    dataLength: int
    numChildren: int
    pzxid: int


def java_hex(value: int) -> str:
    """`"0x" + Long.toHexString(v)`: two's complement for negatives, as Java prints them."""
    return f"0x{value & 0xFFFFFFFFFFFFFFFF:x}"


def java_date(millis: int) -> str:
    """`new Date(millis).toString()`: `EEE MMM dd HH:mm:ss zzz yyyy` in the local time zone."""
    return time.strftime("%a %b %d %H:%M:%S %Z %Y", time.localtime(millis / 1000))


def format_stat(stat: StatLike) -> list[str]:
    lines = []
    for label, attr in STAT_FIELDS:
        value: int = getattr(stat, attr)
        if attr in _HEX:
            text = java_hex(value)
        elif attr in _TIME:
            text = java_date(value)
        else:
            text = str(value)
        lines.append(f"{label} = {text}")
    return lines


def stat_to_dict(stat: StatLike) -> dict[str, int]:
    """Stat for `--format json`: zkCli's field names, numbers as numbers, times in epoch ms."""
    return {label: int(getattr(stat, attr)) for label, attr in STAT_FIELDS}


def format_children(children: list[str]) -> str:
    """`ls` output: sorted, as zkCli sorts them, in Java's list syntax."""
    return "[" + ", ".join(sorted(children)) + "]"


def format_data(data: bytes | None) -> str:
    """`get` output: the bytes as UTF-8 text (undecodable bytes replaced), `null` for none."""
    if data is None:
        return "null"
    return data.decode("utf-8", errors="replace")


def data_to_json(data: bytes | None) -> Any:
    return None if data is None else data.decode("utf-8", errors="replace")


# zkCli prints permissions in this order (ZooDefs.Perms bits: READ 1, WRITE 2, CREATE 4,
# DELETE 8, ADMIN 16).
_PERMS = (("c", 4), ("d", 8), ("r", 1), ("w", 2), ("a", 16))


def format_acl(scheme: str, ident: str, perms: int) -> list[str]:
    """One ACL entry as zkCli's getAcl prints it: `'world,'anyone` then `: cdrwa`."""
    letters = "".join(letter for letter, bit in _PERMS if perms & bit)
    return [f"'{scheme},'{ident}", f": {letters}"]


def join_path(parent: str, child: str) -> str:
    return f"/{child}" if parent == "/" else f"{parent}/{child}"


def validate_path(path: str, sequential: bool = False) -> str | None:
    """ZooKeeper's PathUtils.validatePath rules; returns zkCli's message or None when valid."""
    if not path:
        return "Path length must be > 0"
    if not path.startswith("/"):
        return "Path must start with / character"
    if len(path) == 1:
        return None
    if path.endswith("/") and not sequential:
        return "Path must not end with / character"
    names = path[1:].split("/")
    position = 1
    for name in names:
        if name == "" and not (sequential and position == len(path)):
            return f"empty node name specified @{position}"
        if name in (".", ".."):
            return f"relative paths not allowed @{position}"
        if "\x00" in name:
            return f"null character not allowed @{position + name.index(chr(0))}"
        position += len(name) + 1
    return None
