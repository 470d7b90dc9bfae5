"""Kafka's DefaultMessageFormatter (console consumer, 2.7+ / KIP-431) and a JSON form.

Fields in order, each followed by key.separator when another field follows and by
line.separator after the last one:

    CreateTime:1700000000000 | LogAppendTime:.. | NO_TIMESTAMP      print.timestamp
    Partition:0                                                   print.partition
    Offset:5                                                      print.offset
    k1:v1,k2:v2 | NO_HEADERS                                      print.headers
    key (null.literal if null)                                    print.key
    value (null.literal if null)                                  print.value (default on)

Keys, values and header values are written as raw bytes, as Kafka's StringDeserializer-free
ByteArray path does.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kcli.errors import ConfigError

# confluent-kafka's TIMESTAMP_* constants
NO_TIMESTAMP = 0
CREATE_TIME = 1
LOG_APPEND_TIME = 2

KNOWN_PROPERTIES = frozenset(
    {
        "print.timestamp",
        "print.key",
        "print.offset",
        "print.partition",
        "print.headers",
        "print.value",
        "key.separator",
        "line.separator",
        "headers.separator",
        "null.literal",
        # Java deserializer classes: accepted and ignored (bytes are printed as they are).
        "key.deserializer",
        "value.deserializer",
        "headers.deserializer",
    }
)


@dataclass(frozen=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    timestamp_type: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


def _flag(props: Mapping[str, str], name: str, default: bool) -> bool:
    raw = props.get(name)
    return default if raw is None else raw.strip().lower() == "true"


@dataclass(frozen=True)
class DefaultMessageFormatter:
    print_timestamp: bool = False
    print_key: bool = False
    print_offset: bool = False
    print_partition: bool = False
    print_headers: bool = False
    print_value: bool = True
    key_separator: bytes = b"\t"
    line_separator: bytes = b"\n"
    headers_separator: bytes = b","
    null_literal: bytes = b"null"

    @staticmethod
    def from_properties(props: Mapping[str, str]) -> DefaultMessageFormatter:
        unknown = sorted(set(props) - KNOWN_PROPERTIES)
        if unknown:
            raise ConfigError(
                f"Unknown --property {unknown[0]} (known: {', '.join(sorted(KNOWN_PROPERTIES))})"
            )
        return DefaultMessageFormatter(
            print_timestamp=_flag(props, "print.timestamp", False),
            print_key=_flag(props, "print.key", False),
            print_offset=_flag(props, "print.offset", False),
            print_partition=_flag(props, "print.partition", False),
            print_headers=_flag(props, "print.headers", False),
            print_value=_flag(props, "print.value", True),
            key_separator=props.get("key.separator", "\t").encode(),
            line_separator=props.get("line.separator", "\n").encode(),
            headers_separator=props.get("headers.separator", ",").encode(),
            null_literal=props.get("null.literal", "null").encode(),
        )

    def format(self, record: ConsumedRecord) -> bytes:
        fields: list[bytes] = []
        if self.print_timestamp:
            if record.timestamp_type == CREATE_TIME:
                fields.append(b"CreateTime:%d" % record.timestamp)
            elif record.timestamp_type == LOG_APPEND_TIME:
                fields.append(b"LogAppendTime:%d" % record.timestamp)
            else:
                fields.append(b"NO_TIMESTAMP")
        if self.print_partition:
            fields.append(b"Partition:%d" % record.partition)
        if self.print_offset:
            fields.append(b"Offset:%d" % record.offset)
        if self.print_headers:
            if not record.headers:
                fields.append(b"NO_HEADERS")
            else:
                fields.append(
                    self.headers_separator.join(
                        k.encode() + b":" + (self.null_literal if v is None else v)
                        for k, v in record.headers
                    )
                )
        if self.print_key:
            fields.append(self.null_literal if record.key is None else record.key)
        if self.print_value:
            fields.append(self.null_literal if record.value is None else record.value)
        if not fields:
            return b""
        return self.key_separator.join(fields) + self.line_separator


def _text(data: bytes | None) -> tuple[str | None, bool]:
    """(text, is_base64): UTF-8 as text; anything else as base64 so nothing is lost."""
    if data is None:
        return None, False
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode(), True


def record_json(record: ConsumedRecord) -> dict[str, Any]:
    """kcli's JSON line per record (stable keys; *_encoding is "base64" for non-UTF-8 bytes)."""
    key, key_b64 = _text(record.key)
    value, value_b64 = _text(record.value)
    timestamp_type = {CREATE_TIME: "CreateTime", LOG_APPEND_TIME: "LogAppendTime"}.get(
        record.timestamp_type
    )
    headers = []
    for name, raw in record.headers:
        text, b64 = _text(raw)
        headers.append({"key": name, "value": text, "encoding": "base64" if b64 else "utf-8"})
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_type": timestamp_type,
        "timestamp": record.timestamp if timestamp_type else None,
        "key": key,
        "key_encoding": "base64" if key_b64 else "utf-8",
        "value": value,
        "value_encoding": "base64" if value_b64 else "utf-8",
        "headers": headers,
    }
