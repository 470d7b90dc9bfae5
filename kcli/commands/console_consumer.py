"""`kcli console-consumer`: kafka-console-consumer.sh (ConsoleConsumer, DefaultMessageFormatter)."""

from __future__ import annotations

import sys

import click

from kcli.commands._run import format_option

EPILOG = """\b
Examples:
  kcli console-consumer --bootstrap-server localhost:9092 --topic lab --from-beginning
  kcli console-consumer --bootstrap-server localhost:9092 --topic lab --from-beginning \\
      --max-messages 10 --property print.key=true --property print.timestamp=true
  kcli console-consumer --bootstrap-server localhost:9092 --topic lab --partition 3 \\
      --offset 42 --property print.offset=true --property print.partition=true
  kcli console-consumer --bootstrap-server localhost:9092 --include 'lab.*' --timeout-ms 5000
  kcli console-consumer --bootstrap-server localhost:9092 --topic lab --group readers

\b
Sample output (print.timestamp, print.partition, print.offset, print.key):
  CreateTime:1700000000000\tPartition:0\tOffset:3\tK1\thello
  Processed a total of 1 messages                                 (on stderr, at exit)

\b
Formatter properties (--property): print.timestamp, print.key, print.offset,
print.partition, print.headers, print.value (true), key.separator (TAB), line.separator,
headers.separator (,), null.literal (null).
Groups: with --group (or group.id in the properties) the consumer joins that group and
subscribes, as Kafka does. Without one, kcli assigns every partition of the matching topics
itself (topics that appear later are not picked up) and commits nothing; Kafka would join a
random console-consumer-NNNNN group with auto commit off, which reads the same records.
--format json prints one JSON object per record (topic, partition, offset, timestamp_type,
timestamp, key, value, headers; non-UTF-8 bytes as base64 with *_encoding)."""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--bootstrap-server", metavar="HOST:PORT[,...]", help="Brokers to connect to.")
@click.option("--topic", help="Topic to consume.")
@click.option("--include", metavar="REGEX", help="Consume every topic matching this regex.")
@click.option("--whitelist", metavar="REGEX", help="DEPRECATED alias of --include.")
@click.option("--partition", type=int, help="Consume only this partition (from the end unless "
              "--offset or --from-beginning).")  # fmt: skip
@click.option("--offset", metavar="N|earliest|latest", help="Start offset (needs --partition).")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest offset.")
@click.option("--max-messages", type=click.IntRange(min=1), help="Exit after this many records.")
@click.option("--timeout-ms", type=click.IntRange(min=0),
              help="Exit when no record arrives for this long.")  # fmt: skip
@click.option("--group", help="Consumer group id (joins the group and subscribes).")
@click.option("--consumer-property", "consumer_properties", multiple=True, metavar="K=V",
              help="Consumer config property.")  # fmt: skip
@click.option("--consumer.config", "consumer_config_file", metavar="FILE",
              help="Consumer config properties file.")  # fmt: skip
@click.option("--isolation-level", type=click.Choice(["read_committed", "read_uncommitted"]),
              help="Transactional isolation.  [default: read_uncommitted]")  # fmt: skip
@click.option("--property", "properties", multiple=True, metavar="K=V",
              help="Formatter property (see below).")  # fmt: skip
@click.option("--skip-message-on-error", is_flag=True,
              help="Skip a record that cannot be printed instead of stopping.")  # fmt: skip
@click.option("--connect-timeout", type=click.FloatRange(min=0.1, max=600), default=10.0,
              show_default=True, help="Seconds to wait for a broker at start.")  # fmt: skip
@format_option
@click.pass_context
def command(
    ctx: click.Context,
    *,
    bootstrap_server: str | None,
    topic: str | None,
    include: str | None,
    whitelist: str | None,
    partition: int | None,
    offset: str | None,
    from_beginning: bool,
    max_messages: int | None,
    timeout_ms: int | None,
    group: str | None,
    consumer_properties: tuple[str, ...],
    consumer_config_file: str | None,
    isolation_level: str | None,
    properties: tuple[str, ...],
    skip_message_on_error: bool,
    connect_timeout: float,
    output_format: str,
) -> None:
    """Print records from a topic to stdout, as kafka-console-consumer.sh does."""
    import json

    from kcli.admin.client import parse_key_values
    from kcli.admin.console_consumer import (
        ConsoleConsumer,
        ConsumerOptions,
        check_options,
        consumer_config,
    )
    from kcli.admin.message_formatter import ConsumedRecord, DefaultMessageFormatter, record_json
    from kcli.errors import ExitStatus, TerseError

    if not bootstrap_server:
        raise TerseError('Missing required argument "[bootstrap-server]"')
    opts = ConsumerOptions(
        topic=topic,
        include=include or whitelist,
        partition=partition,
        offset=offset,
        from_beginning=from_beginning,
        group=group,
        max_messages=max_messages,
        timeout_ms=timeout_ms,
    )
    check_options(opts)
    formatter = DefaultMessageFormatter.from_properties(parse_key_values(properties, "--property"))
    config, group_given = consumer_config(
        bootstrap_server,
        consumer_config_file,
        parse_key_values(consumer_properties, "--consumer-property"),
        opts,
        isolation_level,
        verbose=bool(ctx.obj and ctx.obj.get("verbose")),
    )
    out = sys.stdout.buffer
    counter = [0]

    def emit(record: ConsumedRecord) -> None:
        counter[0] += 1
        try:
            if output_format == "json":
                line = json.dumps(record_json(record), separators=(",", ":")) + "\n"
                out.write(line.encode())
            else:
                out.write(formatter.format(record))
        except (ValueError, TypeError) as exc:
            if not skip_message_on_error:
                raise TerseError(f"Error processing message: {exc}") from None

    consumer = ConsoleConsumer(config, opts, group_given)
    status = ExitStatus.OK
    try:
        consumer.start(connect_timeout)
        result = consumer.run(
            emit, out.flush, lambda line: click.echo(line, err=True), connect_timeout
        )
        if result.error is not None:
            click.echo(
                f"Error processing message, terminating consumer process: {result.error}",
                err=True,
            )
            status = ExitStatus.ERROR
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Kafka's checkErr does.
        click.echo("Unable to write to standard out, closing consumer.", err=True)
        _silence_stdout()
    finally:
        consumer.close()
    try:
        out.flush()
    except BrokenPipeError:
        _silence_stdout()
    click.echo(f"Processed a total of {counter[0]} messages", err=True)
    sys.exit(status)


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is quiet."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
