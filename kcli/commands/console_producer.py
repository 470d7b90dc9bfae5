"""`kcli console-producer`: kafka-console-producer.sh (ConsoleProducer, LineMessageReader)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import click

EPILOG = """\b
Examples:
  kcli console-producer --bootstrap-server localhost:9092 --topic lab
  >hello
  >world                                   (Ctrl-D or Ctrl-C ends; everything is flushed)
  printf 'K1\\tV1\\nK2\\tV2\\n' | kcli console-producer --bootstrap-server localhost:9092 \\
      --topic lab --property parse.key=true
  echo 'h1:v1,h2:v2|K1|hello' | kcli console-producer --broker-list localhost:9092 \\
      --topic lab --property parse.headers=true --property headers.delimiter='|' \\
      --property parse.key=true --property key.separator='|'
  kcli console-producer --bootstrap-server localhost:9092 --topic lab \\
      --compression-codec lz4 --request-required-acks all --sync < lines.txt

\b
Reader properties (--property): parse.key, key.separator (TAB), parse.headers,
headers.delimiter (TAB), headers.separator (,), headers.key.separator (:), null.marker,
ignore.error. On a terminal each line gets a `>` prompt with line editing and history.
A failed send prints `[time] ERROR Error when sending message to topic T with key: ...,
value: N bytes with error: ...` on stderr and the exit status is 1."""

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--bootstrap-server", metavar="HOST:PORT[,...]", help="Brokers to connect to.")
@click.option("--broker-list", metavar="HOST:PORT[,...]",
              help="DEPRECATED alias of --bootstrap-server.")  # fmt: skip
@click.option("--topic", required=True, help="Topic to produce to.")
@click.option("--property", "properties", multiple=True, metavar="K=V",
              help="Line reader property (see below).")  # fmt: skip
@click.option("--producer-property", "producer_properties", multiple=True, metavar="K=V",
              help="Producer config property.")  # fmt: skip
@click.option("--producer.config", "producer_config_file", metavar="FILE",
              help="Producer config properties file.")  # fmt: skip
@click.option("--sync", is_flag=True, help="Wait for each message to be acknowledged.")
@click.option("--compression-codec", type=click.Choice(CODECS), is_flag=False,
              flag_value="gzip", default=None, metavar="[none|gzip|snappy|lz4|zstd]",
              help="Compression; without a value, gzip.  [default: none]")  # fmt: skip
@click.option("--request-required-acks", metavar="ACKS",
              help="acks: 0, 1, -1 or all.  [default: -1]")  # fmt: skip
@click.option("--batch-size", metavar="BYTES", help="batch.size.  [default: 16384]")
@click.option("--timeout", metavar="MS", help="linger.ms: wait to fill batches.  [default: 1000]")
@click.option("--message-send-max-retries", metavar="N", help="retries.  [default: 3]")
@click.option("--retry-backoff-ms", metavar="MS", help="retry.backoff.ms.  [default: 100]")
@click.option("--request-timeout-ms", metavar="MS",
              help="request.timeout.ms.  [default: 1500]")  # fmt: skip
@click.option("--metadata-expiry-ms", metavar="MS", help="Metadata refresh interval.")
@click.option("--max-block-ms", metavar="MS", help="Wait for room in the send queue.")
@click.option("--max-memory-bytes", metavar="BYTES", help="Send queue size.")
@click.option("--socket-buffer-size", metavar="BYTES", help="Socket send buffer.")
@click.option("--connect-timeout", type=click.FloatRange(min=0.1, max=600), default=10.0,
              show_default=True, help="Seconds to wait for a broker at start.")  # fmt: skip
@click.pass_context
def command(
    ctx: click.Context,
    /,
    *,
    bootstrap_server: str | None,
    broker_list: str | None,
    topic: str,
    properties: tuple[str, ...],
    producer_properties: tuple[str, ...],
    producer_config_file: str | None,
    sync: bool,
    compression_codec: str | None,
    connect_timeout: float,
    **options: str | None,
) -> None:
    """Read lines from stdin and send each as a record, as kafka-console-producer.sh does."""
    from kcli.admin.client import parse_key_values
    from kcli.admin.console_producer import ConsoleProducer, producer_config
    from kcli.admin.line_reader import LineMessageReader, LineParseError
    from kcli.errors import TerseError

    bootstrap = bootstrap_server or broker_list
    if not bootstrap:
        raise TerseError('Missing required argument "[bootstrap-server]"')
    verbose = bool(ctx.obj and ctx.obj.get("verbose"))
    reader = LineMessageReader.from_properties(parse_key_values(properties, "--property"))
    config, max_block_ms = producer_config(
        bootstrap,
        producer_config_file,
        parse_key_values(producer_properties, "--producer-property"),
        options,
        compression_codec,
        verbose=verbose,
    )
    err = _stderr_line
    producer = ConsoleProducer(config, topic, sync=sync, max_block_ms=max_block_ms, err=err)
    producer.check_cluster(connect_timeout)
    interactive = sys.stdin.isatty()
    failure: str | None = None
    try:
        for number, line in enumerate(_lines(interactive, producer), start=1):
            try:
                record = reader.read(line, number)
            except LineParseError as exc:
                failure = exc.message
                break
            producer.send(record)
    except KeyboardInterrupt:
        pass
    failed = producer.close()
    if failure is not None:
        raise TerseError(failure)
    sys.exit(1 if failed else 0)


def _stderr_line(line: str) -> None:
    click.echo(line, err=True)


def _lines(interactive: bool, producer: object) -> Iterator[str]:
    if not interactive:
        for raw in sys.stdin.buffer:
            yield raw.decode("utf-8", errors="replace").rstrip("\n").removesuffix("\r")
        return
    yield from _prompt_lines(producer)


def _prompt_lines(producer: object) -> Iterator[str]:
    """`>` prompt with prompt-toolkit's line editing and history; delivery errors print above
    the prompt (patch_stdout) from a thread that serves the producer's callbacks."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    from kcli.admin.console_producer import ConsoleProducer

    assert isinstance(producer, ConsoleProducer)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            producer.poll(0.1)

    session: PromptSession[str] = PromptSession(history=InMemoryHistory())
    with patch_stdout(raw=True):
        poller = threading.Thread(target=serve, name="producer-poll", daemon=True)
        poller.start()
        try:
            while True:
                try:
                    yield session.prompt(">")
                except EOFError:
                    return
        finally:
            stop.set()
            poller.join(1.0)
