#!/usr/bin/env bash
# Steps 6-7: the same consumer, but in the group "mygroup": run it three times and the group
# shares the 13 partitions out between the three.
cd "$(dirname "$0")"
exec ./start-consumer-console-replicated.sh --consumer-property group.id=mygroup "$@"
