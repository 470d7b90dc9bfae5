"""KafkaController (ZooKeeper mode): one asyncio task that drains one event queue.

Only the broker that won `/controller` runs it. ZooKeeper watches put events on the queue
(`ZkClient.subscribe`); the task takes one at a time, reads ZooKeeper, decides with the pure
functions of partition_state_machine, writes partition state znodes under the
`/controller_epoch` version check (so a deposed controller's writes fail), and tells brokers
through the ControllerChannelManager. A failed epoch check (ControllerMovedError) makes it
resign.

What it keeps (Kafka's ControllerContext): live brokers, each topic's assignment, each
partition's leader/ISR state with its zkVersion, and the topics queued for deletion.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from kcli.broker.controller import (
    controlled_shutdown,
    leader_election,
    request_batch,
    topic_deletion,
)
from kcli.broker.controller.channel import ControllerChannelManager, TopicPartition
from kcli.broker.controller.context import ControllerContext
from kcli.broker.controller.events import (
    AutoLeaderRebalance,
    BrokerChange,
    ControlledShutdown,
    ControllerEvent,
    ElectLeaders,
    IsrChangeNotification,
    PartitionModifications,
    Reconnected,
    Startup,
    TopicChange,
    TopicConfigChange,
    TopicDeletion,
    TopicDeletionStopped,
    event_for,
)
from kcli.broker.controller.kafka_zk_client import ControllerMovedError, KafkaZkClient
from kcli.broker.controller.leader_election import ElectionResults, RebalanceSettings
from kcli.broker.controller.partition_state_machine import (
    initial_leader_and_isr,
    needs_election,
    offline_leader_election,
    remove_replicas_from_isr,
)
from kcli.broker.controller.zk import BadVersion, ZkClient, ZkEvent
from kcli.broker.controller.znodes import BrokerIdsZNode, TopicsZNode
from kcli.broker.metadata_cache import MetadataCache, PartitionState

log = logging.getLogger("kafka.controller.KafkaController")

UPDATE_ATTEMPTS = 3


class KafkaController:
    def __init__(
        self,
        broker_id: int,
        zk: ZkClient,
        kzk: KafkaZkClient,
        channel: ControllerChannelManager,
        *,
        delete_topic_enable: bool = True,
        unclean_leader_election: bool = False,
        on_resign: Callable[[], Coroutine[Any, Any, None]] | None = None,
        metadata: MetadataCache | None = None,
        rebalance: RebalanceSettings | None = None,
    ) -> None:
        self.broker_id = broker_id
        self.zk = zk
        self.kzk = kzk
        self.channel = channel
        self.delete_topic_enable = delete_topic_enable
        self.unclean_leader_election = unclean_leader_election
        self.on_resign = on_resign
        self.metadata = metadata
        self.rebalance = rebalance or RebalanceSettings(enable=False)
        self.epoch = -1
        self.epoch_zk_version = -1
        self.ctx = ControllerContext()
        self._queue: asyncio.Queue[ControllerEvent | ZkEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # request senders awaiting answers

    @property
    def ident(self) -> str:
        return f"[Controller id={self.broker_id} epoch={self.epoch}]"

    @property
    def active(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, epoch: int, epoch_zk_version: int) -> None:
        """Become controller with this epoch: watches feed the queue, Startup goes first."""
        self.epoch, self.epoch_zk_version = epoch, epoch_zk_version
        self.ctx = ControllerContext()
        self.zk.subscribe(self._queue)
        self._queue.put_nowait(Startup())
        self._task = asyncio.get_running_loop().create_task(self._run(), name="controller")
        if self.rebalance.enable:
            self.spawn(leader_election.rebalance_timer(self), "auto-leader-rebalance")

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run `coro` beside the event task (cancelled when the controller stops)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        self.zk.unsubscribe(self._queue)
        for task in list(self._background):
            task.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.channel.close()
        self._queue = asyncio.Queue()

    def enqueue(self, event: ControllerEvent) -> None:
        self._queue.put_nowait(event)

    async def controlled_shutdown(self, broker_id: int, broker_epoch: int) -> list[TopicPartition]:
        """Queue a ControlledShutdown event and wait for the event task's answer."""
        result: asyncio.Future[list[TopicPartition]] = asyncio.get_running_loop().create_future()
        self.enqueue(ControlledShutdown(broker_id, broker_epoch, result))
        return await result

    async def elect_leaders(
        self, election_type: int, partitions: list[TopicPartition] | None
    ) -> ElectionResults:
        """Queue an ElectLeaders event and wait for its per-partition results."""
        result: asyncio.Future[ElectionResults] = asyncio.get_running_loop().create_future()
        self.enqueue(ElectLeaders(election_type, partitions, result))
        return await result

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            event = item if isinstance(item, ControllerEvent) else event_for(item)
            if event is None:
                continue
            try:
                await self._process(event)
            except asyncio.CancelledError:
                raise
            except ControllerMovedError as exc:
                log.info("%s %s; resigning (%s)", self.ident, event.name, exc)
                self.zk.unsubscribe(self._queue)
                if self.on_resign is not None:
                    asyncio.get_running_loop().create_task(self.on_resign())
                return
            except Exception:
                log.exception("%s Error processing event %s", self.ident, event)

    async def _process(self, event: ControllerEvent) -> None:
        if isinstance(event, Startup):
            await self._on_failover()
        elif isinstance(event, BrokerChange):
            await self._on_broker_change()
        elif isinstance(event, TopicChange):
            await self._on_topic_change()
        elif isinstance(event, PartitionModifications):
            await self._on_partition_modifications(event.topic)
        elif isinstance(event, TopicDeletion):
            await topic_deletion.on_deletion_request(self)
        elif isinstance(event, TopicDeletionStopped):
            await topic_deletion.on_replicas_stopped(self, event)
        elif isinstance(event, IsrChangeNotification):
            await self._on_isr_change()
        elif isinstance(event, ControlledShutdown):
            await controlled_shutdown.process(self, event)
        elif isinstance(event, ElectLeaders):
            await leader_election.process(self, event)
        elif isinstance(event, AutoLeaderRebalance):
            await leader_election.auto_rebalance(self, event)
        elif isinstance(event, TopicConfigChange):
            await self._online_partitions(self.ctx.partitions())
        elif isinstance(event, Reconnected):
            await self._on_broker_change()
            await self._on_topic_change()
            for topic in list(self.ctx.assignments):
                await self._on_partition_modifications(topic)
            await self._on_isr_change()
            await topic_deletion.on_deletion_request(self)

    # --- failover ---------------------------------------------------------------------------
    async def _on_failover(self) -> None:
        """onControllerFailover: set watches, load the cluster, bring partitions online."""
        log.info("%s Starting controller", self.ident)
        self.ctx.live_brokers, _ = await self._read_live_brokers()
        for topic in await self.zk.get_children(TopicsZNode.path, watch=True) or []:
            await self.load_topic(topic)
        log.info("%s Live brokers: %s; %d topics", self.ident, sorted(self.ctx.live_brokers),
                 len(self.ctx.assignments))  # fmt: skip
        # Brokers that died while no controller was watching still lead or sit in ISRs.
        named = {b for s in self.ctx.states.values() for b in (s.leader, *s.isr) if b >= 0}
        await self._on_brokers_dead(named - self.ctx.live_brokers)
        await self._online_partitions(self.ctx.partitions(), announce_all=True)
        await self._on_isr_change()  # sets the watch; notifications from before are stale
        await topic_deletion.on_deletion_request(self)

    async def load_topic(self, topic: str) -> list[int]:
        """Read a topic's assignment (setting its data watch) and partition states; returns
        the partitions that were not known before."""
        assignment = await self.kzk.get_topic_assignment(topic, watch=True)
        if assignment is None:
            return []
        known = self.ctx.assignments.get(topic, {})
        self.ctx.assignments[topic] = dict(assignment.partitions)
        added = [p for p in sorted(assignment.partitions) if p not in known]
        for p in added:
            state = await self.kzk.get_partition_state(topic, p)
            if state is not None:
                self.ctx.states[(topic, p)] = state
        return added

    # --- partition state machine ------------------------------------------------------------
    async def _online_partitions(
        self, partitions: list[TopicPartition], announce_all: bool = False
    ) -> None:
        """New -> Online for partitions without a state; Offline -> Online for those whose
        leader is gone. LeaderAndIsr goes to the live replicas of every partition changed
        (of every partition given, with `announce_all`, as after a failover)."""
        changed: list[TopicPartition] = []
        new: set[TopicPartition] = set()
        fresh: dict[str, dict[int, PartitionState]] = {}
        for tp in partitions:
            if tp[0] in self.ctx.topics_to_delete:
                continue
            state = self.ctx.states.get(tp)
            if state is None:
                initial = self._initial_state(tp)
                if initial is not None:
                    fresh.setdefault(tp[0], {})[tp[1]] = initial
            elif needs_election(state, self.ctx.live_brokers):
                if await self.update_state(tp, functools.partial(self._elect_offline, tp)):
                    changed.append(tp)
            elif announce_all:
                changed.append(tp)
        for topic, states in fresh.items():  # one ZooKeeper multi per topic (and chunk)
            stored = await self.kzk.create_partition_states(self.epoch_zk_version, topic, states)
            for p, state in stored.items():
                self.ctx.states[(topic, p)] = state
                changed.append((topic, p))
                new.add((topic, p))
        await request_batch.send_leader_and_isr(self, changed, new)

    def _initial_state(self, tp: TopicPartition) -> PartitionState | None:
        state = initial_leader_and_isr(self.ctx.replicas(tp), self.ctx.electable, self.epoch)
        if state is None:
            log.error("%s Controller failed to elect leader for new partition %s-%d: none of "
                      "its replicas %s is alive", self.ident, tp[0], tp[1],
                      list(self.ctx.replicas(tp)))  # fmt: skip
        return state

    async def _elect_offline(
        self, tp: TopicPartition, state: PartitionState
    ) -> PartitionState | None:
        if not needs_election(state, self.ctx.live_brokers):
            return None  # a fresher state already has a live leader
        unclean = await self._unclean_allowed(tp[0])
        elected = offline_leader_election(
            self.ctx.replicas(tp), state, self.ctx.electable, self.epoch, unclean
        )
        if elected is None:
            log.error("%s No live in-sync replica for partition %s-%d (ISR %s); it stays "
                      "offline", self.ident, tp[0], tp[1], list(state.isr))  # fmt: skip
        return elected

    async def update_state(
        self,
        tp: TopicPartition,
        decide: Callable[[PartitionState], Awaitable[PartitionState | None]],
        fresh: bool = False,
    ) -> bool:
        """Write `decide(current state)` with a conditional setData on the state znode. If a
        leader changed the znode meanwhile (BadVersion), re-read it and decide again, a few
        times (Kafka retries the partitions whose update failed). `fresh`: read the znode
        first, for decisions that a lagging ISR notification could make wrongly refuse."""
        if fresh and tp in self.ctx.states:
            latest = await self.kzk.get_partition_state(*tp)
            if latest is not None:
                self.ctx.states[tp] = latest
        for _ in range(UPDATE_ATTEMPTS):
            current = self.ctx.states.get(tp)
            if current is None:
                return False
            new = await decide(current)
            if new is None or (new.leader, new.isr) == (current.leader, current.isr):
                return False
            try:
                self.ctx.states[tp] = await self.kzk.update_partition_state(
                    self.epoch_zk_version, tp[0], tp[1], replace(new, zk_version=current.zk_version)
                )
            except BadVersion:
                reread = await self.kzk.get_partition_state(*tp)
                if reread is None:
                    return False
                self.ctx.states[tp] = reread
                continue
            return True
        log.warning("%s Gave up updating the state of %s-%d: it kept changing", self.ident,
                    tp[0], tp[1])  # fmt: skip
        return False

    async def _unclean_allowed(self, topic: str) -> bool:
        override = (await self.kzk.get_topic_config(topic)).get("unclean.leader.election.enable")
        return override.strip().lower() == "true" if override else self.unclean_leader_election

    # --- watches ----------------------------------------------------------------------------
    async def _on_topic_change(self) -> None:
        names = set(await self.zk.get_children(TopicsZNode.path, watch=True) or [])
        for gone in set(self.ctx.assignments) - names:
            self.ctx.remove_topic(gone)
        new_partitions: list[TopicPartition] = []
        for topic in sorted(names - set(self.ctx.assignments)):
            log.info("%s New topic creation callback for %s", self.ident, topic)
            new_partitions.extend((topic, p) for p in await self.load_topic(topic))
        await self._online_partitions(new_partitions)

    async def _on_partition_modifications(self, topic: str) -> None:
        if topic in self.ctx.topics_to_delete:
            log.info("%s Skipping adding partitions to %s: it is being deleted", self.ident,
                     topic)  # fmt: skip
            return
        if topic not in self.ctx.assignments:
            return  # TopicChange will load it
        added = await self.load_topic(topic)
        if added:
            log.info("%s New partitions of %s: %s", self.ident, topic, added)
            await self._online_partitions([(topic, p) for p in added])

    async def _on_broker_change(self) -> None:
        current, bounced = await self._read_live_brokers()
        new = (current - self.ctx.live_brokers) | bounced
        dead = (self.ctx.live_brokers - current) | bounced
        for broker in dead:
            self.channel.remove_broker(broker)
        self.ctx.shutting_down -= dead | new
        if not new and not dead:
            return
        log.info("%s Newly added brokers: %s, deleted brokers: %s, bounced brokers: %s, all "
                 "live brokers: %s", self.ident, sorted(new - bounced), sorted(dead - bounced),
                 sorted(bounced), sorted(current))  # fmt: skip
        # A bounced broker (same id, new session) failed and started again: fail it first.
        self.ctx.live_brokers = current - bounced
        await request_batch.send_leader_and_isr(self, await self._on_brokers_dead(dead))
        self.ctx.live_brokers = current
        # Partitions led by dead brokers, and new ones that had no live replica, come online.
        await self._online_partitions(self.ctx.partitions())
        for broker in sorted(new):  # a returning broker learns all its replicas
            mine = [tp for tp in self.ctx.partitions() if broker in self.ctx.replicas(tp)]
            await request_batch.send_leader_and_isr(self, mine, only_to=broker)
        if new:
            await topic_deletion.resume(self)

    async def _on_brokers_dead(self, dead: set[int]) -> list[TopicPartition]:
        """onBrokerFailure: partitions the dead led get a new leader from the live ISR (or
        leader -1 with the last ISR member kept); dead followers leave every ISR."""
        changed: list[TopicPartition] = []
        if not dead:
            return changed
        for tp in self.ctx.partitions():
            if tp[0] in self.ctx.topics_to_delete:
                continue
            if await self.update_state(tp, functools.partial(self._after_deaths, tp, dead)):
                changed.append(tp)
        return changed

    async def _after_deaths(
        self, tp: TopicPartition, dead: set[int], state: PartitionState
    ) -> PartitionState | None:
        if state.leader in dead:
            unclean = await self._unclean_allowed(tp[0])
            elected = offline_leader_election(
                self.ctx.replicas(tp), state, self.ctx.electable, self.epoch, unclean
            )
            if elected is not None:
                return elected
            log.error("%s No live in-sync replica for partition %s-%d (ISR %s); it goes "
                      "offline", self.ident, tp[0], tp[1], list(state.isr))  # fmt: skip
            return remove_replicas_from_isr(state, dead, self.epoch)
        if dead & set(state.isr):
            return remove_replicas_from_isr(state, dead, self.epoch)
        return None

    async def _on_isr_change(self) -> None:
        """Leaders wrote new ISRs into state znodes themselves: re-read those states and
        pass them on in UpdateMetadata (Kafka's processIsrChangeNotification)."""
        changed = await self.kzk.take_isr_change_notifications(self.epoch_zk_version)
        refreshed: list[TopicPartition] = []
        for tp in sorted(changed):
            if tp[0] not in self.ctx.assignments:
                continue
            state = await self.kzk.get_partition_state(*tp)
            if state is not None:
                self.ctx.states[tp] = state
                refreshed.append(tp)
        if refreshed:
            request_batch.send_update_metadata(self, refreshed)

    async def _read_live_brokers(self) -> tuple[set[int], set[int]]:
        """Children of /brokers/ids (re-arming the watch) and each one's broker epoch (the
        czxid of its znode); also the known brokers whose epoch changed: they "bounced"
        (died and came back between two looks), which Kafka handles as failure + startup."""
        ids = await self.zk.get_children(BrokerIdsZNode.path, watch=True) or []
        live: set[int] = set()
        bounced: set[int] = set()
        for broker in sorted(int(i) for i in ids if i.lstrip("-").isdigit()):
            stat = await self.zk.exists(f"{BrokerIdsZNode.path}/{broker}")
            if stat is None:
                continue
            live.add(broker)
            known = self.ctx.broker_epochs.get(broker)
            if known is not None and known != stat.czxid and broker in self.ctx.live_brokers:
                bounced.add(broker)
            self.ctx.broker_epochs[broker] = stat.czxid
        for gone in set(self.ctx.broker_epochs) - live:
            del self.ctx.broker_epochs[gone]
        return live, bounced
