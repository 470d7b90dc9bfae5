"""Sans-I/O Kafka protocol code: synchronous functions on bytes, no sockets, no event loop."""
