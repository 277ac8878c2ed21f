"""The sweep benchmark's database: a temporary SQLite file or a PostgreSQL schema, seeded on the server."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import Engine, func, select, text

from activation.adapters import tables as t
from activation.adapters.db import make_engine, migrate
from bench.common import BenchError

DAY = 86_400


# -- the database -------------------------------------------------------------------------------


@dataclass
class Database:
    engine: Engine
    label: str
    close: Callable[[], None]

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"


def open_sqlite() -> Database:
    """A migrated database on a fresh temporary SQLite file, removed on close."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    engine = make_engine(f"sqlite:///{tmp}/bench.db")
    migrate(engine)

    def close() -> None:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    return Database(engine, f"temporary file {tmp}/bench.db", close)


def open_postgres(url: str, schema: str, keep: bool) -> Database:
    """A migrated database in a freshly (re)created schema of its own; the schema is dropped on close."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise SystemExit(f"--schema must be a plain lower-case identifier, not {schema!r}")
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # Only the bench schema on the search path: the tables and alembic_version land there, nowhere else.
    engine = make_engine(url, connect_args={"options": f"-c search_path={schema}"})
    migrate(engine)

    def close() -> None:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    shown = engine.url.render_as_string(hide_password=True)
    return Database(engine, f"{shown}, schema {schema}" + (" (kept)" if keep else " (dropped afterwards)"), close)


def settle(db: Database) -> None:
    """Start a timed phase from a quiet database: WAL checkpointed (SQLite) or a checkpoint (PostgreSQL)."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.postgres:
            raw.commit()
            try:
                cursor.execute("CHECKPOINT")  # needs superuser or pg_checkpoint; a nicety, not a must
                raw.commit()
            except Exception:
                raw.rollback()
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def analyze(db: Database, tables: list[str]) -> None:
    """Give the planner statistics after the bulk load, as a live database would have."""
    if db.postgres:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def db_version(db: Database) -> str:
    with db.engine.connect() as conn:
        if db.postgres:
            return "PostgreSQL " + str(conn.exec_driver_sql("SHOW server_version").scalar_one())
        return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())


# -- generated rows, server side ----------------------------------------------------------------


class Series:
    """SQL snippets that generate rows i = 1..:n on the server, per dialect.

    Statements read ``{with_()} INSERT INTO ... SELECT ... FROM s``, where ``s`` has the columns ``i``,
    ``due`` (i is one of the :k due of :n, spread evenly over the table) and ``off`` (seconds from :now to
    the alarm's fires_at). They go through ``text()``, so a literal colon is written ``\\:``.
    """

    def __init__(self, postgres: bool):
        self.postgres = postgres

    def with_(self) -> str:
        n, k = ("CAST(:n AS bigint)", "CAST(:k AS bigint)") if self.postgres else (":n", ":k")
        due = f"(i * {k}) / {n} <> ((i - 1) * {k}) / {n}"  # integer division: exactly k of 1..n, evenly spaced
        off = f"CASE WHEN {due} THEN -1 - (i % {DAY}) ELSE 3600 + (i % {30 * DAY}) END"
        cols = f"i, {due} AS due, {off} AS off"
        if self.postgres:
            return f"WITH s AS (SELECT {cols} FROM generate_series(CAST(1 AS bigint), {n}) AS g(i))"
        seq = f"seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})"
        return f"WITH RECURSIVE {seq}, s AS (SELECT {cols} FROM seq)"

    def ident(self, prefix: str) -> str:
        """'c-00000042' for i = 42."""
        if self.postgres:
            return f"'{prefix}' || lpad(CAST(i AS text), 8, '0')"
        return f"printf('{prefix}%08d', i)"

    def at(self, seconds: str) -> str:
        """:now plus a number of seconds, stored the way UTCDateTime stores it."""
        if self.postgres:
            return f"CAST(:now AS timestamp) + ({seconds}) * interval '1 second'"
        # SQLAlchemy's SQLite DATETIME format; :now has no microseconds.
        return f"strftime('%Y-%m-%d %H:%M:%S', :now, ({seconds}) || ' seconds') || '.000000'"

    def now_param(self, now: datetime) -> Any:
        naive = now.astimezone(UTC).replace(tzinfo=None)
        return naive if self.postgres else naive.strftime("%Y-%m-%d %H:%M:%S")


def count_rows(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())


def seed(db: Database, n: int, k: int, now: datetime) -> dict[str, float]:
    """Insert n cases, n open deadlines and n pending escalations (k due); return seconds per table."""
    s = Series(db.postgres)
    case_id = s.ident("c-")
    deadline_id = f"{case_id} || '.1'"
    recipient = "'team_lead:team-' || CAST(i % 50 AS TEXT)"
    due_at = s.at(f"off - {DAY}")  # an escalation fires a day after the deadline
    statements = {
        "cases": f"""
            {s.with_()}
            INSERT INTO cases (id, municipality, citizen_ref, team, caseworker, stage, stage_entered_at,
                               status, created_at)
            SELECT {case_id}, 'bench', {s.ident("ref-")}, 'team-' || CAST(i % 50 AS TEXT), NULL, 'meeting',
                   {s.at(f"off - {15 * DAY}")}, 'open', {s.at(f"off - {15 * DAY}")}
            FROM s""",
        "deadlines": f"""
            {s.with_()}
            INSERT INTO deadlines (id, case_id, todo_id, rule_key, config_version, calendar, start_event,
                                   started_at, due_at, status, closed_at, explanation)
            SELECT {deadline_id}, {case_id}, NULL, 'first_meeting', 'bench', 'DK', 'application received',
                   {s.at(f"off - {15 * DAY}")}, {due_at}, 'open', NULL, 'seeded by bench/sweep.py'
            FROM s""",
        "alarms": f"""
            {s.with_()}
            INSERT INTO alarms (id, deadline_id, case_id, kind, step, offset_label, notify_role, recipient,
                                fires_at, deadline_due_at, rule_key, state, fired_at, sweep_id)
            SELECT {deadline_id} || '\\:e1', {deadline_id}, {case_id}, 'escalation', 1, '+1d', 'team_lead',
                   {recipient}, {s.at("off")}, {due_at}, 'first_meeting', 'pending', NULL, NULL
            FROM s""",
    }
    params = {"n": n, "k": k, "now": s.now_param(now)}
    seconds: dict[str, float] = {}
    for table, sql in statements.items():
        start = perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text(sql), params)
        seconds[table] = perf_counter() - start
        # sqlite3 reports no rowcount for a statement that starts with WITH: count instead.
        inserted = count_rows(db, table)
        if inserted != n:
            raise BenchError(f"seeding {table}: inserted {inserted} rows, expected {n}")
    start = perf_counter()
    analyze(db, list(statements))
    seconds["analyze"] = perf_counter() - start
    # Read back through the typed columns: proves the generated timestamps compare like the app's own.
    with db.engine.connect() as conn:
        due = conn.execute(
            select(func.count()).select_from(t.alarms).where(t.alarms.c.state == "pending", t.alarms.c.fires_at <= now)
        ).scalar_one()
        total = conn.execute(select(func.count()).select_from(t.alarms)).scalar_one()
    if (due, total) != (k, n):
        raise BenchError(f"seeded {total} alarms of which {due} due; expected {n} and {k}")
    return seconds
