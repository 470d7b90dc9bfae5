#!/usr/bin/env bash
# Stop the ZooKeeper started from this folder's config (as Ctrl-C in its terminal would).
cd "$(dirname "$0")"
kcli zookeeper-stop "${ZK_CONFIG:-zookeeper.properties}"
