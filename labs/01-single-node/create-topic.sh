#!/usr/bin/env bash
# Step 3: create my-topic with 13 partitions and one replica each, the legacy way the training
# does it: straight through ZooKeeper (newer Kafka wants --bootstrap-server localhost:9092).
cd "$(dirname "$0")"
kcli topics --create \
    --zookeeper "localhost:${ZK_PORT:-2181}" \
    --replication-factor 1 --partitions 13 \
    --topic my-topic
