"""Java `.properties` files (server.properties, zookeeper.properties, --command-config).

Handles what Kafka's shipped files use: `#`/`!` comments, `key=value`, `key: value` and
`key value` separators, backslash line continuations and the common escapes.
"""

from __future__ import annotations

from pathlib import Path

from kcli.errors import ConfigError

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and i + 6 <= len(text):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=: \t":
            break
        i += 1
    key = line[:i]
    rest = line[i:].lstrip(" \t")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t")
    return _unescape(key), _unescape(rest)


def parse_properties(text: str) -> dict[str, str]:
    """Parse properties text into an ordered dict (later keys win, as in Java)."""
    props: dict[str, str] = {}
    logical = ""
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f")
        if not logical and (not line or line[0] in "#!"):
            continue
        # An odd number of trailing backslashes continues the line.
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:
            logical += line[:-1]
            continue
        logical += line
        key, value = _split(logical)
        props[key] = value
        logical = ""
    if logical:
        key, value = _split(logical)
        props[key] = value
    return props


def load_properties(path: str | Path) -> dict[str, str]:
    """Read a properties file, turning I/O and decoding problems into one-line ConfigErrors."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"properties file not found: {p}") from None
    except IsADirectoryError:
        raise ConfigError(f"properties file is a directory: {p}") from None
    except PermissionError:
        raise ConfigError(f"cannot read properties file {p}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"properties file {p} is not text: {exc.reason}") from None
    return parse_properties(text)


def parse_override(item: str) -> tuple[str, str]:
    """`k=v` from `--override k=v` / `--property k=v`."""
    if "=" not in item:
        raise ConfigError(f"expected key=value, got {item!r}")
    key, value = item.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"expected key=value, got {item!r}")
    return key, value.strip()
