#!/usr/bin/env bash
# Show a topic's partitions: leader, replicas and in-sync replicas of each (default my-topic).
cd "$(dirname "$0")"
kcli topics --describe --zookeeper "localhost:${ZK_PORT:-2181}" --topic "${1:-my-topic}"
