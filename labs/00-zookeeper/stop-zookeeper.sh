#!/usr/bin/env bash
# Stop the ZooKeeper started from this folder's config (like Ctrl-C in its terminal).
cd "$(dirname "$0")"
kcli zookeeper-stop "${ZK_CONFIG:-zookeeper.properties}"
