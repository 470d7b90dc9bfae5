"""The bundled ZooKeeper-protocol server: jute codec, data tree, sessions, watches, persistence.

Modules, from the wire inwards (names follow Apache ZooKeeper's classes):

    connection.py  ServerCnxn: framing, four-letter words, ordered/held output per connection
    handshake.py   ConnectRequest -> session create/reattach; auth packets
    server.py      ZooKeeperServer: request pipeline, snapshots, expiry, containers, purge
    sync.py        SyncRequestProcessor: the thread that group-commits the txn log
    prep.py        PrepRequestProcessor: write requests -> txns (validation, error codes)
    final.py       FinalRequestProcessor: read replies and write responses (multi results)
    datatree.py    DataTree: znodes, Stat rules, ephemerals, containers; applies txns
    watches.py     WatchManager: one-shot data/child watches per connection
    database.py    ZKDatabase: tree + sessions, snapshot (de)serialisation, log replay
    sessions.py    SessionTracker: ids, passwords, tickTime expiry buckets
    jute.py, records.py, txn.py   the byte layouts (sans-I/O)
    persistence/   txn log and snapshot files in ZooKeeper's on-disk format
    config.py, runner.py   properties; process lifecycle (foreground, -daemon, stop)
    fourletter.py, diagnostics.py   four-letter words (ruok, srvr, mntr, ... cons, dump)
"""
