#!/usr/bin/env bash
# Step 6: print every record of my-topic, starting from the oldest, then wait for more.
# Ctrl-C ends it. Extra arguments are passed on (the walkthrough adds --max-messages N).
cd "$(dirname "$0")"
exec kcli console-consumer \
    --bootstrap-server "localhost:${BROKER_PORT:-9092}" \
    --topic my-topic \
    --from-beginning "$@"
