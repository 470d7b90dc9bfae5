"""`kcli topics`: Kafka's kafka-topics.sh (TopicCommand), 2.8-3.x output and wording.

--bootstrap-server runs on the AdminClient (confluent-kafka); the legacy --zookeeper path reads
and writes Kafka's znodes directly (kazoo), as Kafka 2.x did.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kcli.commands._run import echo_json, format_option

if TYPE_CHECKING:
    from kcli.admin.topic_model import TopicCommandOptions, TopicService

EPILOG = """\b
Examples:
  kcli topics --bootstrap-server localhost:9092 --create --topic lab \\
      --partitions 13 --replication-factor 1
  kcli topics --bootstrap-server localhost:9092 --list
  kcli topics --bootstrap-server localhost:9092 --describe --topic lab
  kcli topics --bootstrap-server localhost:9092 --alter --topic lab --partitions 20
  kcli topics --bootstrap-server localhost:9092 --delete --topic 'lab.*'
  kcli topics --zookeeper localhost:2181 --create --topic old-style \\
      --partitions 3 --replication-factor 1 --config retention.ms=60000

\b
Sample output:
  $ kcli topics --bootstrap-server localhost:9092 --describe --topic lab
  Topic: lab\tTopicId: q7bDv6DfQhO3yXeI0uhUbg\tPartitionCount: 2\tReplicationFactor: 1\t\
Configs: segment.bytes=1073741824
  \tTopic: lab\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0
  \tTopic: lab\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0

\b
--topic is a regular expression for --list, --describe, --alter and --delete (a comma means
"or"; escape a literal dot as \\.). Failures print `Error while executing topic command : ...`
on stderr and exit 1. --format json applies to --list and --describe."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--create", "actions", flag_value="create", multiple=True, help="Create a topic.")
@click.option("--list", "actions", flag_value="list", multiple=True, help="List topics.")
@click.option("--describe", "actions", flag_value="describe", multiple=True,
              help="Describe topics: header and one line per partition.")  # fmt: skip
@click.option("--alter", "actions", flag_value="alter", multiple=True,
              help="Add partitions (and, with --zookeeper, change configs).")  # fmt: skip
@click.option("--delete", "actions", flag_value="delete", multiple=True, help="Delete topics.")
@click.option("--bootstrap-server", metavar="HOST:PORT[,...]", help="Brokers to connect to.")
@click.option("--zookeeper", metavar="HOST:PORT[/CHROOT]",
              help="DEPRECATED (as in Kafka 2.x): work on the znodes directly.")  # fmt: skip
@click.option("--command-config", metavar="FILE", help="Client properties file (AdminClient).")
@click.option("--topic", metavar="NAME|REGEX", help="Topic name; a regex except with --create.")
@click.option("--partitions", type=int, help="Partition count for --create or --alter.")
@click.option("--replication-factor", type=int, help="Replicas per partition for --create.")
@click.option("--replica-assignment", metavar="B1:B2,B3:B4,...",
              help="Explicit replicas: partitions separated by ',', replicas by ':'.")  # fmt: skip
@click.option("--config", "configs", multiple=True, metavar="K=V",
              help="Topic config override (repeatable).")  # fmt: skip
@click.option("--delete-config", "delete_configs", multiple=True, metavar="K",
              help="Remove a config override (--alter with --zookeeper).")  # fmt: skip
@click.option("--if-exists", is_flag=True, help="Alter/delete/describe only if the topic exists.")
@click.option("--if-not-exists", is_flag=True, help="Create only if the topic does not exist.")
@click.option("--exclude-internal", is_flag=True, help="Leave out internal topics.")
@click.option("--under-replicated-partitions", "under_replicated", is_flag=True,
              help="Describe only partitions whose ISR is smaller than the replicas.")  # fmt: skip
@click.option("--unavailable-partitions", "unavailable", is_flag=True,
              help="Describe only partitions whose leader is unavailable.")  # fmt: skip
@click.option("--under-min-isr-partitions", "under_min_isr", is_flag=True,
              help="Describe only partitions whose ISR is below min.insync.replicas.")  # fmt: skip
@click.option("--at-min-isr-partitions", "at_min_isr", is_flag=True,
              help="Describe only partitions whose ISR equals min.insync.replicas.")  # fmt: skip
@click.option("--topics-with-overrides", is_flag=True,
              help="Describe only topics with config overrides (headers only).")  # fmt: skip
@click.option("--disable-rack-aware", is_flag=True, hidden=True,
              help="Accepted for compatibility; assignment is rack-unaware.")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1, max=600), default=10.0,
              show_default=True, help="Seconds to wait for the cluster (kcli extra).")  # fmt: skip
@format_option
@click.pass_context
def command(
    ctx: click.Context,
    *,
    actions: tuple[str, ...],
    bootstrap_server: str | None,
    zookeeper: str | None,
    command_config: str | None,
    topic: str | None,
    partitions: int | None,
    replication_factor: int | None,
    replica_assignment: str | None,
    configs: tuple[str, ...],
    delete_configs: tuple[str, ...],
    if_exists: bool,
    if_not_exists: bool,
    exclude_internal: bool,
    under_replicated: bool,
    unavailable: bool,
    under_min_isr: bool,
    at_min_isr: bool,
    topics_with_overrides: bool,
    disable_rack_aware: bool,
    timeout: float,
    output_format: str,
) -> None:
    """Create, list, describe, alter and delete topics, as kafka-topics.sh does."""
    from kcli.admin.assignment import AdminOperationError
    from kcli.admin.topic_model import TopicCommandError, TopicCommandOptions

    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    opts = TopicCommandOptions(
        list(actions),
        bootstrap_server,
        zookeeper,
        command_config,
        topic,
        partitions,
        replication_factor,
        replica_assignment,
        list(configs),
        list(delete_configs),
        if_exists,
        if_not_exists,
        exclude_internal,
        under_replicated,
        unavailable,
        under_min_isr,
        at_min_isr,
        topics_with_overrides,
    )
    opts.check()
    try:
        _run(opts, timeout, verbose, output_format)
    except (TopicCommandError, AdminOperationError) as exc:
        if verbose:
            raise
        click.echo(f"Error while executing topic command : {exc.message}", err=True)
        sys.exit(1)


def _run(opts: TopicCommandOptions, timeout: float, verbose: bool, output_format: str) -> None:
    from kcli.admin.topic_model import DescribeFilter, has_collision_chars
    from kcli.commands import _topics_view as view

    service: TopicService
    if opts.zookeeper is not None:
        from kcli.admin.topics_zk import ZookeeperTopicService

        service = ZookeeperTopicService(opts, timeout, verbose)
    else:
        from kcli.admin.topics import AdminClientTopicService

        service = AdminClientTopicService(opts, timeout, verbose)
    try:
        action = opts.action
        if action == "list":
            names, marked = service.list_topics(opts)
            if output_format == "json":
                echo_json(view.list_json(names, marked))
            else:
                for line in view.list_lines(names, marked):
                    click.echo(line)
        elif action == "describe":
            topics = service.describe(opts)
            flt = DescribeFilter(
                opts.under_replicated,
                opts.unavailable,
                opts.under_min_isr,
                opts.at_min_isr,
                opts.topics_with_overrides,
                service.live_brokers(),
            )
            if output_format == "json":
                echo_json(view.describe_json(topics, flt))
            else:
                for line in view.describe_lines(topics, flt):
                    click.echo(line)
        elif action == "create":
            if opts.topic and has_collision_chars(opts.topic):
                click.echo(view.COLLISION_WARNING)
            service.create(opts, click.echo)
        elif action == "alter":
            service.alter(opts, click.echo)
        else:
            service.delete(opts, click.echo)
    finally:
        service.close()
