#!/usr/bin/env bash
# Step 8: kill broker 0 without warning (SIGKILL, what `kill -9` and a power cut amount to).
# Usage: ./kill-1st-server.sh PID   (broker 0's pid: its log's first lines, or `ps`)
set -eu
kill -9 "${1:?usage: kill-1st-server.sh PID-of-broker-0}"
