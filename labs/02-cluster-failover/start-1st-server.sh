#!/usr/bin/env bash
# Step 1: broker 0 in the foreground, in a terminal of its own. Ready when it logs
# "[KafkaServer id=0] started". Ctrl-C shuts it down cleanly (controlled shutdown).
cd "$(dirname "$0")"
exec kcli server-start "${KAFKA0_CONFIG:-server-0.properties}"
