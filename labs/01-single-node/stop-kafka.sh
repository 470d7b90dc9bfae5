#!/usr/bin/env bash
# Stop the broker cleanly (as Ctrl-C in its terminal would).
cd "$(dirname "$0")"
kcli server-stop
