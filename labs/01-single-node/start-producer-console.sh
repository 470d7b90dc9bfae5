#!/usr/bin/env bash
# Step 5: every line typed here becomes one record of my-topic. Ctrl-D (or Ctrl-C) ends it.
cd "$(dirname "$0")"
exec kcli console-producer \
    --broker-list "localhost:${BROKER_PORT:-9092}" \
    --topic my-topic
