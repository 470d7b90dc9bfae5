"""Cluster operations used by commands, on confluent-kafka (and kazoo for --zookeeper paths)."""
