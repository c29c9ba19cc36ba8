"""SQLite's WAL checkpoints moved off a busy writer's commits, onto a thread of their own.

Why: in WAL mode the connection whose commit takes the log past 1,000 pages copies the
log back into the database and syncs it, inside that commit. The HL7 listener commits
once a message, so every fifty to a hundred messages one of them waited for a
checkpoint (its copy and its fsync): on a busy disk that was the largest single cost
of a message (docs/performance.md, HL7 ADT). A process that writes in a loop turns
its own connections' automatic checkpoints off (`defer`) and runs `Checkpointer`,
which checkpoints PASSIVE (never blocking the writer or a reader) every fraction of a
second from its own connection; the GIL is released while SQLite works. Durability
is unchanged: with synchronous=NORMAL a commit is durable against a crash of the
process when it returns, and against a crash of the machine at the next checkpoint,
as before. Every other process keeps SQLite's automatic checkpoints, so the log
stays bounded even if this thread stopped; it logs and goes on after an error.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

log = logging.getLogger(__name__)


def defer(connection: Any) -> None:
    """Turn off automatic checkpoints on this Django SQLite connection (opening it if
    needed); once per underlying connection. Nothing on another database."""
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    raw = connection.connection
    if getattr(connection, "_checkpoints_deferred", None) is raw:
        return
    raw.execute("PRAGMA wal_autocheckpoint=0")
    connection._checkpoints_deferred = raw


class Checkpointer:
    """A daemon thread checkpointing the database at `path` every `every` seconds."""

    def __init__(self, path: str, every: float = 0.25) -> None:
        self.path = path
        self.every = every
        self.runs = 0  # checkpoints that copied something (for tests and logs)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="sqlite-checkpoint", daemon=True
        )

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and run a last checkpoint."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, timeout=20, check_same_thread=False)
        try:
            while True:
                stopping = self._stop.wait(self.every)
                self.checkpoint(db)
                if stopping:
                    return
        finally:
            db.close()

    def checkpoint(self, db: sqlite3.Connection) -> None:
        try:
            row = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            copied = row[2]  # (busy, frames in the log, frames copied)
        except sqlite3.Error:
            log.exception("WAL checkpoint of %s failed; trying again", self.path)
            return
        if copied > 0:
            self.runs += 1


def start_for(connection: Any) -> Checkpointer | None:
    """A running checkpointer for the database of this Django connection, if SQLite."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or name == ":memory:" or "mode=memory" in name:
        return None
    return Checkpointer(name).start()
