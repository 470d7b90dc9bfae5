#!/usr/bin/env bash
# Order, way 1: a topic with a single partition keeps every record in send order.
cd "$(dirname "$0")"
kcli topics --create \
    --zookeeper "localhost:${ZK_PORT:-2181}" \
    --replication-factor 1 --partitions 1 \
    --topic my-ordered-topic
