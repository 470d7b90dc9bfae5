#!/usr/bin/env bash
# Step 4: list the topics the cluster knows about.
cd "$(dirname "$0")"
kcli topics --list --zookeeper "localhost:${ZK_PORT:-2181}"
