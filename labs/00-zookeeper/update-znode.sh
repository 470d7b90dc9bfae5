#!/usr/bin/env bash
# Change /lab/config, read it back, then try a conditional update against an old version.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" set /lab/config color=green
kcli zookeeper-shell "$ZK" get -s /lab/config
kcli zookeeper-shell "$ZK" set -v 0 /lab/config color=red || echo "(refused: /lab/config is no longer at version 0)"
