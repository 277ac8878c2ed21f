"""Benchmark the deadline sweep against the physical limit and against one Prefect flow run per deadline.

Run from the repository root with the project's venv active:

    python bench/sweep.py                                   # 1,000,000 open deadlines, 100,000 due, SQLite
    python bench/sweep.py --deadlines 100000 --due 10000    # a quicker run
    python bench/sweep.py --url postgresql://postgres@127.0.0.1:5432/test

It seeds N open deadlines with one pending escalation alarm each (K of them due, spread evenly over the
table), then times

  (1) the sweep: ``activation.services.sweep(SqlStore(engine), now, batch)`` firing all K alarms, checked
      afterwards to have fired each exactly once (K notifications, K outbox events, K fired alarms, a second
      sweep fires 0);
  (a) the physical limit: what the sweep must write, K notifications and K outbox events, as one
      ``INSERT ... SELECT`` of generated rows into each of two scratch tables shaped like ``notifications``
      and ``outbox`` (same columns, primary keys and indexes; the payload built by the database's JSON
      function), in one transaction: the cheapest way the database writes those rows;
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
import shutil
import statistics
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from sqlalchemy import (
    Column,
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
from sqlalchemy.dialects import postgresql, sqlite

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, the repository root is not
    # First, before anything imports `activation`: else an installed copy elsewhere would be measured.
    sys.path.insert(0, str(ROOT))

from activation import services  # noqa: E402
from activation.adapters import tables as t  # noqa: E402
from activation.adapters.db import database_url  # noqa: E402
from activation.adapters.sql import SqlStore  # noqa: E402
from activation.adapters.sql_sweep import NOTIFICATION_COLUMNS  # noqa: E402
from bench.common import BenchError, machine, phase  # noqa: E402
from bench.sweep_setup import (  # noqa: E402
    DAY,
    Database,
    Series,
    count_rows,
    db_version,
    open_postgres,
    open_sqlite,
    seed,
    settle,
)

# -- the figures --------------------------------------------------------------------------------


def count_state(db: Database, now: datetime) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            "notifications": conn.execute(select(func.count()).select_from(t.notifications)).scalar_one(),
            "outbox": conn.execute(select(func.count()).select_from(t.outbox)).scalar_one(),
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
    expected = {"notifications": k, "outbox": k, "fired": k, "pending_due": 0}
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


def scratch_tables() -> tuple[Table, Table]:
    """Tables shaped like notifications and outbox (columns, primary keys, indexes) under other names."""
    md = MetaData()

    def like(table: Table, name: str) -> Table:
        columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable) for c in table.c]
        return Table(name, md, *columns)

    notifications, outbox = like(t.notifications, "bench_notifications"), like(t.outbox, "bench_outbox")
    Index("ix_bench_notifications_recipient", notifications.c.recipient, notifications.c.created_at)
    Index("ix_bench_outbox_undispatched", outbox.c.dispatched_at, outbox.c.created_at)
    return notifications, outbox


def time_raw_insert(db: Database, now: datetime, k: int) -> float:
    """Write the rows a sweep of k must write, k notifications and k outbox events, in one transaction.

    Each table gets one ``INSERT ... SELECT`` of rows generated on the server, the outbox payload built
    by the database's own JSON function: the cheapest way the database writes them, commit included.
    """
    s = Series(db.postgres)
    tables = scratch_tables()
    for table in tables:
        table.drop(db.engine, checkfirst=True)
        table.create(db.engine)
    case_id = s.ident("c-")
    event = f"'escalation\\:' || {case_id} || '.1\\:e1'"
    build = "json_build_object" if db.postgres else "json_object"
    statements = [
        f"""
        {s.with_()}
        INSERT INTO bench_notifications ({", ".join(NOTIFICATION_COLUMNS)})
        SELECT {s.ident("c-")} || '.1\\:e1', {s.ident("c-")}, 'escalation', 1, 'team_lead',
               'team_lead:team-' || CAST(i % 50 AS TEXT), 'first_meeting', {s.at(f"-{DAY} - (i % {DAY})")},
               {s.at("0")}
        FROM s""",
        f"""
        {s.with_()}
        INSERT INTO bench_outbox (id, kind, case_id, municipality, payload, created_at)
        SELECT {event}, 'escalation', {s.ident("c-")}, 'bench',
               {build}('event', 'escalation', 'id', {event}, 'case_id', {s.ident("c-")},
                       'municipality', 'bench', 'occurred_at', '2026-12-02T09\\:00\\:00+00\\:00', 'step', 1,
                       'notify_role', 'team_lead', 'recipient', 'team_lead:team-' || CAST(i % 50 AS TEXT),
                       'rule_key', 'first_meeting', 'deadline_due_at', '2026-12-01T09\\:00\\:00+00\\:00'),
               {s.at("0")}
        FROM s""",
    ]
    settle(db)
    try:
        start = perf_counter()
        with db.engine.begin() as conn:
            for sql in statements:
                conn.execute(text(sql), {"n": k, "k": k, "now": s.now_param(now)})
        seconds = perf_counter() - start
        inserted = [count_rows(db, table.name) for table in tables]
    finally:
        for table in tables:
            table.drop(db.engine)
    if inserted != [k, k]:
        raise BenchError(f"raw insert wrote {inserted} rows, expected {k} in each table")
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
    line(f"(a) raw INSERT ... SELECT of {k:,} + {k:,} rows", raw["seconds"], raw["rows_per_s"], "(physical limit)")
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
