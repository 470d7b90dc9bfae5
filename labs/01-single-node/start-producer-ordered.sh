#!/usr/bin/env bash
# Order, way 1: type lines into the one-partition topic.
cd "$(dirname "$0")"
exec kcli console-producer \
    --broker-list "localhost:${BROKER_PORT:-9092}" \
    --topic my-ordered-topic
