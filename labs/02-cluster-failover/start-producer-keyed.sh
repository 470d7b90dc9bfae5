#!/usr/bin/env bash
# Steps 6-8: lines typed as KEY:VALUE; the key picks the partition (murmur2, as Kafka's tools),
# so each user's messages land in one partition and so with one consumer of the group.
cd "$(dirname "$0")"
exec kcli console-producer \
    --broker-list "localhost:${BROKER0_PORT:-9092},localhost:${BROKER1_PORT:-9093}" \
    --topic my-failsafe-topic \
    --property parse.key=true --property key.separator=:
