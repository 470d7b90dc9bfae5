"""kcli: Kafka's command-line tools in one command, with a bundled ZooKeeper and broker."""

__version__ = "0.1.0"
