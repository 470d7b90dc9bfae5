"""Listeners (Kafka's SocketServer): one asyncio server per configured PLAINTEXT endpoint."""

from __future__ import annotations

import asyncio
import errno
import logging

from kcli.broker.config import EndPoint
from kcli.broker.handlers.base import BrokerContext
from kcli.broker.network.connection import MAX_IN_FLIGHT, KafkaConnection
from kcli.errors import TerseError

log = logging.getLogger("kafka.network.SocketServer")

# requests started and not yet answered per connection (kcli's own key; Kafka mutes instead)
MAX_IN_FLIGHT_KEY = "kcli.max.in.flight.requests.per.connection"


class SocketServer:
    def __init__(self, broker: BrokerContext, endpoints: tuple[EndPoint, ...]) -> None:
        self._broker = broker
        self._endpoints = endpoints
        self._servers: list[asyncio.Server] = []
        self._connections: set[KafkaConnection] = set()
        self.bound: dict[str, tuple[str, int]] = {}  # listener name -> actual (host, port)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        max_size = self._broker.config.socket_request_max_bytes
        in_flight = self._broker.config.values.get(MAX_IN_FLIGHT_KEY, MAX_IN_FLIGHT)
        max_in_flight = in_flight if isinstance(in_flight, int) else MAX_IN_FLIGHT
        for endpoint in self._endpoints:
            name = endpoint.listener_name

            def factory(name: str = name) -> KafkaConnection:
                conn = KafkaConnection(
                    self._broker,
                    name,
                    max_size,
                    on_close=self._connections.discard,
                    max_in_flight=max_in_flight,
                )
                self._connections.add(conn)
                return conn

            host = endpoint.host or None  # empty host: every interface
            try:
                server = await loop.create_server(
                    factory, host, endpoint.port, reuse_address=True, backlog=512
                )
            except OSError as exc:
                where = f"{endpoint.host or '0.0.0.0'}:{endpoint.port}"
                reason = "Address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
                raise TerseError(f"Socket server failed to bind to {where}: {reason}.") from None
            self._servers.append(server)
            sock = server.sockets[0].getsockname()
            self.bound[name] = (str(sock[0]), int(sock[1]))
            log.info(
                "Created data-plane acceptor and processors for endpoint : ListenerName(%s)",
                name,
            )

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        conns = list(self._connections)
        self._connections.clear()
        for conn in conns:
            await conn.aclose()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
