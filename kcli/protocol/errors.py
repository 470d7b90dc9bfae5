"""The one Kafka error-code table: kio's generated `ErrorCode` (from Kafka's `Errors`), plus the
exceptions the protocol layer raises.

Storage and coordinators raise their own exceptions; only the handler layer turns them into
codes, so this is the single place codes come from (`ErrorCode.unknown_topic_or_partition`,
`ErrorCode(35)`, `.retriable`).
"""

from __future__ import annotations

from kio.schema.errors import ErrorCode

__all__ = ["ErrorCode", "InvalidReceive", "InvalidRequest", "KafkaProtocolError"]


class KafkaProtocolError(Exception):
    """A peer broke the wire protocol; the broker closes that connection and carries on."""


class InvalidReceive(KafkaProtocolError):
    """A frame size the broker will not read (Kafka's `InvalidReceiveException`)."""


class InvalidRequest(KafkaProtocolError):
    """A header or body that does not parse (Kafka's `InvalidRequestException`)."""


def error_name(code: int) -> str:
    """Kafka's constant name for a code, e.g. 35 -> UNSUPPORTED_VERSION."""
    try:
        return ErrorCode(code).name.upper()
    except ValueError:
        return f"UNKNOWN_CODE_{code}"
