#!/usr/bin/env bash
# Step 9: give every partition back to its preferred leader (the first replica in its list).
cd "$(dirname "$0")"
kcli leader-election \
    --bootstrap-server "localhost:${BROKER1_PORT:-9093},localhost:${BROKER2_PORT:-9094}" \
    --election-type PREFERRED \
    --all-topic-partitions
