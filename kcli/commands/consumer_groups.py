"""`kcli consumer-groups`: Kafka's kafka-consumer-groups.sh (ConsumerGroupCommand), 2.8-3.x output
and wording, on confluent-kafka's AdminClient."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from kcli.commands._run import echo_json, format_option

if TYPE_CHECKING:
    from kcli.admin.groups import ConsumerGroupService
    from kcli.admin.groups_options import GroupCommandOptions
    from kcli.commands._consumer_groups_view import Output

EPILOG = """\b
Examples:
  kcli consumer-groups --bootstrap-server localhost:9092 --list --state
  kcli consumer-groups --bootstrap-server localhost:9092 --describe --group lab
  kcli consumer-groups --bootstrap-server localhost:9092 --describe --group lab \\
      --members --verbose
  kcli consumer-groups --bootstrap-server localhost:9092 --describe --all-groups --state
  kcli consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group lab \\
      --topic orders:0,1 --to-datetime 2024-05-01T09:00:00.000 --dry-run
  kcli consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group lab \\
      --all-topics --shift-by -10 --execute
  kcli consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group lab \\
      --all-topics --to-earliest --export > plan.csv
  kcli consumer-groups --bootstrap-server localhost:9092 --reset-offsets --group lab \\
      --from-file plan.csv --execute
  kcli consumer-groups --bootstrap-server localhost:9092 --delete-offsets --group lab \\
      --topic orders
  kcli consumer-groups --bootstrap-server localhost:9092 --delete --group lab

\b
Sample output (columns after LAG cut here):
  $ kcli consumer-groups --bootstrap-server localhost:9092 --describe --group lab

\b
  Consumer group 'lab' has no active members.

\b
  GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG  ...
  lab             orders          0          40              50              10   ...
  lab             orders          1          50              50              0    ...

\b
  GROUP           TOTAL-LAG
  lab             10

\b
Text output is Kafka's, line for line; the TOTAL-LAG table (the sum of each group's known
lags) is a kcli extra printed after all of Kafka's lines, so scripts that parse Kafka's
format keep working. --format json gives every view with stable keys (total_lag per group).
Resets are planned only (--dry-run) unless --execute is given, and only for groups with no
active members; --to-offset, --shift-by and --from-file are clamped to each partition's
[earliest, latest] offsets. Errors print `Error: ...` on stderr and exit 1 (Kafka prints them
on stdout and exits 0). --timeout is in milliseconds, as in Kafka."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--list", "actions", flag_value="list", multiple=True, help="List all consumer groups."
)
@click.option("--describe", "actions", flag_value="describe", multiple=True,
              help="Describe groups: offsets and lag (default), --members or --state.")  # fmt: skip
@click.option("--delete", "actions", flag_value="delete", multiple=True,
              help="Delete groups (they must have no active members).")  # fmt: skip
@click.option("--reset-offsets", "actions", flag_value="reset-offsets", multiple=True,
              help="Reset committed offsets of inactive groups.")  # fmt: skip
@click.option("--delete-offsets", "actions", flag_value="delete-offsets", multiple=True,
              help="Delete a group's committed offsets for topics or partitions.")  # fmt: skip
@click.option(
    "--bootstrap-server", metavar="HOST:PORT[,...]", help="REQUIRED: brokers to connect to."
)
@click.option("--command-config", metavar="FILE", help="Client properties file (AdminClient).")
@click.option(
    "--group", "groups", multiple=True, metavar="GROUP", help="Group to act on (repeatable)."
)
@click.option("--all-groups", is_flag=True, help="Apply to all consumer groups.")
@click.option("--topic", "topics", multiple=True, metavar="TOPIC[:P,P...]",
              help="Topic (and partitions) to reset or delete (repeatable).")  # fmt: skip
@click.option("--all-topics", is_flag=True, help="Reset every partition the group has offsets for.")
@click.option("--timeout", "timeout_ms", type=click.IntRange(min=1), default=5000,
              show_default=True, metavar="MS",
              help="Timeout of each request, in milliseconds.")  # fmt: skip
@click.option("--members", is_flag=True, help="With --describe: the group's members.")
@click.option(
    "--verbose", is_flag=True, help="With --describe --members: each member's assignment."
)
@click.option("--offsets", is_flag=True, help="With --describe: offsets and lag (the default).")
@click.option("--state", is_flag=False, flag_value="", default=None, metavar="[STATES]",
              help="With --describe: the group's state. With --list: states, optionally only "
              "those listed (e.g. stable,empty).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Only show the new offsets (the default).")
@click.option("--execute", is_flag=True, help="Commit the new offsets.")
@click.option("--export", is_flag=True, help="Print the plan as CSV (topic,partition,offset).")
@click.option("--to-offset", type=int, metavar="N", help="Reset to offset N.")
@click.option("--to-earliest", is_flag=True, help="Reset to the earliest offset.")
@click.option("--to-latest", is_flag=True, help="Reset to the latest offset.")
@click.option("--to-current", is_flag=True, help="Reset to the committed offset.")
@click.option("--shift-by", type=int, metavar="N", help="Move the committed offset by N (+/-).")
@click.option("--to-datetime", metavar="YYYY-MM-DDTHH:mm:SS.sss",
              help="Reset to the first offset at or after this time (UTC by default).")  # fmt: skip
@click.option("--by-duration", metavar="PnDTnHnMnS", help="Reset to the offset this long ago.")
@click.option("--from-file", metavar="CSV", help="Reset to the offsets in this CSV file.")
@format_option
@click.pass_context
def command(ctx: click.Context, /, *, actions: tuple[str, ...], groups: tuple[str, ...],
            topics: tuple[str, ...], output_format: str, **kwargs: object) -> None:  # fmt: skip
    """List, describe, delete consumer groups and reset or delete their offsets, as
    kafka-consumer-groups.sh does."""
    from kcli.admin.groups_options import GroupCommandOptions

    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    opts = GroupCommandOptions(list(actions), groups=list(groups), topics=list(topics),
                               **kwargs)  # type: ignore[arg-type]  # click's values, typed by the options above  # fmt: skip
    opts.check()
    if output_format == "json" and opts.export:
        from kcli.errors import TerseError

        raise TerseError('Option "[export]" can\'t be used with option "[format json]"')
    if opts.dry_run_warning:
        click.echo(opts.dry_run_warning, err=True)
    failed = _run(opts, verbose, output_format)
    if failed:
        sys.exit(1)


def _emit(output: Output) -> bool:
    for to_err, line in output.lines:
        click.echo(line, err=to_err)
    return output.failed


def _run(opts: GroupCommandOptions, verbose: bool, output_format: str) -> bool:
    """Runs the action; True when something failed (exit 1)."""
    from kcli.admin.groups import ConsumerGroupService
    from kcli.admin.groups_options import parse_states
    from kcli.commands import _consumer_groups_view as view

    json_out = output_format == "json"
    service = ConsumerGroupService(opts, verbose)
    try:
        action = opts.action
        if action == "list":
            states = parse_states(opts.state) if opts.state else None
            listings = service.list_groups(states)
            if json_out:
                echo_json(view.list_json(listings))
            else:
                for line in view.list_lines(listings, opts.state is not None):
                    click.echo(line)
            return False
        if action == "describe":
            return _describe(service, opts, json_out)
        if action == "reset-offsets":
            return _reset(service, opts, json_out)
        if action == "delete":
            results = service.delete(service.group_ids(opts))
            if json_out:
                echo_json(view.delete_json(results))
                return any(e is not None for _, e in results)
            return _emit(view.delete_output(results))
        group = opts.groups[0]
        result = service.delete_offsets(group, opts.topics)
        output = view.delete_offsets_output(group, opts.topics, result)
        if json_out:
            echo_json(view.delete_offsets_json(group, result))
            for to_err, line in output.lines:
                if to_err:
                    click.echo(line, err=True)
            return output.failed
        return _emit(output)
    finally:
        service.close()


def _describe(service: ConsumerGroupService, opts: GroupCommandOptions, json_out: bool) -> bool:
    from kcli.commands import _consumer_groups_view as view

    ids = service.group_ids(opts)
    if opts.members or opts.state is not None:
        described = list(service.describe(ids).values())
        if opts.members:
            output = view.describe_members(described, opts.verbose)
            data = view.members_json(described)
        else:
            output = view.describe_state(described)
            data = view.state_json(described)
    else:
        offsets = service.collect_offsets(ids)
        output = view.describe_offsets(offsets)
        data = view.offsets_json(offsets)
    if not json_out:
        return _emit(output)
    echo_json(data)
    for to_err, line in output.lines:
        if to_err and line.startswith("Error: "):
            click.echo(line, err=True)
    return output.failed


def _reset(service: ConsumerGroupService, opts: GroupCommandOptions, json_out: bool) -> bool:
    from kcli.admin.console_producer import error_timestamp
    from kcli.admin.groups_reset import export_csv
    from kcli.commands import _consumer_groups_view as view

    results = service.reset(opts, int(time.time() * 1000))
    # Kafka prints its "partition is empty" notices on stdout; not into CSV or JSON.
    failed = _emit(view.reset_messages(results, error_timestamp(), not (json_out or opts.export)))
    if json_out:
        echo_json(view.reset_json(results))
    elif opts.export:
        plans = {r.group: r.plan.offsets for r in results}
        click.echo(export_csv(plans, len(opts.groups) == 1))
    else:
        for line in view.reset_lines(results):
            click.echo(line)
    return failed
