"""The Kafka-compatible broker: one asyncio process per broker."""
