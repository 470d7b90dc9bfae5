"""What a handler module is given and what it may return.

A handler module declares API_KEY, MIN_VERSION, MAX_VERSION and

    async def handle(ctx: RequestContext, header: RequestHeader, request: Any) -> Response | None

returning a kio response entity (encoded by the network layer), a RawResponse (pre-encoded
bytes and file regions: the zero-copy Fetch path), or None for no response at all
(Produce with acks=0).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from kcli.broker.admin_manager import AdminManager
from kcli.broker.config import BrokerConfig
from kcli.broker.controller_api import ControllerApi
from kcli.broker.metadata_cache import MetadataCache
from kcli.clock import Clock
from kcli.protocol.messages import RequestHeader

if TYPE_CHECKING:
    from kcli.broker.group.runtime import GroupCoordinatorRuntime
    from kcli.broker.replica.manager import ReplicaManager
    from kcli.broker.txn.producer_id_manager import ProducerIdManager


@dataclass(frozen=True, slots=True)
class FileRegion:
    """`count` bytes of `file` from `offset`, sent with loop.sendfile (segment bytes in Fetch)."""

    file: BinaryIO
    offset: int
    count: int


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response body already encoded: byte parts and file regions, sent in order."""

    parts: tuple[bytes | memoryview | FileRegion, ...]
    header_version: int  # 0 = correlation id only; 1 = plus tagged fields (flexible APIs)

    @property
    def size(self) -> int:
        return sum(p.count if isinstance(p, FileRegion) else len(p) for p in self.parts)


Response = Any  # a kio response entity or a RawResponse
HandleFn = Callable[["RequestContext", RequestHeader, Any], Awaitable[Response | None]]
# A handler module may define `decode(header, frame)` to read its own request body (hand-written
# hot paths, versions kio lacks); it must bounds-check and raise InvalidRequest on bad input.
DecodeFn = Callable[[RequestHeader, bytes], Any]


@dataclass(frozen=True, slots=True)
class Handler:
    api_key: int
    min_version: int
    max_version: int
    handle: HandleFn
    name: str
    decode: DecodeFn | None = None


@dataclass(slots=True)
class BrokerContext:
    """Everything handlers share: one per broker process."""

    config: BrokerConfig
    broker_id: int
    metadata: MetadataCache
    handlers: Mapping[int, Handler]
    clock: Clock
    replica_manager: ReplicaManager | None = None  # None only in handler unit tests
    producer_ids: ProducerIdManager | None = None
    admin: AdminManager | None = None  # topic/config administration; None in unit tests
    controller_api: ControllerApi | None = None  # requests for the controller (if we are it)
    group_coordinator: GroupCoordinatorRuntime | None = None  # None in handler unit tests


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request's surroundings: the broker, and the listener and peer it came from."""

    broker: BrokerContext
    listener_name: str
    client_host: str
    client_port: int
