"""Kafka's segmented log on disk. Synchronous; imports no asyncio and nothing of the broker."""
