"""`/latest_producer_id_block`: the last producer-id block any broker claimed (ZkData's
ProducerIdBlockZNode, KafkaZkClient's conditional update).

JSON: {"version":1,"broker":0,"block_start":"0","block_end":"999"} (start and end are strings,
inclusive). Claiming reads the node and its version, computes the next block (from 0 when the
node is empty or missing) and writes it with setData(version); a concurrent claim by another
broker makes the write fail with BadVersion, and the claim is retried on the new value.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass

from kcli.broker.controller.zk import BadVersion, NodeExists, ZkClient, ZkError

log = logging.getLogger("kafka.coordinator.transaction.ProducerIdManager")

PATH = "/latest_producer_id_block"
LONG_MAX = 2**63 - 1
MAX_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class ProducerIdBlock:
    broker_id: int
    block_start: int
    block_end: int

    def encode(self) -> bytes:
        return json.dumps(
            {
                "version": 1,
                "broker": self.broker_id,
                "block_start": str(self.block_start),
                "block_end": str(self.block_end),
            },
            separators=(",", ":"),
        ).encode()

    @staticmethod
    def decode(data: bytes) -> ProducerIdBlock:
        obj = json.loads(data)
        return ProducerIdBlock(int(obj["broker"]), int(obj["block_start"]), int(obj["block_end"]))


class ZkProducerIdBlockStore:
    def __init__(self, zk: ZkClient) -> None:
        self.zk = zk

    async def claim_block(self, broker_id: int, block_size: int) -> tuple[int, int]:
        for _ in range(MAX_ATTEMPTS):
            found = await self.zk.get(PATH)
            if found is None:
                with contextlib.suppress(NodeExists):
                    await self.zk.create(PATH, b"")
                continue
            data, stat = found
            start = 0
            if data:
                current = ProducerIdBlock.decode(data)
                if current.block_end > LONG_MAX - block_size:
                    raise ZkError("Have exhausted all producerIds.", PATH)
                start = current.block_end + 1
            block = ProducerIdBlock(broker_id, start, start + block_size - 1)
            try:
                await self.zk.set(PATH, block.encode(), version=stat.version)
            except BadVersion:
                continue  # another broker claimed a block first
            log.info("Acquired new producerId block %s", block)
            return block.block_start, block.block_end
        raise ZkError(f"could not claim a producer id block after {MAX_ATTEMPTS} attempts", PATH)
