#!/usr/bin/env bash
# Read a znode's data and its Stat (versions, zxids, owner). Default: /lab/config.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" get -s "${1:-/lab/config}"
