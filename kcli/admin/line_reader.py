"""Kafka's LineMessageReader (console producer, KIP-798 in 3.2): one input line -> one record.

Reader properties and defaults: parse.key=false, key.separator=TAB, parse.headers=false,
headers.delimiter=TAB, headers.separator=',', headers.key.separator=':', null.marker unset,
ignore.error=false. With both parsing options a line reads `h1:v1,h2:v2<TAB>key<TAB>value`.
A key, value or header value equal to null.marker becomes null; a header key may not be it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kcli.errors import ConfigError, TerseError

KNOWN_PROPERTIES = frozenset(
    {
        "parse.key",
        "key.separator",
        "parse.headers",
        "headers.delimiter",
        "headers.separator",
        "headers.key.separator",
        "null.marker",
        "ignore.error",
    }
)


class LineParseError(TerseError):
    """A line the reader cannot split (Kafka's KafkaException from LineMessageReader)."""


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


def _flag(props: Mapping[str, str], name: str) -> bool:
    return props.get(name, "false").strip().lower() == "true"


@dataclass(frozen=True)
class LineMessageReader:
    parse_key: bool = False
    key_separator: str = "\t"
    parse_headers: bool = False
    headers_delimiter: str = "\t"
    headers_separator: str = ","
    headers_key_separator: str = ":"
    null_marker: str | None = None
    ignore_error: bool = False

    @staticmethod
    def from_properties(props: Mapping[str, str]) -> LineMessageReader:
        unknown = sorted(set(props) - KNOWN_PROPERTIES)
        if unknown:
            raise ConfigError(
                f"Unknown --property {unknown[0]} (known: {', '.join(sorted(KNOWN_PROPERTIES))})"
            )
        reader = LineMessageReader(
            parse_key=_flag(props, "parse.key"),
            key_separator=props.get("key.separator", "\t"),
            parse_headers=_flag(props, "parse.headers"),
            headers_delimiter=props.get("headers.delimiter", "\t"),
            headers_separator=props.get("headers.separator", ","),
            headers_key_separator=props.get("headers.key.separator", ":"),
            null_marker=props.get("null.marker"),
            ignore_error=_flag(props, "ignore.error"),
        )
        reader.check()
        return reader

    def check(self) -> None:
        """The separator checks LineMessageReader.configure makes."""
        for name, sep in (
            ("key.separator", self.key_separator),
            ("headers.delimiter", self.headers_delimiter),
            ("headers.separator", self.headers_separator),
            ("headers.key.separator", self.headers_key_separator),
        ):
            if not sep:
                raise ConfigError(f"{name} must not be empty")
        if self.parse_headers:
            if self.headers_delimiter == self.headers_separator:
                raise ConfigError("headers.delimiter and headers.separator may not be equal")
            if self.headers_separator == self.headers_key_separator:
                raise ConfigError("headers.separator and headers.key.separator may not be equal")

    def _split(self, line: str, start: int, sep: str, what: str, line_number: int) -> str | None:
        index = line.find(sep, start)
        if index == -1:
            if self.ignore_error:
                return None
            raise LineParseError(f"No {what} found on line number {line_number}: '{line}'")
        return line[start:index]

    def _null_or_bytes(self, text: str | None) -> bytes | None:
        if text is None or text == self.null_marker:
            return None
        return text.encode("utf-8")

    def read(self, line: str, line_number: int) -> Record:
        headers_text = (
            self._split(line, 0, self.headers_delimiter, "headers delimiter", line_number)
            if self.parse_headers
            else None
        )
        header_offset = (
            0 if headers_text is None else len(headers_text) + len(self.headers_delimiter)
        )
        key = (
            self._split(line, header_offset, self.key_separator, "key separator", line_number)
            if self.parse_key
            else None
        )
        key_offset = 0 if key is None else len(key) + len(self.key_separator)
        value = line[header_offset + key_offset :]
        headers: tuple[tuple[str, bytes | None], ...] = ()
        if headers_text is not None and headers_text != self.null_marker:
            headers = self._headers(headers_text, line_number)
        return Record(self._null_or_bytes(key), self._null_or_bytes(value), headers)

    def _headers(self, text: str, line_number: int) -> tuple[tuple[str, bytes | None], ...]:
        pairs = text.split(self.headers_separator)
        while pairs and pairs[-1] == "":  # Java's String.split drops trailing empty strings
            pairs.pop()
        result: list[tuple[str, bytes | None]] = []
        for pair in pairs:
            index = pair.find(self.headers_key_separator)
            if index == -1:
                if not self.ignore_error:
                    raise LineParseError(
                        f"No header key separator found in pair '{pair}' on line number "
                        f"{line_number}"
                    )
                result.append((pair, None))
                continue
            key = pair[:index]
            if key == self.null_marker:
                raise LineParseError(
                    f"Header keys should not be equal to the null marker '{self.null_marker}' "
                    "as they can't be null"
                )
            result.append(
                (key, self._null_or_bytes(pair[index + len(self.headers_key_separator) :]))
            )
        return tuple(result)
