#!/usr/bin/env bash
# Delete one sequential node; deleting /lab itself is refused while it has children.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" delete /lab/task-0000000002
kcli zookeeper-shell "$ZK" delete /lab || echo "(refused: /lab still has children)"
kcli zookeeper-shell "$ZK" ls /lab
