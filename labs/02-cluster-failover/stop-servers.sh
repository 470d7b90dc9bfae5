#!/usr/bin/env bash
# End: stop the brokers cleanly one after the other (as Ctrl-C in each terminal would). One at a
# time, each hands its leaderships to the brokers still running; stopped all at once, they
# would each wait for a controller that is itself going away.
cd "$(dirname "$0")"
for id in 2 1 0; do
    kcli server-stop --node-id "$id"
done
