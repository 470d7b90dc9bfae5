"""`kcli leader-election`: Kafka's kafka-leader-election.sh (LeaderElectionCommand, 2.4+)."""

from __future__ import annotations

import sys

import click

from kcli.commands._run import echo_json, format_option, stderr

EPILOG = """\b
Examples:
  # broker 0 came back: give every partition its preferred leader again
  kcli leader-election --bootstrap-server localhost:9092 \\
      --election-type PREFERRED --all-topic-partitions
  kcli leader-election --bootstrap-server localhost:9092 \\
      --election-type PREFERRED --topic my-failsafe-topic --partition 0
  # no in-sync replica is left: let an out-of-sync one lead (may lose records)
  kcli leader-election --bootstrap-server localhost:9092 \\
      --election-type UNCLEAN --path-to-json-file elect.json

\b
elect.json:
  {"partitions": [{"topic": "my-failsafe-topic", "partition": 1}]}

\b
Sample output:
  $ kcli leader-election --bootstrap-server localhost:9092 --election-type preferred \\
      --topic t --partition 0
  Successfully completed leader election (PREFERRED) for partitions t-0
  $ (the same again)
  Valid replica already elected for partitions t-0

\b
With --all-topic-partitions only the partitions that changed (or failed) are listed. Partitions
that could not be elected print `Error completing leader election ...` lines and exit 1."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--bootstrap-server", required=True, metavar="HOST:PORT[,...]",
              help="Brokers to connect to.")  # fmt: skip
@click.option("--admin.config", "admin_config", metavar="FILE",
              help="AdminClient properties file.")  # fmt: skip
@click.option("--election-type", required=True, metavar="PREFERRED|UNCLEAN",
              help="PREFERRED: the first replica leads again; UNCLEAN: an out-of-sync replica "
                   "may lead a partition that has no leader.")  # fmt: skip
@click.option("--topic", metavar="NAME", help="Topic of the one partition to elect.")
@click.option("--partition", type=int, metavar="N", help="Partition to elect (with --topic).")
@click.option("--all-topic-partitions", is_flag=True, help="Elect every partition.")
@click.option("--path-to-json-file", metavar="FILE",
              help="Partitions to elect, in Kafka's JSON format (see below).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1, max=600), default=30.0,
              show_default=True, help="Seconds to wait for the answer (kcli extra).")  # fmt: skip
@format_option
@click.pass_context
def command(
    ctx: click.Context,
    *,
    bootstrap_server: str,
    admin_config: str | None,
    election_type: str,
    topic: str | None,
    partition: int | None,
    all_topic_partitions: bool,
    path_to_json_file: str | None,
    timeout: float,
    output_format: str,
) -> None:
    """Elect partition leaders: preferred replicas back, or unclean for offline partitions."""
    from kcli.admin import leader_election as le
    from kcli.admin.client import client_config

    kind = le.parse_election_type(election_type)
    partitions = le.partitions_from_options(
        topic, partition, all_topic_partitions, path_to_json_file
    )
    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    config = client_config(bootstrap_server, admin_config, verbose=verbose)
    outcome = le.elect(config, kind, partitions, timeout)
    if output_format == "json":
        echo_json(le.outcome_json(outcome))
    else:
        for line in le.outcome_lines(outcome):
            click.echo(line)
    if outcome.failed:
        if output_format != "json":
            stderr(f"Error while making request: {len(outcome.failed)} replica(s) could not "
                   "be elected")  # fmt: skip
        sys.exit(1)
