"""Controller-to-broker requests over the wire (Kafka's ControllerChannelManager with one
RequestSendThread per broker).

Each live broker gets a queue and one task that owns a connection to the broker's
inter-broker listener (`inter.broker.listener.name`, else PLAINTEXT): requests go out in the
order the controller queued them, one at a time, each answered before the next is sent. A
failed connection is reopened and the request retried a few times with a short back-off, then
its future fails. The controller awaits StopReplica answers (topic deletion needs them) but
not LeaderAndIsr or UpdateMetadata ones, so a slow broker never stalls the controller's task.

Frames: int32 size, request header v2 (api_key, api_version, correlation_id, client_id
"controller-<id>" as an int16 string, empty tagged fields), body; the answer is int32 size,
correlation_id, empty tagged fields, body.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.replica.state import PartitionState as LeaderAndIsrPartitionState
from kcli.protocol import inter_broker as ib
from kcli.protocol.errors import ErrorCode, KafkaProtocolError
from kcli.protocol.messages import encode_body

log = logging.getLogger("kafka.controller.RequestSendThread")

TopicPartition = tuple[str, int]
RETRIES = 3
BACKOFF_S = 0.1
_SIZE = struct.Struct(">i")


@dataclass(slots=True)
class _Pending:
    request: Any
    response_cls: type[Any]
    future: asyncio.Future[Any]


class BrokerRequestSender:
    def __init__(
        self,
        controller_id: int,
        metadata: MetadataCache,
        listener_name: str = "PLAINTEXT",
        timeout_ms: int = 30000,
    ) -> None:
        self.controller_id = controller_id
        self.metadata = metadata
        self.listener_name = listener_name
        self.timeout_s = timeout_ms / 1000
        self._queues: dict[int, asyncio.Queue[_Pending]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._correlation = itertools.count(1)

    # --- the three requests -------------------------------------------------------------------
    def leader_and_isr(
        self,
        broker_id: int,
        controller_epoch: int,
        broker_epoch: int,
        states: Sequence[LeaderAndIsrPartitionState],
    ) -> asyncio.Future[dict[TopicPartition, int]]:
        by_topic: dict[str, list[ib.LeaderAndIsrPartitionState]] = {}
        for s in states:
            by_topic.setdefault(s.topic, []).append(
                ib.LeaderAndIsrPartitionState(
                    partition_index=s.partition,
                    controller_epoch=s.controller_epoch,
                    leader=s.leader,
                    leader_epoch=s.leader_epoch,
                    isr=s.isr,
                    zk_version=s.zk_version,
                    replicas=s.replicas,
                    is_new=s.is_new,
                )
            )
        leaders = {s.leader for s in states}
        request = ib.LeaderAndIsrRequest(
            controller_id=self.controller_id,
            controller_epoch=controller_epoch,
            broker_epoch=broker_epoch,
            topic_states=tuple(
                ib.LeaderAndIsrTopicState(topic_name=t, partition_states=tuple(ps))
                for t, ps in sorted(by_topic.items())
            ),
            live_leaders=tuple(self._live_leaders(leaders)),
        )
        return self._partition_errors(self._send(broker_id, request, ib.LeaderAndIsrResponse))

    def stop_replica(
        self,
        broker_id: int,
        controller_epoch: int,
        broker_epoch: int,
        partitions: Sequence[TopicPartition],
        delete: bool,
    ) -> asyncio.Future[dict[TopicPartition, int]]:
        by_topic: dict[str, list[ib.StopReplicaPartitionState]] = {}
        for topic, index in partitions:
            by_topic.setdefault(topic, []).append(
                ib.StopReplicaPartitionState(partition_index=index, delete_partition=delete)
            )
        request = ib.StopReplicaRequest(
            controller_id=self.controller_id,
            controller_epoch=controller_epoch,
            broker_epoch=broker_epoch,
            topic_states=tuple(
                ib.StopReplicaTopicState(topic_name=t, partition_states=tuple(ps))
                for t, ps in sorted(by_topic.items())
            ),
        )
        return self._partition_errors(self._send(broker_id, request, ib.StopReplicaResponse))

    def update_metadata(
        self,
        broker_id: int,
        controller_epoch: int,
        broker_epoch: int,
        states: Sequence[ib.UpdateMetadataTopicState],
    ) -> asyncio.Future[Any]:
        live = [
            ib.UpdateMetadataBroker(
                id=info.id,
                endpoints=tuple(
                    ib.UpdateMetadataEndpoint(
                        port=e.port,
                        host=e.host,
                        listener=e.listener_name,
                        security_protocol=ib.SECURITY_PROTOCOL_PLAINTEXT,
                    )
                    for e in info.endpoints
                ),
                rack=info.rack,
            )
            for info in self.metadata.alive_brokers()
        ]
        request = ib.UpdateMetadataRequest(
            controller_id=self.controller_id,
            controller_epoch=controller_epoch,
            broker_epoch=broker_epoch,
            topic_states=tuple(states),
            live_brokers=tuple(live),
        )
        return self._send(broker_id, request, ib.UpdateMetadataResponse)

    def _live_leaders(self, leaders: set[int]) -> list[ib.LeaderAndIsrLiveLeader]:
        result = []
        for broker in sorted(leaders):
            info = self.metadata.brokers.get(broker)
            endpoint = info.endpoint(self.listener_name) if info is not None else None
            if endpoint is not None:
                result.append(ib.LeaderAndIsrLiveLeader(
                    broker_id=broker, host_name=endpoint.host, port=endpoint.port))  # fmt: skip
        return result

    @staticmethod
    def _partition_errors(
        sent: asyncio.Future[Any],
    ) -> asyncio.Future[dict[TopicPartition, int]]:
        loop = asyncio.get_running_loop()
        out: asyncio.Future[dict[TopicPartition, int]] = loop.create_future()

        def done(f: asyncio.Future[Any]) -> None:
            if out.done():
                return
            if f.cancelled() or f.exception() is not None:
                out.set_exception(f.exception() or asyncio.CancelledError())
                return
            response = f.result()
            errors = {(e.topic_name, int(e.partition_index)): int(e.error_code)
                      for e in response.partition_errors}  # fmt: skip
            if response.error_code != ErrorCode.none:
                errors = {tp: int(response.error_code) for tp in errors} or {
                    ("", -1): int(response.error_code)
                }
            out.set_result(errors)

        sent.add_done_callback(done)
        return out

    # --- queues and connections ---------------------------------------------------------------
    def _send(self, broker_id: int, request: Any, response_cls: type[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue = self._queues.get(broker_id)
        if queue is None:
            queue = self._queues[broker_id] = asyncio.Queue()
            self._tasks[broker_id] = loop.create_task(
                self._run(broker_id, queue), name=f"controller-to-broker-{broker_id}"
            )
        queue.put_nowait(_Pending(request, response_cls, future))
        return future

    def remove_broker(self, broker_id: int) -> None:
        """The broker died: drop its queue; waiting requests fail."""
        task = self._tasks.pop(broker_id, None)
        queue = self._queues.pop(broker_id, None)
        if task is not None:
            task.cancel()
        while queue is not None and not queue.empty():
            pending = queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(ConnectionError(f"broker {broker_id} is gone"))

    async def close(self) -> None:
        for broker_id in list(self._tasks):
            task = self._tasks[broker_id]
            self.remove_broker(broker_id)
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, broker_id: int, queue: asyncio.Queue[_Pending]) -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                pending = await queue.get()
                for attempt in range(RETRIES):
                    try:
                        if conn is None:
                            conn = await self._connect(broker_id)
                        response = await asyncio.wait_for(
                            self._roundtrip(conn, pending), self.timeout_s
                        )
                    except (OSError, TimeoutError, LookupError, KafkaProtocolError) as exc:
                        _close(conn)
                        conn = None
                        if attempt == RETRIES - 1:
                            log.warning("Controller %d's request to broker %d failed: %r",
                                        self.controller_id, broker_id, exc)  # fmt: skip
                            if not pending.future.done():
                                pending.future.set_exception(ConnectionError(str(exc)))
                        else:
                            await asyncio.sleep(BACKOFF_S)
                        continue
                    if not pending.future.done():
                        pending.future.set_result(response)
                    break
        finally:
            _close(conn)

    async def _connect(self, broker_id: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        info = self.metadata.brokers.get(broker_id)
        endpoint = info.endpoint(self.listener_name) if info is not None else None
        if endpoint is None:
            raise LookupError(f"no {self.listener_name} endpoint for broker {broker_id}")
        return await asyncio.wait_for(
            asyncio.open_connection(endpoint.host, endpoint.port), self.timeout_s
        )

    async def _roundtrip(
        self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], pending: _Pending
    ) -> Any:
        reader, writer = conn
        correlation_id = next(self._correlation) & 0x7FFFFFFF
        request = pending.request
        client_id = f"controller-{self.controller_id}".encode()
        head = struct.pack(">hhih", int(request.__api_key__), int(request.__version__),
                           correlation_id, len(client_id)) + client_id + b"\x00"  # fmt: skip
        payload = head + encode_body(request)
        writer.write(_SIZE.pack(len(payload)) + payload)
        await writer.drain()
        (size,) = _SIZE.unpack(await reader.readexactly(4))
        frame = await reader.readexactly(size)
        (got,) = struct.unpack_from(">i", frame)
        if got != correlation_id:
            raise ConnectionError(f"correlation id {got}, expected {correlation_id}")
        return ib.decode(pending.response_cls, frame, 5)  # header v1: id + empty tags


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if conn is not None:
        conn[1].close()
