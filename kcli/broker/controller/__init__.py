"""Everything of the broker that talks to ZooKeeper, and the controller (ZooKeeper mode).

    zk.py                  kazoo bridged into asyncio; watches become ZkEvents on queues
    znodes.py              Kafka's znodes: one class per path with its JSON (ZkData.scala)
    kafka_zk_client.py     registration, cluster id, election, epoch-fenced controller writes
    admin_zk_client.py     topic creation, partition increase, deletion marks, topic configs
    metadata_sync.py       keeps the broker's MetadataCache equal to ZooKeeper
    config_change.py       ZkConfigManager: /config/changes applied to the logs
    producer_id_block.py   /latest_producer_id_block for InitProducerId
    isr_updates.py         a leader's own ISR writes and /isr_change_notification
    controller.py          KafkaController: one task draining one event queue
    events.py              the controller's events; which watch raises which
    context.py             ControllerContext: what the controller knows
    partition_state_machine.py  leader decisions as pure functions
    request_batch.py       LeaderAndIsr / UpdateMetadata after state changes
    topic_deletion.py      TopicDeletionManager
    controlled_shutdown.py moving leadership off a broker about to stop
    channel.py             ControllerChannelManager: local ReplicaManager or the wire
    broker_channel.py      one request queue and connection per remote broker

Only this package imports kazoo (an import-linter contract); handlers reach ZooKeeper through
Protocols (kcli.broker.admin_manager.AdminZk, kcli.broker.controller_api.ControllerApi).
"""
