"""Leader elections asked for from outside the failure path (Kafka's
KafkaController.processReplicaLeaderElection and checkAndTriggerAutoLeaderRebalance), run in
the controller's event task.

ElectLeaders (the `kcli leader-election` tool, AdminClient.electLeaders):

- PREFERRED: the first replica in assignment order leads again, if it is alive and in the
  ISR. Partitions it already leads answer ELECTION_NOT_NEEDED; when it cannot lead,
  PREFERRED_LEADER_NOT_AVAILABLE.
- UNCLEAN: only partitions without a live leader are elected, with the offline strategy
  allowing an out-of-sync replica; partitions with a live leader answer ELECTION_NOT_NEEDED,
  those with no live replica ELIGIBLE_LEADERS_NOT_AVAILABLE.

Auto rebalance (`auto.leader.rebalance.enable`): every `leader.imbalance.check.interval.seconds`
the controller counts, for each broker, the partitions whose preferred replica it is but which
someone else leads; over `leader.imbalance.per.broker.percentage` it runs preferred elections
for them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kcli.broker.controller import request_batch
from kcli.broker.controller.channel import TopicPartition
from kcli.broker.controller.events import AutoLeaderRebalance, ElectLeaders
from kcli.broker.controller.partition_state_machine import (
    imbalanced_partitions,
    offline_leader_election,
    preferred_replica_election,
)
from kcli.broker.metadata_cache import PartitionState
from kcli.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from kcli.broker.controller.controller import KafkaController

log = logging.getLogger("kafka.controller.KafkaController")

PREFERRED = 0  # ElectLeaders' election_type values (Kafka's ElectionType)
UNCLEAN = 1
STRATEGY = {
    PREFERRED: "PreferredReplicaPartitionLeaderElectionStrategy",
    UNCLEAN: "OfflinePartitionLeaderElectionStrategy(true)",
}
ElectionResults = dict[TopicPartition, tuple[ErrorCode, str | None]]


@dataclass(frozen=True, slots=True)
class RebalanceSettings:
    enable: bool = True
    interval_s: float = 300.0
    percentage: int = 10


async def process(c: KafkaController, event: ElectLeaders) -> None:
    results = await elect(c, event.election_type, event.partitions)
    if not event.result.done():
        event.result.set_result(results)


async def elect(
    c: KafkaController, election_type: int, partitions: list[TopicPartition] | None
) -> ElectionResults:
    """Each partition's outcome; `partitions` None means every partition (and then those
    needing no election are left out of the answer, as Kafka's KafkaApis does)."""
    everything = partitions is None
    wanted = c.ctx.partitions() if partitions is None else partitions
    results: ElectionResults = {}
    electable: list[TopicPartition] = []
    for tp in dict.fromkeys(wanted):
        state = c.ctx.states.get(tp)
        if not c.ctx.replicas(tp) or state is None:
            results[tp] = (ErrorCode.unknown_topic_or_partition, "The partition does not exist.")
        elif tp[0] in c.ctx.topics_to_delete:
            results[tp] = (ErrorCode.invalid_topic_exception,
                           f"Deletion of topic {tp[0]} is in progress.")  # fmt: skip
        elif _valid_leader(c, election_type, tp, state):
            if not everything:
                results[tp] = (ErrorCode.election_not_needed, None)
        else:
            electable.append(tp)
    changed: list[TopicPartition] = []
    for tp in electable:
        # Leaders change ISRs in ZooKeeper themselves and tell the controller seconds later
        # (the notification linger): decide on the znode as it is now, as Kafka's
        # doElectLeaderForPartitions does.
        decide = functools.partial(_decide, c, election_type, tp)
        if await c.update_state(tp, decide, fresh=True):
            changed.append(tp)
            results[tp] = (ErrorCode.none, None)
        else:
            error = (ErrorCode.preferred_leader_not_available if election_type == PREFERRED
                     else ErrorCode.eligible_leaders_not_available)  # fmt: skip
            results[tp] = (error, f"Failed to elect leader for partition {tp[0]}-{tp[1]} under "
                                  f"strategy {STRATEGY[election_type]}")  # fmt: skip
    if changed:
        log.info("%s Elected leaders (%s) for %s", c.ident, _name(election_type),
                 ", ".join(f"{t}-{p}" for t, p in changed))  # fmt: skip
        await request_batch.send_leader_and_isr(c, changed)
    return results


def _valid_leader(
    c: KafkaController, election_type: int, tp: TopicPartition, state: PartitionState
) -> bool:
    if election_type == PREFERRED:
        return state.leader == c.ctx.replicas(tp)[0]
    return state.leader in c.ctx.live_brokers


async def _decide(
    c: KafkaController, election_type: int, tp: TopicPartition, state: PartitionState
) -> PartitionState | None:
    if election_type == PREFERRED:
        return preferred_replica_election(c.ctx.replicas(tp), state, c.ctx.electable, c.epoch)
    if state.leader in c.ctx.live_brokers:
        return None  # someone else brought it back meanwhile
    return offline_leader_election(
        c.ctx.replicas(tp), state, c.ctx.electable, c.epoch, unclean=True
    )


async def auto_rebalance(c: KafkaController, _event: AutoLeaderRebalance) -> None:
    leaders = {tp: s.leader for tp, s in c.ctx.states.items()}
    due = imbalanced_partitions(c.ctx.assignments, leaders, c.ctx.electable,
                                c.rebalance.percentage, c.ctx.topics_to_delete)  # fmt: skip
    if not due:
        return
    log.info("%s Starting auto leader rebalance for %d partitions", c.ident, len(due))
    results = await elect(c, PREFERRED, due)
    failed = [f"{t}-{p}" for (t, p), (e, _) in results.items() if e != ErrorCode.none]
    if failed:
        log.info("%s Preferred replica could not lead (yet): %s", c.ident, ", ".join(failed))


async def rebalance_timer(c: KafkaController) -> None:
    """Puts an AutoLeaderRebalance on the queue every check interval."""
    while True:
        await asyncio.sleep(c.rebalance.interval_s)
        c.enqueue(AutoLeaderRebalance())


def _name(election_type: int) -> str:
    return "PREFERRED" if election_type == PREFERRED else "UNCLEAN"
