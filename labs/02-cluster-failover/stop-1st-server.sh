#!/usr/bin/env bash
# Step 8: stop broker 0 cleanly (SIGTERM, as Ctrl-C in its terminal): it first asks the
# controller to move its leaderships to the other brokers, then stops.
cd "$(dirname "$0")"
kcli server-stop --node-id 0
