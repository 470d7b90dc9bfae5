#!/usr/bin/env bash
# Step 2: start the broker in the foreground, in a second terminal. It is ready when it logs
# "[KafkaServer id=0] started". Ctrl-C shuts it down cleanly.
cd "$(dirname "$0")"
exec kcli server-start "${KAFKA_CONFIG:-server.properties}"
