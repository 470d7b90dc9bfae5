#!/usr/bin/env bash
# Step 1: broker 1 (port 9093, logs/kafka-1), in a second terminal.
cd "$(dirname "$0")"
exec kcli server-start "${KAFKA1_CONFIG:-server-1.properties}"
