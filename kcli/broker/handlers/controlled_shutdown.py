"""ControlledShutdown (7), v3: a broker about to stop asks the controller to move leadership
off it; the answer lists the partitions it still leads. Only the controller serves it (others
answer NOT_CONTROLLER, as Kafka). Message classes: kcli.protocol.inter_broker."""

from __future__ import annotations

import asyncio
from typing import Any

from kcli.broker.controller_api import ControllerApiError
from kcli.broker.handlers.base import RequestContext
from kcli.protocol import inter_broker as ib
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader

API_KEY = ApiKey.CONTROLLED_SHUTDOWN
MIN_VERSION = ib.CONTROLLED_SHUTDOWN_VERSION
MAX_VERSION = ib.CONTROLLED_SHUTDOWN_VERSION


def decode(header: RequestHeader, frame: bytes) -> Any:
    return ib.decode(ib.ControlledShutdownRequest, frame, header.size)


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    api = ctx.broker.controller_api
    remaining: list[tuple[str, int]] = []
    error = ErrorCode.none
    timeout_s = ctx.broker.config.get_int("controller.socket.timeout.ms") / 1000
    try:
        if api is None:
            raise ControllerApiError(ErrorCode.not_controller)
        remaining = await asyncio.wait_for(
            api.controlled_shutdown(request.broker_id, request.broker_epoch), timeout_s
        )
    except ControllerApiError as exc:
        error = exc.code
    except TimeoutError:
        error = ErrorCode.request_timed_out
    return ib.ControlledShutdownResponse(
        error_code=error,
        remaining_partitions=tuple(
            ib.RemainingPartition(topic_name=t, partition_index=p) for t, p in remaining
        ),
    )
