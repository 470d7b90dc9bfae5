#!/usr/bin/env bash
# Step 2: create a small tree of znodes: two persistent ones, then two sequential ones.
set -e
cd "$(dirname "$0")"
ZK="localhost:${ZK_PORT:-2181}"
kcli zookeeper-shell "$ZK" create /lab "hello from lab 0"
kcli zookeeper-shell "$ZK" create /lab/config color=blue
kcli zookeeper-shell "$ZK" create -s /lab/task- first
kcli zookeeper-shell "$ZK" create -s /lab/task- second
