"""Kafka\x27s network layer for kcli\x27s broker: listeners, connections, request dispatch."""
