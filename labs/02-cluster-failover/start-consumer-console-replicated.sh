#!/usr/bin/env bash
# Steps 4-5: print every record of my-failsafe-topic from the oldest on. Two of the three
# brokers are enough to find the whole cluster. Each run without a group gets a group of its
# own; extra arguments are passed on (step 6 adds --consumer-property group.id=mygroup).
cd "$(dirname "$0")"
exec kcli console-consumer \
    --bootstrap-server "localhost:${BROKER2_PORT:-9094},localhost:${BROKER0_PORT:-9092}" \
    --topic my-failsafe-topic \
    --from-beginning "$@"
