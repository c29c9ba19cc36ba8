"""SQLite checkpoints off the writer's commits (kernel.walcheckpoint)."""

from __future__ import annotations

import sqlite3
import time

import pytest
from django.db import connection

from recordroom.kernel import walcheckpoint


def test_the_checkpointer_copies_a_deferred_writers_log_back(tmp_path):
    """A writer with automatic checkpoints off leaves its log to the checkpointer's
    thread, which copies it into the database while the writer goes on."""
    path = str(tmp_path / "w.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (n INTEGER, pad TEXT)")
    checkpointer = walcheckpoint.Checkpointer(path, every=0.05).start()
    try:
        for n in range(300):  # about 1,200 pages of log, past SQLite's 1,000
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO t VALUES (?, ?)", (n, "x" * 16000))
            writer.execute("COMMIT")
        deadline = time.monotonic() + 10
        while checkpointer.runs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert checkpointer.runs >= 1
    # everything the writer committed is in the database file itself now: a reader
    # that ignores the log (immutable) sees every row
    reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (300,)
    reader.close()
    writer.close()


@pytest.mark.django_db
def test_defer_turns_off_this_connections_automatic_checkpoints():
    if connection.vendor != "sqlite":
        walcheckpoint.defer(connection)  # nothing to do elsewhere, and no error
        assert walcheckpoint.start_for(connection) is None
        return
    try:
        walcheckpoint.defer(connection)
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_autocheckpoint")
            assert cur.fetchone() == (0,)
    finally:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_autocheckpoint=1000")
        connection._checkpoints_deferred = None
