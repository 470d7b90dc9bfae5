"""A partition leader's own ZooKeeper writes when it changes the ISR (Kafka's IBP < 2.7 path:
ReplicationUtils.updateLeaderAndIsr and ReplicaManager's ISR change propagation).

1. The leader writes the partition's state znode with a conditional setData on the zkVersion
   it got from the controller (the partition epoch), leader and leader epoch unchanged:
   `/brokers/topics/<t>/partitions/<p>/state` = `{"controller_epoch":C,"leader":L,
   "version":1,"leader_epoch":E,"isr":[...]}`.
   On BadVersion it re-reads the znode: if it already holds exactly what we meant to write
   (our earlier attempt landed), that counts as success; otherwise the controller changed the
   partition and the leader gives up this change (its next LeaderAndIsr brings the new state).
2. Each committed change queues the partition for `/isr_change_notification/isr_change_<seq>`
   = `{"version":1,"partitions":[{"topic":"t","partition":0}]}`; the controller's child
   watch reads them, refreshes its cache and sends UpdateMetadata to every broker.
   Kafka batches them (checked every 2.5 s, written once no change came for 5 s, or 60 s
   after the last write). The defaults here are 0.25 s / 0.5 s / 5 s, so `topics --describe`
   on a laptop cluster shows an ISR change within a second while a burst of changes (a broker
   that stalls with many partitions) still goes out as one notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kcli.broker.controller.kafka_zk_client import KafkaZkClient
from kcli.broker.metadata_cache import PartitionState
from kcli.clock import Clock

log = logging.getLogger("kafka.server.ReplicaManager")

NOTIFICATION_CHUNK = 1000  # partitions per notification znode (well under jute.maxbuffer)


class ZkIsrUpdater:
    def __init__(
        self,
        kzk: KafkaZkClient,
        clock: Clock,
        *,
        check_interval_ms: int = 250,
        linger_ms: int = 500,
        max_delay_ms: int = 5000,
    ) -> None:
        self.kzk = kzk
        self.clock = clock
        self.check_interval_ms = check_interval_ms
        self.linger_ms = linger_ms
        self.max_delay_ms = max_delay_ms
        self._changed: set[tuple[str, int]] = set()
        self._last_change_ms = 0
        self._last_propagation_ms = clock.time_ms()
        self._task: asyncio.Task[None] | None = None

    async def write_isr(self, topic: str, partition: int, state: PartitionState) -> int | None:
        """Conditional update of the state znode expecting `state.zk_version`; the znode's new
        zkVersion, or None when the controller changed it meanwhile. ZooKeeper errors other
        than BadVersion propagate (the leader retries later)."""
        stored = await self.kzk.update_leader_and_isr(topic, partition, state)
        if stored is None:
            current = await self.kzk.get_partition_state(topic, partition)
            if current is None or (
                current.leader,
                current.leader_epoch,
                tuple(current.isr),
                current.controller_epoch,
            ) != (state.leader, state.leader_epoch, tuple(state.isr), state.controller_epoch):
                return None
            stored = current
        self.record_isr_change(topic, partition)
        return stored.zk_version

    def record_isr_change(self, topic: str, partition: int) -> None:
        self._changed.add((topic, partition))
        self._last_change_ms = self.clock.time_ms()

    def due(self, now_ms: int) -> bool:
        """Kafka's maybePropagateIsrChanges rule: changes are waiting and none came for the
        linger time, or the last notification is older than the max delay."""
        return bool(self._changed) and (
            now_ms - self._last_change_ms >= self.linger_ms
            or now_ms - self._last_propagation_ms >= self.max_delay_ms
        )

    async def maybe_propagate_isr_changes(self) -> bool:
        now = self.clock.time_ms()
        if not self.due(now):
            return False
        changed = sorted(self._changed)
        self._changed.clear()
        try:
            for start in range(0, len(changed), NOTIFICATION_CHUNK):
                await self.kzk.propagate_isr_changes(changed[start : start + NOTIFICATION_CHUNK])
        except Exception:
            self._changed.update(changed)  # keep them for the next check
            raise
        self._last_propagation_ms = now
        return True

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="isr-change-propagation"
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_ms / 1000)
            try:
                await self.maybe_propagate_isr_changes()
            except Exception as exc:  # noqa: BLE001 - any ZooKeeper error: retried next check
                log.warning("Failed to write an ISR change notification: %r", exc)

    async def stop(self) -> None:
        """Write what is still queued (best effort), then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._changed:
            self._last_change_ms = -self.linger_ms
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.maybe_propagate_isr_changes(), 2)
