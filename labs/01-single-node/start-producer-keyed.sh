#!/usr/bin/env bash
# Order, way 2: type KEY:VALUE lines into my-topic (13 partitions). The producer hashes the key
# to pick the partition, so every record with the same key lands in the same partition.
cd "$(dirname "$0")"
exec kcli console-producer \
    --broker-list "localhost:${BROKER_PORT:-9092}" \
    --topic my-topic \
    --property parse.key=true --property key.separator=:
