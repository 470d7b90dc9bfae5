"""User-facing failures: one clear line on stderr and a non-zero exit, never a traceback.

Anything that is not a `TerseError` is a bug; the root command shows its traceback only with `-v`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


class KcliError(Exception):
    """Root of kcli's own exceptions."""


class TerseError(KcliError):
    """An error the user caused or can fix; printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = ExitStatus.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ConfigError(TerseError):
    """A properties file or option value that cannot be used."""
