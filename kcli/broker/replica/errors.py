"""Exceptions of the replica layer. The handler layer maps them (and storage's) to Kafka error
codes (kcli.broker.handlers.replica_errors): one error table, one boundary."""

from __future__ import annotations


class ReplicaError(Exception):
    """Root of replica-layer errors; each names the Kafka error it becomes."""


class UnknownTopicOrPartition(ReplicaError):
    """UNKNOWN_TOPIC_OR_PARTITION (3): no such partition in the cluster metadata."""


class NotLeaderOrFollower(ReplicaError):
    """NOT_LEADER_OR_FOLLOWER (6): the partition exists but this broker does not lead it."""


class InvalidTopic(ReplicaError):
    """INVALID_TOPIC_EXCEPTION (17): an illegal name, or a client write to an internal topic."""


class NotEnoughReplicas(ReplicaError):
    """NOT_ENOUGH_REPLICAS (19): acks=all while |ISR| < min.insync.replicas, before appending."""


class NotEnoughReplicasAfterAppend(ReplicaError):
    """NOT_ENOUGH_REPLICAS_AFTER_APPEND (20): the ISR shrank below min.insync.replicas while an
    acks=all produce waited."""


class RequestTimedOut(ReplicaError):
    """REQUEST_TIMED_OUT (7): acks=all produce not replicated within timeout_ms."""


class FencedLeaderEpoch(ReplicaError):
    """FENCED_LEADER_EPOCH (74): the client's current_leader_epoch is older than ours."""


class UnknownLeaderEpoch(ReplicaError):
    """UNKNOWN_LEADER_EPOCH (75): the client's current_leader_epoch is newer than ours."""


class OffsetNotAvailable(ReplicaError):
    """OFFSET_NOT_AVAILABLE (78): a new leader's high watermark has not reached the start of
    its epoch yet, so "latest" is not known."""
