#!/usr/bin/env bash
# An interactive shell: one ZooKeeper session that lives until you type quit or press Ctrl-D.
cd "$(dirname "$0")"
exec kcli zookeeper-shell "localhost:${ZK_PORT:-2181}"
