"""Kafka's segmented log on disk. Synchronous; imports no asyncio and nothing of the broker.

Modules (each states its files, byte layouts and contract in its docstring):

    files.py       names: segments `<20-digit base offset>.log|.index|.timeindex`, the suffixes
                   `.deleted`/`.cleaned`/`.swap`, checkpoints, clean-shutdown marker; TopicPartition
    config.py      LogConfig: topic configs with Kafka's names, defaults and broker synonyms
    index.py       OffsetIndex (.index) and TimeIndex (.timeindex), memory-mapped
    segment.py     LogSegment (one .log + its indexes), FetchData (a file region for sendfile)
    log.py         Log: append (batch-level), read, truncate, roll, retention, DeleteRecords
    validator.py   append validation and in-place offset assignment (Kafka's LogValidator)
    lookup.py      ListOffsets lookups (earliest, latest, max timestamp, by timestamp)
    epoch.py       LeaderEpochFileCache (`leader-epoch-checkpoint`)
    checkpoint.py  offset checkpoint files, meta.properties, atomic writes
    retention.py   retention decisions, pure functions of (segments, config, now)
    recovery.py    loading a partition dir: leftovers, swaps, index checks, crash recovery
    manager.py     LogManager: log dirs, create/delete/lookup, startup/shutdown, periodic passes
    cleaner.py     the log cleaner (compaction; plans in cleaner_plan.py), run through
                   LogManager.run_cleaner_pass
    errors.py      storage exceptions (the broker maps them to Kafka error codes)

Typical broker use:

    manager = LogManager(["/tmp/kafka-logs"], server_properties, clock=clock)
    manager.startup()
    log = manager.get_or_create_log(TopicPartition("orders", 0))
    info = log.append(batch_bytes, leader_epoch)           # produce: LogAppendInfo
    data = log.read(fetch_offset, max_bytes, max_offset=high_watermark)
    os.sendfile(sock.fileno(), data.fd, data.position, data.size)   # or data.to_bytes()
    manager.run_retention_pass(); manager.shutdown()

Nothing here is thread-safe: one thread (the broker's event loop) owns a LogManager and its logs.
"""
