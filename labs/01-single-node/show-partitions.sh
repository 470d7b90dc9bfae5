#!/usr/bin/env bash
# Step 7: the same records, each with the partition and offset it was stored at.
cd "$(dirname "$0")"
exec kcli console-consumer \
    --bootstrap-server "localhost:${BROKER_PORT:-9092}" \
    --topic my-topic \
    --from-beginning \
    --property print.partition=true --property print.offset=true "$@"
