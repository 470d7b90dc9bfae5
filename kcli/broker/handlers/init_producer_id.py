"""InitProducerId (22), v0-v4: producer ids for idempotent producers.

Without a transactional.id (idempotence only) every call gets a fresh cluster-unique id with
epoch 0 (Kafka's TransactionCoordinator does the same, also for the v3+ epoch-bump form).
Transactions are not implemented yet: a transactional.id gets Kafka's validation (empty ->
INVALID_REQUEST, timeout outside (0, transaction.max.timeout.ms] ->
INVALID_TRANSACTION_TIMEOUT) and then COORDINATOR_NOT_AVAILABLE, what a broker answers while
no transaction coordinator is up.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from kcli.broker.handlers.base import RequestContext
from kcli.protocol.api_keys import ApiKey
from kcli.protocol.errors import ErrorCode
from kcli.protocol.messages import RequestHeader, build, response_class

API_KEY = ApiKey.INIT_PRODUCER_ID
MIN_VERSION = 0
MAX_VERSION = 4

log = logging.getLogger("kafka.coordinator.transaction.TransactionCoordinator")


async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Any:
    cls = response_class(API_KEY, header.api_version)

    def reply(code: ErrorCode, producer_id: int = -1, epoch: int = -1) -> Any:
        return build(
            cls,
            throttle_time=timedelta(0),
            error_code=code,
            producer_id=producer_id,
            producer_epoch=epoch,
        )

    txn_id = request.transactional_id
    if txn_id is not None:
        if not txn_id:
            return reply(ErrorCode.invalid_request)
        timeout_ms = request.transaction_timeout.total_seconds() * 1000
        if not 0 < timeout_ms <= ctx.broker.config.get_int("transaction.max.timeout.ms"):
            return reply(ErrorCode.invalid_transaction_timeout)
        return reply(ErrorCode.coordinator_not_available)
    producer_ids = ctx.broker.producer_ids
    if producer_ids is None:
        return reply(ErrorCode.coordinator_not_available)
    try:
        producer_id = await producer_ids.generate_producer_id()
    except Exception as exc:  # noqa: BLE001 - ZooKeeper trouble: the client retries
        log.warning("Could not allocate a producer id: %s", exc)
        return reply(ErrorCode.coordinator_not_available)
    return reply(ErrorCode.none, producer_id, 0)
