"""Benchmark the deadline sweep against the physical limit and against one Prefect flow run per deadline.

Run from the repository root with the project's venv active:

    python bench/sweep.py                                   # 1,000,000 open deadlines, 100,000 due, SQLite
    python bench/sweep.py --deadlines 100000 --due 10000    # a quicker run
    python bench/sweep.py --url postgresql://postgres@127.0.0.1:5432/test

It seeds N open deadlines with one pending escalation alarm each (K of them due, spread evenly over the
table), then times

  (1) the sweep: ``activation.services.sweep(SqlStore(engine), now, batch)`` firing all K alarms, checked
      afterwards to have fired each exactly once (K notifications, K fired alarms, a second sweep fires 0);
  (a) the physical limit: one ``INSERT ... SELECT`` of K generated rows into a scratch table shaped like
      ``notifications`` (same columns, primary key and index), the cheapest way the database writes K rows;
  (b) one Prefect flow run per due deadline: an async flow that fires one alarm (UPDATE + INSERT in one
      transaction), run ``--sample`` times one after the other after a warm-up run (which starts the
      ephemeral Prefect server; reported apart), extrapolated to K. ``--skip-prefect`` leaves it out.

For reference it also times the same one-alarm transaction in a plain Python loop (no Prefect), so the
cost of going row by row and the cost of Prefect can be told apart. Seeding is timed and printed too, but
is in none of the ratios.

SQLite runs on a fresh temporary file, removed afterwards. With ``--url`` the run happens in a schema of
its own (``--schema``, default ``bench_sweep``) of that PostgreSQL database: the schema is DROPPED WITH
EVERYTHING IN IT and recreated at the start, and dropped at the end unless ``--keep``. Other schemas, such
as the project's tables in ``public``, are not touched.

Prefect runs embedded, on a temporary ``PREFECT_HOME`` (telemetry off); see shared/notes/prefect.md.
The report goes to stdout; with ``--json`` it goes to stderr and stdout carries only the figures as JSON.
Prefect's own log lines go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from sqlalchemy import (
    Column,
    Engine,
    Index,
    MetaData,
    Table,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy import __version__ as sqlalchemy_version
from sqlalchemy.dialects import postgresql, sqlite

from activation import services
from activation.adapters import tables as t
from activation.adapters.db import database_url, make_engine, migrate
from activation.adapters.sql import SqlStore

DAY = 86_400
NOTIFICATION_COLUMNS = [
    "id",
    "case_id",
    "kind",
    "step",
    "notify_role",
    "recipient",
    "rule_key",
    "deadline_due_at",
    "created_at",
]


class BenchError(RuntimeError):
    """A check failed: the figures would be meaningless."""


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


# -- the figures --------------------------------------------------------------------------------


def count_state(db: Database, now: datetime) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            "notifications": conn.execute(select(func.count()).select_from(t.notifications)).scalar_one(),
            "fired": conn.execute(
                select(func.count()).select_from(t.alarms).where(t.alarms.c.state == "fired")
            ).scalar_one(),
            "pending_due": conn.execute(
                select(func.count())
                .select_from(t.alarms)
                .where(t.alarms.c.state == "pending", t.alarms.c.fires_at <= now)
            ).scalar_one(),
        }


def check_exactly_once(db: Database, now: datetime, k: int, when: str) -> None:
    counts = count_state(db, now)
    expected = {"notifications": k, "fired": k, "pending_due": 0}
    if counts != expected:
        raise BenchError(f"exactly-once check {when}: found {counts}, expected {expected}")


@dataclass
class SweepFigures:
    seconds: float
    batches: int
    fired: int
    second_sweep_fired: int


def time_sweep(db: Database, now: datetime, k: int, batch: int) -> SweepFigures:
    store = SqlStore(db.engine)
    start = perf_counter()
    report = services.sweep(store, now, batch)
    seconds = perf_counter() - start
    again = services.sweep(store, now, batch)
    figures = SweepFigures(seconds, report.batches, report.total, again.total)
    if report.total != k or report.skipped_reminders or again.total:
        raise BenchError(f"sweep fired {report.total} (expected {k}), then {again.total} more (expected 0)")
    check_exactly_once(db, now, k, "after the sweep")
    return figures


def scratch_notifications() -> Table:
    """A table shaped like notifications (columns, primary key, index) under another name."""
    md = MetaData()
    columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in t.notifications.c]
    table = Table("bench_notifications", md, *columns)
    Index("ix_bench_notifications_recipient", table.c.recipient, table.c.created_at)
    return table


def time_raw_insert(db: Database, now: datetime, k: int) -> float:
    """Write k notification-shaped rows in one INSERT ... SELECT, generated on the server; commit included."""
    s = Series(db.postgres)
    table = scratch_notifications()
    table.drop(db.engine, checkfirst=True)
    table.create(db.engine)
    sql = f"""
        {s.with_()}
        INSERT INTO bench_notifications ({", ".join(NOTIFICATION_COLUMNS)})
        SELECT {s.ident("c-")} || '.1\\:e1', {s.ident("c-")}, 'escalation', 1, 'team_lead',
               'team_lead:team-' || CAST(i % 50 AS TEXT), 'first_meeting', {s.at(f"-{DAY} - (i % {DAY})")},
               {s.at("0")}
        FROM s"""
    settle(db)
    try:
        start = perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text(sql), {"n": k, "k": k, "now": s.now_param(now)})
        seconds = perf_counter() - start
        inserted = count_rows(db, table.name)
    finally:
        table.drop(db.engine)
    if inserted != k:
        raise BenchError(f"raw insert wrote {inserted} rows, expected {k}")
    return seconds


def _insert(db: Database, table: Table) -> Any:
    return (postgresql if db.postgres else sqlite).insert(table)


def fire_one(db: Database, alarm_id: str, now: datetime) -> int:
    """Fire one alarm by id, exactly once: SqlTransaction.fire_due_alarms shrunk to a single row."""
    with db.engine.begin() as conn:
        fired = conn.execute(
            update(t.alarms)
            .where(t.alarms.c.id == alarm_id, t.alarms.c.state == "pending")
            .values(state="fired", fired_at=now, sweep_id=uuid.uuid4().hex)
            .returning(t.alarms.c.id)
        ).all()
        if not fired:
            return 0
        row = select(
            *(t.alarms.c[name] for name in NOTIFICATION_COLUMNS[:-1]),
            literal(now, t.UTCDateTime()).label("created_at"),
        ).where(t.alarms.c.id == alarm_id)
        conn.execute(_insert(db, t.notifications).from_select(NOTIFICATION_COLUMNS, row).on_conflict_do_nothing())
    return 1


def fired_ids(db: Database, count: int) -> list[str]:
    with db.engine.connect() as conn:
        query = select(t.alarms.c.id).where(t.alarms.c.state == "fired").order_by(t.alarms.c.id).limit(count)
        return list(conn.execute(query).scalars())


def unfire(db: Database, ids: list[str]) -> None:
    """Put fired alarms back to pending and delete their notifications, to fire them again one by one."""
    with db.engine.begin() as conn:
        conn.execute(
            update(t.alarms).where(t.alarms.c.id.in_(ids)).values(state="pending", fired_at=None, sweep_id=None)
        )
        conn.execute(delete(t.notifications).where(t.notifications.c.id.in_(ids)))


def time_row_loop(db: Database, now: datetime, count: int) -> list[float]:
    """Fire `count` alarms one transaction each, in a plain loop: row-by-row without Prefect."""
    ids = fired_ids(db, count)
    unfire(db, ids)
    settle(db)
    durations = []
    for alarm_id in ids:
        start = perf_counter()
        if fire_one(db, alarm_id, now) != 1:
            raise BenchError(f"alarm {alarm_id} did not fire in the plain loop")
        durations.append(perf_counter() - start)
    return durations


@dataclass
class PrefectFigures:
    import_seconds: float
    warmup_seconds: float
    runs: list[float] = field(default_factory=list)


def prepare_prefect_env() -> str:
    """Telemetry off, a throw-away PREFECT_HOME, a patient ephemeral server; before prefect is imported."""
    home = tempfile.mkdtemp(prefix="bench-sweep-prefect-")
    # Registered before Prefect registers its own exit hooks, so it runs after the server has stopped.
    atexit.register(shutil.rmtree, home, True)
    os.environ["PREFECT_HOME"] = home
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
    return home


def time_prefect(db: Database, now: datetime, sample: int) -> PrefectFigures:
    """One async flow run per alarm, sequentially: a warm-up run, then `sample` measured runs."""
    if "prefect" in sys.modules:
        raise BenchError("prefect was imported before its settings were set")
    prepare_prefect_env()
    start = perf_counter()
    from prefect import flow

    import_seconds = perf_counter() - start

    @flow(name="bench-fire-one-alarm", persist_result=False)
    async def fire_one_alarm(alarm_id: str, at: datetime) -> int:
        """Fire the alarm of one deadline: the per-deadline orchestration the sweep replaces."""
        return fire_one(db, alarm_id, at)

    ids = fired_ids(db, sample + 1)
    unfire(db, ids)
    settle(db)

    async def run_all() -> list[float]:
        durations = []
        for alarm_id in ids:
            begin = perf_counter()
            fired = await fire_one_alarm(alarm_id, now)
            durations.append(perf_counter() - begin)
            if fired != 1:
                raise BenchError(f"alarm {alarm_id} did not fire in its flow run")
        return durations

    durations = asyncio.run(run_all())
    return PrefectFigures(import_seconds, durations[0], durations[1:])


# -- the report ---------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        prefect_version = importlib_metadata.version("prefect")
    except importlib_metadata.PackageNotFoundError:
        prefect_version = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy_version,
        "prefect": prefect_version,
    }


def duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds:,.0f} s = {seconds / 3600:,.1f} h"
    if seconds >= 120:
        return f"{seconds:,.0f} s = {seconds / 60:,.1f} min"
    return f"{seconds:,.3f} s"


def ms(seconds: float, digits: int = 0) -> str:
    return f"{seconds * 1000:.{digits}f} ms"


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else float("inf")


@contextmanager
def phase(what: str) -> Iterator[None]:
    """Show progress on stderr, with the time the phase took."""
    print(f"... {what}", file=sys.stderr, flush=True)
    start = perf_counter()
    yield
    print(f"    done in {perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def print_report(out: TextIO, result: dict[str, Any]) -> None:
    m, p = result["machine"], result["parameters"]
    k = p["due"]
    seed_s = result["seeding_seconds"]
    sweep, raw = result["sweep"], result["raw_insert"]
    loop, pf = result["row_loop"], result.get("prefect")

    def line(label: str, seconds: float, rows_per_s: float, note: str = "") -> None:
        print(f"  {label:<52} {duration(seconds):>24} {rows_per_s:>14,.0f} rows/s  {note}".rstrip(), file=out)

    print(file=out)
    print(f"Deadline sweep benchmark: {p['deadlines']:,} open deadlines, {k:,} due, batch {p['batch']:,}", file=out)
    print(f"  database: {result['database']} ({result['database_label']})", file=out)
    print(
        f"  machine:  {m['cores']} cores ({m['cpu']}), {m['platform']}, Python {m['python']}, "
        f"SQLAlchemy {m['sqlalchemy']}, Prefect {m['prefect']}",
        file=out,
    )
    seeded = ", ".join(f"{name} {sec:.1f} s" for name, sec in seed_s.items())
    print(f"  seeding (in no ratio): {sum(seed_s.values()):.1f} s ({seeded})", file=out)
    print(file=out)
    line(f"(1) sweep: {k:,} alarms in {sweep['batches']} batches", sweep["seconds"], sweep["rows_per_s"])
    line(f"(a) raw INSERT ... SELECT of {k:,} rows", raw["seconds"], raw["rows_per_s"], "(physical limit)")
    if pf:
        line(
            f"(b) Prefect, one flow run per deadline x {k:,}",
            pf["extrapolated_seconds"],
            pf["rows_per_s"],
            f"(extrapolated from {pf['runs']} runs)",
        )
    line(
        f"    for reference: 1 transaction per alarm x {k:,}",
        loop["extrapolated_seconds"],
        loop["rows_per_s"],
        f"(no Prefect; extrapolated from {loop['runs']} alarms)",
    )
    print(file=out)
    if pf:
        print(
            f"  Prefect flow run: mean {ms(pf['mean_seconds'])}, median {ms(pf['median_seconds'])}, "
            f"min {ms(pf['min_seconds'])}, max {ms(pf['max_seconds'])} over {pf['runs']} runs; "
            f"warm-up run {pf['warmup_seconds']:.1f} s (starts the ephemeral server), import prefect "
            f"{pf['import_seconds']:.1f} s",
            file=out,
        )
    print(f"  one transaction per alarm, no Prefect: mean {ms(loop['mean_seconds'], 2)}", file=out)
    print(file=out)
    ratios = result["ratios"]
    print(f"  sweep / raw insert       = {ratios['sweep_over_raw']:,.1f}x", file=out)
    if pf:
        print(f"  Prefect / sweep          = {ratios['prefect_over_sweep']:,.0f}x", file=out)
    print(f"  row-by-row / sweep       = {ratios['row_loop_over_sweep']:,.1f}x  (no Prefect)", file=out)
    print(file=out)
    print("exactly-once check: ok", file=out)


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the deadline sweep against a raw bulk insert and one Prefect flow run per deadline.",
        epilog="With --url, schema --schema of that PostgreSQL database is dropped and recreated (all its contents "
        "are lost) and dropped again at the end unless --keep. Without --url a temporary SQLite file is used.",
    )
    parser.add_argument("--deadlines", type=int, default=1_000_000, help="open deadlines to seed (default 1,000,000)")
    parser.add_argument("--due", type=int, default=100_000, help="how many of them are due (default 100,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="sweep batch size (default 10,000)")
    parser.add_argument("--sample", type=int, default=20, help="measured Prefect flow runs (default 20)")
    parser.add_argument("--loop-sample", type=int, default=1000, help="alarms for the plain loop (default 1000)")
    parser.add_argument("--url", help="a PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--schema", default="bench_sweep", help="PostgreSQL schema to (re)create (default bench_sweep)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema afterwards")
    parser.add_argument("--skip-prefect", action="store_true", help="leave out the Prefect measurement")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout, the report on stderr")
    args = parser.parse_args(argv)
    if not 0 < args.due <= args.deadlines:
        parser.error("need 0 < --due <= --deadlines")
    if args.batch < 1 or args.sample < 1 or args.loop_sample < 1:
        parser.error("--batch, --sample and --loop-sample must be positive")
    if args.sample + 1 > args.due:
        parser.error("--sample + 1 (the warm-up) must not exceed --due")
    if args.url and not database_url(args.url).startswith("postgresql"):
        parser.error("--url must be a PostgreSQL URL; SQLite always runs on a temporary file")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    n, k = args.deadlines, args.due
    now = datetime.now(UTC).replace(microsecond=0)
    db = open_postgres(args.url, args.schema, args.keep) if args.url else open_sqlite()
    try:
        with phase(f"seeding {n:,} cases, deadlines and alarms ({k:,} due)"):
            seeding = seed(db, n, k, now)
        settle(db)
        with phase(f"sweeping {k:,} due alarms in batches of {args.batch:,}"):
            sweep = time_sweep(db, now, k, args.batch)
        with phase(f"raw insert of {k:,} rows"):
            raw_seconds = time_raw_insert(db, now, k)
        loop_count = min(args.loop_sample, k)
        with phase(f"firing {loop_count:,} alarms one transaction each, no Prefect"):
            loop = time_row_loop(db, now, loop_count)
        check_exactly_once(db, now, k, "after the plain loop")
        prefect = None
        if not args.skip_prefect:
            with phase(f"Prefect: 1 warm-up + {args.sample} flow runs, one alarm each"):
                prefect = time_prefect(db, now, args.sample)
            check_exactly_once(db, now, k, "after the Prefect runs")
        result: dict[str, Any] = {
            "database": db_version(db),
            "database_label": db.label,
            "machine": machine(),
            "now": now.isoformat(),
            "seeding_seconds": seeding,
            "sweep": {**asdict(sweep), "rows_per_s": rate(k, sweep.seconds)},
            "raw_insert": {"seconds": raw_seconds, "rows_per_s": rate(k, raw_seconds)},
        }
    finally:
        db.close()
    loop_mean = statistics.fmean(loop)
    result["row_loop"] = {
        "runs": len(loop),
        "mean_seconds": loop_mean,
        "extrapolated_seconds": loop_mean * k,
        "rows_per_s": rate(1, loop_mean),
    }
    ratios = {"sweep_over_raw": sweep.seconds / raw_seconds, "row_loop_over_sweep": loop_mean * k / sweep.seconds}
    if prefect:
        mean = statistics.fmean(prefect.runs)
        result["prefect"] = {
            "runs": len(prefect.runs),
            "mean_seconds": mean,
            "median_seconds": statistics.median(prefect.runs),
            "min_seconds": min(prefect.runs),
            "max_seconds": max(prefect.runs),
            "warmup_seconds": prefect.warmup_seconds,
            "import_seconds": prefect.import_seconds,
            "extrapolated_seconds": mean * k,
            "rows_per_s": rate(1, mean),
            "run_seconds": prefect.runs,
        }
        ratios["prefect_over_sweep"] = mean * k / sweep.seconds
    result["ratios"] = ratios
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = sys.stderr if args.json else sys.stdout
    try:
        result = run(args)
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    result["parameters"] = vars(args)
    print_report(out, result)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
