#!/usr/bin/env bash
# Step 1: start ZooKeeper in the foreground. Give it its own terminal; Ctrl-C stops it cleanly.
cd "$(dirname "$0")"
exec kcli zookeeper-start "${ZK_CONFIG:-zookeeper.properties}"
