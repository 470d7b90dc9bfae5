"""`kcli dump-log`: Kafka's kafka-dump-log.sh (kafka.tools.DumpLogSegments).

Prints a segment's batches (and with --deep-iteration its records) in Kafka's format, an offset or
time index's entries, and checks indexes against their segment.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kcli.commands._run import echo_json, format_option
from kcli.errors import TerseError

EPILOG = """\b
Examples:
  kcli dump-log --files /tmp/kafka-logs/lab-0/00000000000000000000.log
  kcli dump-log --files /tmp/kafka-logs/lab-0/00000000000000000000.log --print-data-log
  kcli dump-log --files 00000000000000000000.index,00000000000000000000.timeindex
  kcli dump-log --offsets-decoder \\
      --files /tmp/kafka-logs/__consumer_offsets-0/00000000000000000000.log

\b
Sample output (--print-data-log):
  Dumping /tmp/kafka-logs/lab-0/00000000000000000000.log
  Starting offset: 0
  baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 ...
  | offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 2 sequence: -1 headerKeys: []
    key: K1 payload: V5                                            (one line per record)
  | offset: 1 CreateTime: 1700000000000 keySize: 2 valueSize: 2 sequence: -1 headerKeys: []
    key: K5 payload: V2"""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--files",
    "files",
    required=True,
    metavar="FILE[,FILE...]",
    help="Comma-separated .log, .index and .timeindex files to dump.",
)
@click.option(
    "--print-data-log",
    is_flag=True,
    help="Print record keys and values (implies --deep-iteration).",
)
@click.option("--deep-iteration", is_flag=True, help="Print every record, not only batch headers.")
@click.option(
    "--offsets-decoder",
    is_flag=True,
    help="Decode __consumer_offsets records (offset commits, group metadata) as JSON.",
)
@click.option(
    "--verify-index-only",
    is_flag=True,
    help="Check index entries against the log; print only mismatches.",
)
@click.option(
    "--index-sanity-check",
    is_flag=True,
    help="Only run the index sanity check the broker runs on start.",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=2**31 - 1,
    show_default="2147483647",
    help="Read at most this many bytes of a log file.",
)
@click.option(
    "--skip-record-metadata", is_flag=True, help="Leave out record metadata (offset, sizes, ...)."
)
@format_option
def command(
    *,
    files: str,
    print_data_log: bool,
    deep_iteration: bool,
    offsets_decoder: bool,
    verify_index_only: bool,
    index_sanity_check: bool,
    max_bytes: int,
    skip_record_metadata: bool,
    output_format: str,
) -> None:
    """Dump log segments and indexes, as kafka-dump-log.sh does."""
    from kcli.commands import _dump_log_view as view

    paths = [Path(p) for p in files.split(",") if p.strip()]
    if not paths:
        raise TerseError("--files needs at least one file")
    for path in paths:
        if not path.is_file():
            raise TerseError(f"{path}: no such file")
    print_contents = print_data_log or offsets_decoder
    options = view.Options(
        deep=deep_iteration or print_contents,
        print_contents=print_contents,
        offsets_decoder=offsets_decoder,
        verify_only=verify_index_only,
        sanity_only=index_sanity_check,
        max_bytes=max_bytes,
        skip_metadata=skip_record_metadata,
    )
    try:
        report = view.dump_files(paths, options)
    except OSError as exc:
        raise TerseError(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    if output_format == "json":
        echo_json(report.to_json())
    else:
        for line in report.lines:
            click.echo(line)
    for line in report.errors:
        click.echo(line, err=True)
    if report.failed:
        sys.exit(1)
