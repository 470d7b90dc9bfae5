#!/usr/bin/env bash
# Order, way 1: read the one-partition topic from the beginning: exactly the send order.
cd "$(dirname "$0")"
exec kcli console-consumer \
    --bootstrap-server "localhost:${BROKER_PORT:-9092}" \
    --topic my-ordered-topic \
    --from-beginning "$@"
