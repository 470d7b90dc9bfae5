"""The broker side of controlled shutdown (Kafka's KafkaServer.controlledShutdown): before a
broker stops on SIGTERM it asks the controller to move leadership off it, so clients find new
leaders at once instead of after the ZooKeeper session times out.

Up to `controlled.shutdown.max.retries` attempts, `controlled.shutdown.retry.backoff.ms`
apart: each finds the current controller in the metadata cache and sends ControlledShutdown v3
(or asks its own controller directly when this broker is the controller). Done when the answer
has no error and no partitions left to move. Every attempt is bounded in time, so a stop never
hangs on a dead controller: the broker then gives up and stops anyway (as Kafka's does, with a
warning). A broker with no live peer has nowhere to move leadership and skips the exchange.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kcli.broker.controller_api import ControllerApiError
from kcli.broker.metadata_cache import MetadataCache
from kcli.protocol import inter_broker as ib
from kcli.protocol.errors import ErrorCode, KafkaProtocolError
from kcli.protocol.messages import encode_body

log = logging.getLogger("kafka.server.KafkaServer")

ATTEMPT_TIMEOUT_S = 5.0  # one round trip; a controller slower than this is treated as gone
_SIZE = struct.Struct(">i")

LocalController = Callable[[int, int], Awaitable[list[tuple[str, int]]]]


@dataclass(frozen=True, slots=True)
class ShutdownSettings:
    max_retries: int = 3
    backoff_ms: int = 5000
    listener_name: str = "PLAINTEXT"
    attempt_timeout_s: float = ATTEMPT_TIMEOUT_S


async def controlled_shutdown(
    broker_id: int,
    broker_epoch: int,
    metadata: MetadataCache,
    settings: ShutdownSettings,
    local: LocalController | None = None,
) -> bool:
    """Ask the controller to move leadership off this broker; True once it has."""
    if not any(b.id != broker_id for b in metadata.alive_brokers()):
        log.info("[KafkaServer id=%d] No other live broker: skipping controlled shutdown",
                 broker_id)  # fmt: skip
        return True
    log.info("[KafkaServer id=%d] Starting controlled shutdown", broker_id)
    attempts = max(1, settings.max_retries)
    for attempt in range(attempts):
        try:
            remaining = await asyncio.wait_for(
                _ask(broker_id, broker_epoch, metadata, settings, local),
                settings.attempt_timeout_s,
            )
        except (OSError, EOFError, TimeoutError, LookupError, KafkaProtocolError) as exc:
            # (EOFError: asyncio's IncompleteReadError, the controller closed the connection)
            log.warning("[KafkaServer id=%d] Error during controlled shutdown, possibly because "
                        "leader movement took longer than the configured controller.socket."
                        "timeout.ms and/or request.timeout.ms: %r", broker_id, exc)  # fmt: skip
        except ControllerApiError as exc:
            log.warning("[KafkaServer id=%d] Controlled shutdown refused: %s", broker_id,
                        exc.code.name)  # fmt: skip
        else:
            if not remaining:
                log.info("[KafkaServer id=%d] Controlled shutdown request returned successfully "
                         "after %d attempt(s)", broker_id, attempt + 1)  # fmt: skip
                return True
            log.info("[KafkaServer id=%d] Remaining partitions to move: %s", broker_id,
                     ",".join(f"{t}-{p}" for t, p in remaining))  # fmt: skip
            if not any(_movable(metadata, broker_id, tp) for tp in remaining):
                log.info("[KafkaServer id=%d] No other live in-sync replica can take them: "
                         "stopping without further attempts", broker_id)  # fmt: skip
                return False
        if attempt < attempts - 1:
            log.info("[KafkaServer id=%d] Retrying controlled shutdown after the previous "
                     "attempt failed...", broker_id)  # fmt: skip
            await asyncio.sleep(settings.backoff_ms / 1000)
    log.warning("[KafkaServer id=%d] Proceeding to do an unclean shutdown as all the controlled "
                "shutdown attempts failed", broker_id)  # fmt: skip
    return False


def _movable(metadata: MetadataCache, broker_id: int, tp: tuple[str, int]) -> bool:
    """Another live broker is in the partition's ISR (as this broker last heard), so a later
    attempt may succeed. (kcli's shortcut: Kafka retries regardless, which holds up the stop of
    a broker that is the last in-sync replica by the whole retry budget.)"""
    topic = metadata.topics.get(tp[0])
    state = topic.states.get(tp[1]) if topic is not None else None
    if state is None:
        return True  # unknown: let Kafka's retries decide
    return any(r != broker_id and r in metadata.brokers for r in state.isr)


async def _ask(
    broker_id: int,
    broker_epoch: int,
    metadata: MetadataCache,
    settings: ShutdownSettings,
    local: LocalController | None,
) -> list[tuple[str, int]]:
    controller = metadata.controller_id
    if controller == broker_id and local is not None:
        return await local(broker_id, broker_epoch)
    info = metadata.brokers.get(controller) if controller >= 0 else None
    endpoint = info.endpoint(settings.listener_name) if info is not None else None
    if endpoint is None:
        raise LookupError(f"no live controller (controller id {controller})")
    request = ib.ControlledShutdownRequest(broker_id=broker_id, broker_epoch=broker_epoch)
    response = await send_once(endpoint.host, endpoint.port, request,
                               ib.ControlledShutdownResponse, f"broker-{broker_id}")  # fmt: skip
    if response.error_code != ErrorCode.none:
        raise ControllerApiError(ErrorCode(int(response.error_code)))
    return [(r.topic_name, int(r.partition_index)) for r in response.remaining_partitions]


async def send_once(host: str, port: int, request: Any, response_cls: type[Any],
                    client_id: str) -> Any:  # fmt: skip
    """One request on a fresh connection (request header v2, response header v1)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        name = client_id.encode()
        api_key, version = int(request.__api_key__), int(request.__version__)
        head = struct.pack(">hhih", api_key, version, 1, len(name)) + name + b"\x00"
        payload = head + encode_body(request)
        writer.write(_SIZE.pack(len(payload)) + payload)
        await writer.drain()
        (size,) = _SIZE.unpack(await reader.readexactly(4))
        frame = await reader.readexactly(size)
        return ib.decode(response_cls, frame, 5)  # correlation id + empty tagged fields
    finally:
        writer.close()
