#!/usr/bin/env bash
# Step 1: broker 2 (port 9094, logs/kafka-2), in a third terminal.
cd "$(dirname "$0")"
exec kcli server-start "${KAFKA2_CONFIG:-server-2.properties}"
