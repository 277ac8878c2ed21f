"""Engines and migrations: the embedded SQLite file by default, PostgreSQL when configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from activation.adapters.writer_queue import QueuedConnection, queued
from activation.errors import InputError

ENV_DATABASE_URL = "ACTIVATION_DATABASE_URL"
DEFAULT_SQLITE_FILE = "activation.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SUPPORTED_URLS = "sqlite:///path/to/file.db or postgresql://user@host/database"
# The drivers installed with the project: the standard library's sqlite3 and psycopg 3.
SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: the argument, else $ACTIVATION_DATABASE_URL, else ./activation.db."""
    url = explicit or os.environ.get(ENV_DATABASE_URL) or f"sqlite:///{DEFAULT_SQLITE_FILE}"
    # psycopg 3 is the driver we install; a plain postgresql:// URL would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def checked_url(url: str) -> URL:
    """Read a database URL; refuse one the project cannot use, naming the URLs it can."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The text is not echoed: it may hold a password.
        raise InputError(f"the database URL cannot be read; use {SUPPORTED_URLS}", {"db": "malformed"}) from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise InputError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}; use {SUPPORTED_URLS}",
            {"db": "unsupported"},
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # SQLAlchemy reads a SQLite URL without a file as an in-memory database: every command would
        # start from nothing and forget what it wrote.
        raise InputError(
            f"{url!r} names no file: an in-memory database keeps nothing between commands;"
            " give a file, e.g. sqlite:///activation.db",
            {"db": "in memory"},
        )
    return parsed


READ_ONLY = "activation_read_only"
# "0" turns the SQLite writers' queue off (writers then meet only SQLite's busy handler); kept for
# measuring one against the other (bench/latency.py --no-writer-queue).
ENV_WRITER_QUEUE = "ACTIVATION_SQLITE_WRITER_QUEUE"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """Open a connection that only reads: on SQLite it does not take the write lock."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        yield conn


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and immediate write transactions."""
    resolved = database_url(url)
    checked_url(resolved)
    if resolved.startswith("sqlite"):
        queue = os.environ.get(ENV_WRITER_QUEUE, "1") != "0"
        connect_args: dict[str, Any] = {"timeout": 60}
        if queue:
            connect_args["factory"] = QueuedConnection
        engine = create_engine(resolved, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE below takes
            # the write lock up front: two writers wait for each other instead of deadlocking.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            main_file = next(row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main")
            cursor.close()
            writer = queued(dbapi_connection)
            if writer is not None:
                writer.use_queue(main_file)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A reader's deferred BEGIN reads a snapshot and never waits for a writer (WAL);
            # only writers queue for the one write lock, woken as it is freed (writer_queue.py).
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
                return
            writer = queued(conn.connection.dbapi_connection)
            if writer is not None:
                writer.wait_turn()
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                if writer is not None:
                    writer.leave()
                raise

        return engine
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None if it has none."""
    from alembic.runtime.migration import MigrationContext

    with reading(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """Return the newest schema revision the code knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest revision; return True if anything was applied."""
    if current_revision(engine) == head_revision():
        return False
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")
    return True
