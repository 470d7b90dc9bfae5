"""What handlers may ask of the controller (requests other brokers send it), without knowing
how it is built: the controller lives in kcli.broker.controller, which talks to ZooKeeper, and
handlers stay free of that. KafkaServer provides the implementation; a broker that is not the
controller answers NOT_CONTROLLER, as Kafka's brokers do.
"""

from __future__ import annotations

from typing import Protocol

from kcli.protocol.errors import ErrorCode


class ControllerApiError(Exception):
    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message


class ControllerApi(Protocol):
    async def controlled_shutdown(self, broker_id: int, broker_epoch: int) -> list[tuple[str, int]]:
        """Move leadership off a broker that is about to stop; the partitions it still leads
        (their other replicas could not take over). Raises ControllerApiError."""
        ...

    async def elect_leaders(
        self, election_type: int, partitions: list[tuple[str, int]] | None
    ) -> dict[tuple[str, int], tuple[ErrorCode, str | None]]:
        """ElectLeaders: 0 preferred, 1 unclean; partitions None means all. Each partition's
        error code and message. Raises ControllerApiError (NOT_CONTROLLER)."""
        ...
