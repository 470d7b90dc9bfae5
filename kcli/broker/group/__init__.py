"""Group coordinator (Kafka's classic group protocol): pure state machine plus async runtime."""
