"""The bundled ZooKeeper-protocol server: jute codec, data tree, sessions, watches, persistence."""
