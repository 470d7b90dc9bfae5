#!/usr/bin/env bash
# List children: the root, then /lab, then the whole /lab subtree.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" ls /
kcli zookeeper-shell "$ZK" ls /lab
kcli zookeeper-shell "$ZK" ls -R /lab
