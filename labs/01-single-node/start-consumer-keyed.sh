#!/usr/bin/env bash
# Order, way 2: print each record's partition, key and value (a record without a key: null).
cd "$(dirname "$0")"
exec kcli console-consumer \
    --bootstrap-server "localhost:${BROKER_PORT:-9092}" \
    --topic my-topic \
    --from-beginning \
    --property print.partition=true --property print.key=true "$@"
