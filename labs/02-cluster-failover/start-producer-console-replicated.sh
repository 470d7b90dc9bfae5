#!/usr/bin/env bash
# Step 4: every line typed becomes a record of my-failsafe-topic. --broker-list is the old
# name of --bootstrap-server. sticky.partitioning.linger.ms=0 sends each line to a partition
# of its own choosing, as the producers of the original lab (Kafka 1.x/2.x) did.
cd "$(dirname "$0")"
exec kcli console-producer \
    --broker-list "localhost:${BROKER0_PORT:-9092},localhost:${BROKER1_PORT:-9093}" \
    --topic my-failsafe-topic \
    --producer-property sticky.partitioning.linger.ms=0
