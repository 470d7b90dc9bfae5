"""What the controller tells brokers after changing partition states (Kafka's
ControllerBrokerRequestBatch): LeaderAndIsr to each live replica of the changed partitions,
then UpdateMetadata with their states to every other live broker.

Functions over the controller's context, run inside its event task.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kcli.broker.controller.channel import TopicPartition
from kcli.broker.replica.state import PartitionState as LeaderAndIsrPartitionState
from kcli.protocol import inter_broker as ib

if TYPE_CHECKING:
    from kcli.broker.controller.controller import KafkaController

log = logging.getLogger("kafka.controller.ControllerBrokerRequestBatch")


async def send_leader_and_isr(
    c: KafkaController,
    partitions: list[TopicPartition],
    new: set[TopicPartition] | None = None,
    only_to: int | None = None,
) -> None:
    """LeaderAndIsr for `partitions` to their live replicas (only to broker `only_to` when
    given: a broker that just started learns all its replicas), `is_new` for `new` ones."""
    by_broker: dict[int, list[LeaderAndIsrPartitionState]] = {}
    for tp in partitions:
        state = c.ctx.states.get(tp)
        if state is None:
            continue
        replicas = c.ctx.replicas(tp)
        entry = LeaderAndIsrPartitionState(
            topic=tp[0], partition=tp[1], controller_epoch=state.controller_epoch,
            leader=state.leader, leader_epoch=state.leader_epoch, isr=state.isr,
            zk_version=state.zk_version, replicas=replicas, is_new=tp in (new or set()),
        )  # fmt: skip
        for broker in replicas:  # not to brokers shutting down (Kafka's isReplicaOnline)
            if broker in c.ctx.electable and only_to in (None, broker):
                by_broker.setdefault(broker, []).append(entry)
    for broker, states in sorted(by_broker.items()):
        configs = {t: await c.kzk.get_topic_config(t) for t in {s.topic for s in states}}
        try:
            errors = await c.channel.leader_and_isr(
                broker, c.epoch, c.ctx.broker_epochs.get(broker, -1), states, configs
            )
        except Exception:
            log.exception("%s LeaderAndIsr to broker %d failed", c.ident, broker)
            continue
        failed = {tp: e for tp, e in errors.items() if e}
        if failed:
            log.warning("%s LeaderAndIsr errors from broker %d: %s", c.ident, broker, failed)
    send_update_metadata(c, partitions)


def send_update_metadata(c: KafkaController, partitions: list[TopicPartition]) -> None:
    """UpdateMetadata with these partitions' states to every other live broker."""
    by_topic: dict[str, list[ib.UpdateMetadataPartitionState]] = {}
    for tp in partitions:
        state = c.ctx.states.get(tp)
        if state is None:
            continue
        replicas = c.ctx.replicas(tp)
        by_topic.setdefault(tp[0], []).append(
            ib.UpdateMetadataPartitionState(
                partition_index=tp[1], controller_epoch=state.controller_epoch,
                leader=state.leader, leader_epoch=state.leader_epoch, isr=state.isr,
                zk_version=state.zk_version, replicas=replicas,
                offline_replicas=tuple(r for r in replicas if r not in c.ctx.live_brokers),
            )
        )  # fmt: skip
    topics = [
        ib.UpdateMetadataTopicState(topic_name=t, partition_states=tuple(ps))
        for t, ps in sorted(by_topic.items())
    ]
    live = {b: c.ctx.broker_epochs.get(b, -1) for b in c.ctx.live_brokers}
    c.channel.update_metadata(live, c.epoch, topics)
    if c.metadata is not None:  # this broker's own cache, as Kafka's UpdateMetadata to itself
        for tp in partitions:
            state = c.ctx.states.get(tp)
            if state is not None:
                c.metadata.set_partition_state_if_newer(tp[0], tp[1], state)
