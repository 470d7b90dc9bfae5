#!/usr/bin/env bash
# Steps 3, 8, 9: who leads each partition, where its replicas are, which of them are in sync.
# Extra arguments are passed on (e.g. --under-replicated-partitions).
cd "$(dirname "$0")"
kcli topics --describe \
    --bootstrap-server "localhost:${BROKER0_PORT:-9092},localhost:${BROKER1_PORT:-9093},localhost:${BROKER2_PORT:-9094}" \
    --topic my-failsafe-topic "$@"
