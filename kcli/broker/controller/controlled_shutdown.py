"""Controlled shutdown on the controller (Kafka's KafkaController.doControlledShutdown), run in
its event task when a broker about to stop asks for it.

The broker is marked shutting down (no election picks it from now on). Of the partitions it
hosts that have other replicas: those it leads get the first live, in-sync, not-shutting-down
replica in assignment order as leader (the ISR drops the brokers shutting down); those it
follows drop it from their ISR, and it gets StopReplica (without delete) for them. The answer
is the partitions it still leads, which the broker retries for (controlled.shutdown.max.retries).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from kcli.broker.controller import request_batch
from kcli.broker.controller.channel import TopicPartition
from kcli.broker.controller.events import ControlledShutdown
from kcli.broker.controller.partition_state_machine import (
    controlled_shutdown_leader_election,
    remove_replicas_from_isr,
)
from kcli.broker.controller_api import ControllerApiError
from kcli.broker.metadata_cache import PartitionState
from kcli.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from kcli.broker.controller.controller import KafkaController

log = logging.getLogger("kafka.controller.KafkaController")


async def process(c: KafkaController, event: ControlledShutdown) -> None:
    """Answer the event's future with the partitions still led, or the refusal."""
    try:
        remaining = await shut_down(c, event.broker_id, event.broker_epoch)
    except ControllerApiError as exc:
        if not event.result.done():
            event.result.set_exception(exc)
        return
    if not event.result.done():
        event.result.set_result(remaining)


async def shut_down(c: KafkaController, broker_id: int, broker_epoch: int) -> list[TopicPartition]:
    if broker_id not in c.ctx.live_brokers:
        raise ControllerApiError(
            ErrorCode.broker_not_available, f"Broker id {broker_id} does not exist."
        )
    known = c.ctx.broker_epochs.get(broker_id, -1)
    if broker_epoch != -1 and broker_epoch < known:
        raise ControllerApiError(
            ErrorCode.stale_broker_epoch,
            f"Received controlled shutdown request from an old broker epoch {broker_epoch} "
            f"for broker {broker_id}. Current broker epoch is {known}.",
        )
    log.info("%s Shutting down broker %d", c.ident, broker_id)
    c.ctx.shutting_down.add(broker_id)
    hosted = [tp for tp in c.ctx.partitions()
              if broker_id in c.ctx.replicas(tp) and len(c.ctx.replicas(tp)) > 1
              and tp[0] not in c.ctx.topics_to_delete]  # fmt: skip
    moved: list[TopicPartition] = []
    followed: list[TopicPartition] = []
    for tp in hosted:
        decide = functools.partial(_away_from, c, tp, broker_id)
        if await c.update_state(tp, decide, fresh=True):  # ISR notifications lag
            moved.append(tp)
        state = c.ctx.states.get(tp)
        if state is not None and state.leader != broker_id:
            followed.append(tp)
    await request_batch.send_leader_and_isr(c, moved)
    if followed:  # not awaited: the broker is on its way down
        c.spawn(_stop_followers(c, broker_id, known, followed), f"stop-replicas-{broker_id}")
    remaining = [tp for tp in hosted
                 if (s := c.ctx.states.get(tp)) is not None and s.leader == broker_id]  # fmt: skip
    log.info("%s Broker %d still leads %d partitions", c.ident, broker_id, len(remaining))
    return remaining


async def _stop_followers(
    c: KafkaController, broker_id: int, broker_epoch: int, partitions: list[TopicPartition]
) -> None:
    try:
        await c.channel.stop_replica(broker_id, c.epoch, broker_epoch, partitions, delete=False)
    except ConnectionError as exc:
        log.warning("%s StopReplica to broker %d failed: %s", c.ident, broker_id, exc)


async def _away_from(
    c: KafkaController, tp: TopicPartition, broker_id: int, state: PartitionState
) -> PartitionState | None:
    if state.leader == broker_id:
        return controlled_shutdown_leader_election(
            c.ctx.replicas(tp), state, c.ctx.live_brokers, c.ctx.shutting_down, c.epoch
        )
    if broker_id in state.isr and state.leader in c.ctx.live_brokers:
        return remove_replicas_from_isr(state, {broker_id}, c.epoch)
    return None
