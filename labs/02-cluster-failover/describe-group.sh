#!/usr/bin/env bash
# Steps 6-7: the members of "mygroup", which partitions each owns, and how far behind it is.
# Extra arguments are passed on (--members, --state).
cd "$(dirname "$0")"
kcli consumer-groups --describe --group mygroup \
    --bootstrap-server "localhost:${BROKER1_PORT:-9093},localhost:${BROKER2_PORT:-9094}" "$@"
