#!/usr/bin/env bash
# Step 2: a topic with 13 partitions, each copied to all three brokers.
cd "$(dirname "$0")"
kcli topics --create \
    --zookeeper "localhost:${ZK_PORT:-2181}" \
    --replication-factor 3 \
    --partitions 13 \
    --topic my-failsafe-topic
