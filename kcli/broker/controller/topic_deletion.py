"""Topic deletion (Kafka's TopicDeletionManager), run inside the controller's event task.

A request is the znode `/admin/delete_topics/<t>`. With `delete.topic.enable=false` the
request znode is removed and the topic kept. Otherwise the topic is queued; its deletion
waits while any replica's broker is down (Kafka marks it ineligible), then StopReplica with
delete=true goes to every replica (from a separate task, so a slow broker never stalls the
controller; the answers come back as an event), and only when all succeed are
`/brokers/topics/<t>` (recursively), `/config/topics/<t>` and `/admin/delete_topics/<t>`
deleted, each under the controller epoch check. A request for a topic that does not exist
just loses its znode.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from kcli.broker.controller.channel import TopicPartition
from kcli.broker.controller.events import TopicDeletionStopped
from kcli.broker.controller.znodes import DeleteTopicsZNode

if TYPE_CHECKING:
    from kcli.broker.controller.controller import KafkaController

log = logging.getLogger("kafka.controller.TopicDeletionManager")


async def on_deletion_request(c: KafkaController) -> None:
    requested = await c.zk.get_children(DeleteTopicsZNode.path, watch=True) or []
    if not requested:
        return
    if not c.delete_topic_enable:
        log.info("%s Removing %s since delete topic is disabled", c.ident, requested)
        for topic in requested:
            await c.kzk.delete_deletion_marker(c.epoch_zk_version, topic)
        return
    for topic in requested:
        if topic in c.ctx.topics_to_delete:
            continue
        if topic not in c.ctx.assignments:
            if await c.kzk.get_topic_assignment(topic) is None:
                log.info("%s Ignoring request to delete non-existing topic %s", c.ident, topic)
                await c.kzk.delete_deletion_marker(c.epoch_zk_version, topic)
                continue
            await c.load_topic(topic)  # new to us: its TopicChange has not run yet
        log.info("%s New topics to be deleted: %s", c.ident, topic)
        c.ctx.topics_to_delete.add(topic)
    await resume(c)


async def resume(c: KafkaController) -> None:
    """Try every queued deletion (after a request, and when brokers come back)."""
    for topic in sorted(c.ctx.topics_to_delete):
        await _delete(c, topic)


async def _delete(c: KafkaController, topic: str) -> None:
    by_broker: dict[int, list[TopicPartition]] = {}
    for tp in c.ctx.partitions([topic]):
        for broker in c.ctx.replicas(tp):
            by_broker.setdefault(broker, []).append(tp)
    down = sorted(b for b in by_broker if b not in c.ctx.live_brokers)
    if down:
        log.info("%s Deletion of topic %s paused: replicas on brokers %s are offline",
                 c.ident, topic, down)  # fmt: skip
        return
    if topic in c.ctx.deletions_in_flight:
        return
    c.ctx.deletions_in_flight.add(topic)
    c.spawn(_stop_replicas(c, topic, by_broker), f"delete-{topic}")


async def _stop_replicas(
    c: KafkaController, topic: str, by_broker: dict[int, list[TopicPartition]]
) -> None:
    """StopReplica(delete) to every replica at once, outside the event task (a slow broker
    must not stall the controller); the outcome comes back as a TopicDeletionStopped event."""
    brokers = sorted(by_broker)
    answers = await asyncio.gather(
        *(c.channel.stop_replica(b, c.epoch, c.ctx.broker_epochs.get(b, -1), by_broker[b],
                                 delete=True) for b in brokers),
        return_exceptions=True,
    )  # fmt: skip
    ok = True
    for broker, answer in zip(brokers, answers, strict=True):
        if isinstance(answer, BaseException):
            log.warning("%s Deletion of topic %s: StopReplica to broker %d failed (%s); will "
                        "retry", c.ident, topic, broker, answer)  # fmt: skip
            ok = False
        elif failed := {tp: e for tp, e in answer.items() if e}:
            log.warning("%s Deletion of topic %s failed on broker %d: %s; will retry",
                        c.ident, topic, broker, failed)  # fmt: skip
            ok = False
    c.enqueue(TopicDeletionStopped(topic, ok))


async def on_replicas_stopped(c: KafkaController, event: TopicDeletionStopped) -> None:
    """Back in the event task: with every replica stopped, delete the topic's znodes."""
    c.ctx.deletions_in_flight.discard(event.topic)
    if not event.ok or event.topic not in c.ctx.topics_to_delete:
        return
    await c.kzk.delete_topic(c.epoch_zk_version, event.topic)
    c.ctx.remove_topic(event.topic)
    log.info("%s Deletion of topic %s successfully completed", c.ident, event.topic)
