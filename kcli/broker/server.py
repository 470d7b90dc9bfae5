"""KafkaServer: the broker's composition root (Kafka's KafkaServer.startup/shutdown, ZK mode).

Start-up order: ZooKeeper session (bounded wait) -> persistent paths -> cluster id -> log dirs
and meta.properties -> listeners bound -> /brokers/ids/<id> registered -> metadata loaded and
watched -> controller election -> "started". Shutdown closes the listeners and then the
ZooKeeper session, which removes this broker's ephemeral znodes at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Mapping
from dataclasses import replace

from kcli.broker import meta_properties
from kcli.broker.admin_manager import AdminManager
from kcli.broker.config import BrokerConfig, EndPoint
from kcli.broker.controller import shutdown_request
from kcli.broker.controller.admin_zk_client import AdminZkClient
from kcli.broker.controller.broker_channel import BrokerRequestSender
from kcli.broker.controller.channel import ControllerChannelManager
from kcli.broker.controller.config_change import ConfigChangeListener
from kcli.broker.controller.controller import KafkaController
from kcli.broker.controller.isr_updates import ZkIsrUpdater
from kcli.broker.controller.kafka_zk_client import ControllerElection, KafkaZkClient
from kcli.broker.controller.leader_election import RebalanceSettings
from kcli.broker.controller.metadata_sync import MetadataSync
from kcli.broker.controller.producer_id_block import ZkProducerIdBlockStore
from kcli.broker.controller.shutdown_request import ShutdownSettings
from kcli.broker.controller.zk import ZkClient
from kcli.broker.controller.znodes import BrokerRegistration
from kcli.broker.controller_api import ControllerApiError
from kcli.broker.group.runtime import GroupCoordinatorRuntime
from kcli.broker.handlers import load_registry
from kcli.broker.handlers.base import BrokerContext
from kcli.broker.metadata_cache import MetadataCache
from kcli.broker.network.socket_server import SocketServer
from kcli.broker.replica.fetcher import FetcherConfig
from kcli.broker.replica.log_tasks import LogTasks, storage_properties
from kcli.broker.replica.manager import ReplicaManager
from kcli.broker.txn.producer_id_manager import ProducerIdManager
from kcli.clock import SYSTEM_CLOCK, Clock
from kcli.errors import TerseError
from kcli.protocol.errors import ErrorCode
from kcli.storage.manager import LogManager

log = logging.getLogger("kafka.server.KafkaServer")

LOG_FORMAT = "[%(asctime)s,%(msecs)03d] %(levelname)s %(message)s (%(name)s)"


def configure_logging(verbose: bool = False) -> None:
    """Kafka's log4j pattern: `[2024-05-01 10:00:00,123] INFO message (logger)`."""
    logging.addLevelName(logging.WARNING, "WARN")  # log4j level names
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


class KafkaServer:
    def __init__(self, config: BrokerConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        self.config = config
        self.clock = clock
        self.broker_id = config.broker_id
        self.metadata = MetadataCache()
        self.zk = ZkClient(
            config.zookeeper, config.zk_session_timeout_ms, config.zk_connection_timeout_ms
        )
        self.kzk = KafkaZkClient(self.zk)
        self.socket_server: SocketServer | None = None
        self.sync: MetadataSync | None = None
        self.advertised: tuple[EndPoint, ...] = config.advertised_listeners
        self.controller_epoch = -1
        self.broker_epoch = -1  # czxid of /brokers/ids/<id>; -1 until registered
        self.log_manager: LogManager | None = None
        self.replica_manager: ReplicaManager | None = None
        self.log_tasks: LogTasks | None = None
        self.context: BrokerContext | None = None
        self.controller: KafkaController | None = None
        self.config_changes: ConfigChangeListener | None = None
        self.group_coordinator: GroupCoordinatorRuntime | None = None
        self.isr_updater = ZkIsrUpdater(self.kzk, clock)

    @property
    def ident(self) -> str:
        return f"[KafkaServer id={self.broker_id}]"

    async def startup(self) -> None:
        log.info("%s starting", self.ident)
        log.info("Connecting to zookeeper on %s", self.config.zookeeper.hosts
                 + self.config.zookeeper.chroot)  # fmt: skip
        await self.zk.start()
        await self.kzk.create_top_level_paths()
        cluster_id = await self.kzk.get_or_create_cluster_id()
        log.info("Cluster ID = %s", cluster_id)
        self.metadata.cluster_id = cluster_id
        await self._prepare_log_dirs(cluster_id)
        self._start_logs()

        context = BrokerContext(
            self.config,
            self.broker_id,
            self.metadata,
            load_registry(),
            self.clock,
            replica_manager=self.replica_manager,
            producer_ids=ProducerIdManager(self.broker_id, ZkProducerIdBlockStore(self.zk)),
        )
        context.admin = AdminManager(self.config, self.metadata, AdminZkClient(self.zk), self.clock)
        context.controller_api = self
        if self.replica_manager is not None:  # loads __consumer_offsets partitions it leads
            self.group_coordinator = GroupCoordinatorRuntime(
                self.config, self.replica_manager, self.metadata, context.admin, self.clock
            )
            self.group_coordinator.start()
            context.group_coordinator = self.group_coordinator
        self.context = context
        self.socket_server = SocketServer(context, self.config.listeners)
        await self.socket_server.start()
        self.advertised = self._advertised_with_bound_ports()
        await self._register()

        self.sync = MetadataSync(self.zk, self.metadata, self._elect, self._on_new_session)
        await self.sync.load()
        self.sync.start()
        self.config_changes = ConfigChangeListener(self.zk, self._on_topic_config, self.clock)
        await self.config_changes.start()
        await self._elect()
        # Start-up objects (modules, configs, loaded logs) live as long as the broker: keep them
        # out of the collector's full passes, which otherwise stall requests for ~20 ms.
        gc.freeze()
        log.info("%s started", self.ident)

    async def _prepare_log_dirs(self, cluster_id: str) -> None:
        found = meta_properties.load_all(self.config.log_dirs)
        meta_properties.check_cluster_id(found, cluster_id)
        broker_id = meta_properties.resolve_broker_id(found, self.config.broker_id)
        if broker_id is None:
            if not self.config.get_bool("broker.id.generation.enable"):
                raise TerseError("broker.id is -1 and broker.id.generation.enable is false")
            broker_id = await self.kzk.generate_broker_id(
                self.config.get_int("reserved.broker.max.id")
            )
        self.broker_id = broker_id
        meta = meta_properties.MetaProperties(cluster_id, broker_id)
        meta_properties.write_missing(found, self.config.log_dirs, meta)

    def _start_logs(self) -> None:
        """Load every partition log (recovering after an unclean stop) and start the periodic
        retention/flush/checkpoint/cleaner passes."""
        log_manager = LogManager(
            self.config.log_dirs, storage_properties(self.config), clock=self.clock
        )
        log_manager.startup()
        self.log_manager = log_manager
        self.replica_manager = ReplicaManager(
            self.broker_id,
            log_manager,
            self.metadata,
            self.clock,
            fetcher_config=self._fetcher_config(),
            isr_writer=self.isr_updater,
            replica_lag_time_max_ms=self.config.get_int("replica.lag.time.max.ms"),
        )
        self.isr_updater.start()
        self.log_tasks = LogTasks(self.config, self.replica_manager, self.clock)
        self.log_tasks.start()

    def _fetcher_config(self) -> FetcherConfig:
        c = self.config
        listener = c.values["inter.broker.listener.name"]
        return FetcherConfig(
            max_wait_ms=c.get_int("replica.fetch.wait.max.ms"),
            min_bytes=c.get_int("replica.fetch.min.bytes"),
            partition_max_bytes=c.get_int("replica.fetch.max.bytes"),
            response_max_bytes=c.get_int("replica.fetch.response.max.bytes"),
            backoff_ms=c.get_int("replica.fetch.backoff.ms"),
            socket_timeout_ms=c.get_int("replica.socket.timeout.ms"),
            listener_name=listener if isinstance(listener, str) and listener else "PLAINTEXT",
        )

    async def _stop_logs(self) -> None:
        """Stop the follower fetchers, answer waiting requests, write the high watermarks,
        close every log (flush, checkpoints, clean-shutdown marker)."""
        if self.log_tasks is not None:
            await self.log_tasks.stop()
        if self.replica_manager is not None:
            await self.replica_manager.stop_replication()
        await self.isr_updater.stop()
        if self.replica_manager is not None:
            self.replica_manager.shutdown()
        if self.log_manager is not None:
            self.log_manager.shutdown()
            self.log_manager = None

    def _advertised_with_bound_ports(self) -> tuple[EndPoint, ...]:
        """Port 0 in listeners binds a free port; advertise the one actually bound."""
        assert self.socket_server is not None
        bound = self.socket_server.bound
        return tuple(
            replace(e, port=bound[e.listener_name][1])
            if e.port == 0 and e.listener_name in bound
            else e
            for e in self.config.advertised_listeners
        )

    async def _register(self) -> None:
        rack = self.config.values["broker.rack"]
        registration = BrokerRegistration(
            broker_id=self.broker_id,
            endpoints=tuple(
                (e.listener_name, e.security_protocol, e.host, e.port) for e in self.advertised
            ),
            rack=rack if isinstance(rack, str) and rack else None,
            timestamp_ms=self.clock.time_ms(),
        )
        self.broker_epoch = await self.kzk.register_broker(registration)

    async def _elect(self) -> None:
        was_controller = self.metadata.controller_id == self.broker_id
        election = await self.kzk.elect(self.broker_id, self.clock.time_ms())
        self.metadata.set_controller(election.controller_id)
        if election.controller_id == self.broker_id and election.epoch >= 0:
            self.controller_epoch = election.epoch
            log.info("[Controller id=%d] Became controller, epoch %d", self.broker_id,
                     election.epoch)  # fmt: skip
            await self._start_controller(election)
        elif was_controller and election.controller_id != self.broker_id:
            log.info("[Controller id=%d] Resigned as controller", self.broker_id)
            await self._stop_controller()

    async def _start_controller(self, election: ControllerElection) -> None:
        await self._stop_controller()
        local = self.context.replica_manager if self.context is not None else None
        self.controller = KafkaController(
            self.broker_id,
            self.zk,
            self.kzk,
            ControllerChannelManager(self.broker_id, local, self._broker_sender()),
            delete_topic_enable=self.config.get_bool("delete.topic.enable"),
            unclean_leader_election=self.config.get_bool("unclean.leader.election.enable"),
            on_resign=self._elect,
            metadata=self.metadata,
            rebalance=RebalanceSettings(
                enable=self.config.get_bool("auto.leader.rebalance.enable"),
                interval_s=self.config.get_int("leader.imbalance.check.interval.seconds"),
                percentage=self.config.get_int("leader.imbalance.per.broker.percentage"),
            ),
        )
        self.controller.start(election.epoch, election.epoch_zk_version)

    def _broker_sender(self) -> BrokerRequestSender:
        listener = self.config.values["inter.broker.listener.name"]
        return BrokerRequestSender(
            self.broker_id,
            self.metadata,
            listener if isinstance(listener, str) and listener else "PLAINTEXT",
            self.config.get_int("controller.socket.timeout.ms"),
        )

    async def _stop_controller(self) -> None:
        if self.controller is not None:
            controller, self.controller = self.controller, None
            await controller.stop()

    async def controlled_shutdown(self, broker_id: int, broker_epoch: int) -> list[tuple[str, int]]:
        """ControllerApi: served only while this broker is the controller."""
        if self.controller is None or not self.controller.active:
            raise ControllerApiError(ErrorCode.not_controller)
        return await self.controller.controlled_shutdown(broker_id, broker_epoch)

    async def elect_leaders(
        self, election_type: int, partitions: list[tuple[str, int]] | None
    ) -> dict[tuple[str, int], tuple[ErrorCode, str | None]]:
        """ControllerApi: served only while this broker is the controller."""
        if self.controller is None or not self.controller.active:
            raise ControllerApiError(ErrorCode.not_controller)
        return await self.controller.elect_leaders(election_type, partitions)

    async def _controlled_shutdown(self) -> None:
        """Ask the controller to move leadership off this broker before it stops."""
        listener = self.config.values["inter.broker.listener.name"]
        settings = ShutdownSettings(
            max_retries=self.config.get_int("controlled.shutdown.max.retries"),
            backoff_ms=self.config.get_int("controlled.shutdown.retry.backoff.ms"),
            listener_name=listener if isinstance(listener, str) and listener else "PLAINTEXT",
        )
        await shutdown_request.controlled_shutdown(
            self.broker_id, self.broker_epoch, self.metadata, settings, self.controlled_shutdown
        )

    def _on_topic_config(self, topic: str, overrides: Mapping[str, str]) -> None:
        """ZkConfigManager's callback: a topic's overrides changed in ZooKeeper."""
        local = self.context.replica_manager if self.context is not None else None
        if local is not None:
            local.update_topic_config(topic, overrides)

    async def _on_new_session(self) -> None:
        await self._register()
        await self._elect()

    async def shutdown(self) -> None:
        log.info("%s shutting down", self.ident)
        if self.broker_epoch >= 0 and self.config.get_bool("controlled.shutdown.enable"):
            await self._controlled_shutdown()
        if self.socket_server is not None:
            await self.socket_server.stop()
        if self.sync is not None:
            await self.sync.stop()
        await self._stop_controller()
        if self.config_changes is not None:
            await self.config_changes.stop()
        if self.group_coordinator is not None:
            await self.group_coordinator.stop()
        await self._stop_logs()
        await self.zk.close()
        log.info("%s shut down completed", self.ident)


async def serve(config: BrokerConfig) -> None:
    """Run a broker until SIGTERM or SIGINT, then shut it down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = KafkaServer(config)
    try:
        await server.startup()
        await stop.wait()
    finally:
        await server.shutdown()
