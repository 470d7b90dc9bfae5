"""Producer ids for InitProducerId (Kafka's ZkProducerIdManager).

Ids are handed out from blocks of 1000 claimed in ZooKeeper's `/latest_producer_id_block`
(kcli.broker.controller.producer_id_block does the znode part): each broker claims the block
after the last one with a version-checked write, so ids are unique across the cluster and
across restarts (a restarted broker claims a fresh block; the rest of its old block is skipped,
as in Kafka).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

PRODUCER_ID_BLOCK_SIZE = 1000


class ProducerIdBlockStore(Protocol):
    async def claim_block(self, broker_id: int, block_size: int) -> tuple[int, int]:
        """Claim the next block; returns (first id, last id), both inclusive."""
        ...


class ProducerIdManager:
    def __init__(
        self, broker_id: int, store: ProducerIdBlockStore, block_size: int = PRODUCER_ID_BLOCK_SIZE
    ) -> None:
        self.broker_id = broker_id
        self.store = store
        self.block_size = block_size
        self._next = 0
        self._last = -1  # no block yet
        self._lock = asyncio.Lock()

    async def generate_producer_id(self) -> int:
        """A cluster-unique producer id (claims a new block when this one is used up)."""
        if self._next > self._last:
            async with self._lock:
                if self._next > self._last:
                    self._next, self._last = await self.store.claim_block(
                        self.broker_id, self.block_size
                    )
        producer_id = self._next
        self._next += 1
        return producer_id
