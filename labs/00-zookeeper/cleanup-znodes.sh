#!/usr/bin/env bash
# Remove the whole /lab subtree in one command.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" deleteall /lab
kcli zookeeper-shell "$ZK" ls /
