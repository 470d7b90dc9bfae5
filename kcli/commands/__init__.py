"""Registry of subcommands: name -> (module, one-line help).

The root command lists these without importing them, so `kcli --help` stays fast; a module is
imported only when its subcommand runs. Each module defines a click command named `command`.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "zookeeper-start": ("kcli.commands.zookeeper_start", "Start the bundled ZooKeeper server."),
    "zookeeper-stop": ("kcli.commands.zookeeper_stop", "Stop bundled ZooKeeper servers."),
    "zookeeper-shell": ("kcli.commands.zookeeper_shell", "Browse and edit znodes."),
    "server-start": ("kcli.commands.server_start", "Start a Kafka-compatible broker."),
    "server-stop": ("kcli.commands.server_stop", "Stop brokers started with -daemon."),
    "dump-log": ("kcli.commands.dump_log", "Print the batches and records of log segment files."),
    "topics": ("kcli.commands.topics", "Create, list, describe, alter and delete topics."),
    "console-producer": ("kcli.commands.console_producer", "Send lines from stdin as records."),
    "console-consumer": ("kcli.commands.console_consumer", "Print records from topics."),
    "consumer-groups": ("kcli.commands.consumer_groups", "Describe, reset and delete groups."),
    "leader-election": ("kcli.commands.leader_election", "Elect preferred or unclean leaders."),
}
