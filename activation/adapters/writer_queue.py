"""A queue for SQLite's one write lock, shared by every thread and process on the same file.

SQLite lets one writer in at a time; a writer that finds the lock taken is told "busy", and
Python's sqlite3 busy handler sleeps (1, 2, 5 ... up to 100 ms) and tries again. Under a steady
stream of writers a sleeper keeps waking just after someone else took the lock: at 50 applications
a second some waited 3 to 9 s while others passed in milliseconds (issue 10, BENCHMARKS.md).

So a writer first waits for an exclusive `flock` on a file beside the database, blocking in the
kernel (the GIL released), and only then runs `BEGIN IMMEDIATE`. The lock is released when the
transaction commits or rolls back, and the kernel releases it when a process dies, kill -9
included. The waiters are woken the moment it is released instead of at their next poll.
SQLite's own lock stays the authority: writers that do not queue here (the sqlite3 shell, other
programs) are still waited for by the busy timeout.

A queued connection does not checkpoint the WAL inside its commit (SQLite's automatic checkpoint
copies ~1,000 pages and syncs the file, ~10 ms, which the writers behind would wait for): it runs
a passive checkpoint after it has left the queue, every CHECKPOINT_EVERY commits of the process.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

QUEUE_SUFFIX = "-writers"
# An application's transaction writes ~75 WAL pages; 16 of them is about SQLite's default of a
# checkpoint every 1,000 pages.
CHECKPOINT_EVERY = 16
_commits = itertools.count(1)  # of this process; next() on it is atomic under the GIL


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose writers queue for a file lock before they take SQLite's."""

    _queue_file: str | None = None
    _queue_fd: int | None = None
    _holding = False

    def use_queue(self, database: str) -> None:
        """Queue this connection's write transactions on the lock file beside `database`."""
        if fcntl is not None and database and database != ":memory:" and not database.startswith("file:"):
            self._queue_file = database + QUEUE_SUFFIX
            self.execute("PRAGMA wal_autocheckpoint=0")  # checkpoint() below, outside the queue

    def commit(self) -> None:
        """Commit, let the next writer in, then checkpoint if it is this commit's turn."""
        holding = self._holding
        try:
            super().commit()
        finally:
            self.leave()
        if holding and next(_commits) % CHECKPOINT_EVERY == 0:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, without waiting for anyone."""
        # OperationalError: another connection is checkpointing; the WAL is in hand.
        with contextlib.suppress(sqlite3.OperationalError):
            self.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def rollback(self) -> None:
        """Roll back, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self.leave()

    def close(self) -> None:
        """Close the connection and its lock file."""
        try:
            super().close()
        finally:
            self.leave()
            if self._queue_fd is not None:
                os.close(self._queue_fd)
                self._queue_fd = None

    def wait_turn(self) -> None:
        """Wait until no other writer of this file holds its turn (a no-op without a queue)."""
        if self._queue_file is None or self._holding:
            return
        if self._queue_fd is None:
            # Read-only is enough for flock, so another account that may write the database but did
            # not create this file can still queue.
            self._queue_fd = os.open(self._queue_file, os.O_RDONLY | os.O_CREAT, 0o666)
        fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
        self._holding = True

    def leave(self) -> None:
        """Let the next writer in."""
        if self._holding and self._queue_fd is not None:
            self._holding = False
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)


def queued(dbapi_connection: Any) -> QueuedConnection | None:
    """Return the connection as a queued one, or None when it was not made by this module."""
    return dbapi_connection if isinstance(dbapi_connection, QueuedConnection) else None
