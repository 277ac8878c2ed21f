"""Benchmark the production set-up: applications per second end to end with 1 and 2 workers, and a big sweep.

Run from the repository root (PostgreSQL reachable, e.g. the local one with trust auth):

    python bench/throughput.py                 # bursts of 2,000, backlogs of 10,000, 1,000,000 deadlines
    python bench/throughput.py --quick         # bursts of 1,000, backlogs of 2,000, 20,000 deadlines: ~4 min
    python bench/throughput.py --pg-url postgresql://postgres@127.0.0.1:5432 --applications 5000

It starts the production set-up with ``deploy/production.sh`` (Prefect server on PostgreSQL, a process
work pool, workers, the deployments, the project's database migrated) on two fresh databases of its own
(``bench_tp_<random>_prefect`` and ``..._activation``; both DROPPED at the end), then:

  (1) one worker, a burst: ``--applications`` applications recorded at once by ``--recorders`` threads
      through ``services.record_application`` (as the web API and ``activation apply`` do) while intake runs
      on its schedule; the ``todos`` table is polled every 0.2 s until each has its first-meeting to-do.
      Latency = when its to-do was first seen - when its recording committed; throughput = applications /
      (last to-do seen - first application recorded).
  (2) one worker, a backlog: intake paused, ``--backlog`` applications recorded, intake released; latency
      = to-do seen - release, throughput = applications / (last to-do seen - release). This is the
      capacity: how fast the workers clear a queue (a morning's applications, an outage's backlog).
  (3) two workers: ``production.sh start`` again with WORKERS=2 (it starts worker-2 only), then (1) and
      (2) again with new applications.
      (1) and (2) are repeated ``--rounds`` times (default 3) per worker count and each figure is the
      median round: whether a run happens to be starting when the applications arrive moves one round a lot.
  (4) the sweep: ``--deadlines`` open deadlines with one due escalation each, bulk-inserted on the server
      (``INSERT ... SELECT generate_series``, as bench/sweep.py seeds) after the tables are emptied, then
      one run of the ``deadline-sweep`` deployment on a worker, timed from its creation to COMPLETED (and
      its own run time as Prefect records it); checked afterwards: every alarm fired, none still due.

CPU is the whole machine's busy share during the phase (from /proc/stat; other processes count too).

Each worker runs one flow run at a time (``--worker-limit``, default 1), so a worker is one unit of
capacity; intake runs every ``--interval`` seconds (default 5) with at most 2 at once. The stage flows, the
notification delivery and the scheduled sweep are paused during the measurement, so the figures are
intake's (the path an application takes to its first to-do) and the sweep's. Workers poll every 1 s.

The report goes to stdout; ``--json`` adds the figures as JSON at the end. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from activation import config, services  # noqa: E402
from activation.adapters import tables as t  # noqa: E402
from activation.adapters.db import make_engine  # noqa: E402
from activation.adapters.sql import SqlStore  # noqa: E402
from bench.common import BenchError, machine, phase  # noqa: E402
from bench.production_setup import (  # noqa: E402
    Setup,
    deployments,
    drop_databases,
    free_port,
    pause_all_but,
    runs_per_worker,
    server_url,
    settle,
    wait_idle,
    wait_workers,
)
from bench.sweep_setup import Database, db_version, seed  # noqa: E402

POLL_SECONDS = 0.2


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat; (0, 0) where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_busy(before: tuple[int, int]) -> float:
    """Share of the machine's CPU time that was busy since `before` (all processes, not only ours)."""
    busy, total = cpu_ticks()
    return (busy - before[0]) / (total - before[1]) if total > before[1] else float("nan")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# -- (1), (2): applications to first to-dos ------------------------------------------------------


def record(engine: Engine, n: int, label: str, threads: int) -> dict[str, float]:
    """Record n applications as fast as `threads` recorders go; return when each one's transaction committed."""
    store, rules = SqlStore(engine), config.load()
    municipalities = sorted(rules.municipalities)

    def one(i: int) -> tuple[str, float]:
        result = services.record_application(
            store, rules, municipalities[i % len(municipalities)], f"bench-{label}-{i}", datetime.now(UTC)
        )
        return result.case_id, time.time()

    with ThreadPoolExecutor(threads) as pool:
        return dict(pool.map(one, range(n)))


def watch(engine: Engine, recorded: dict[str, float], label: str, timeout: float) -> dict[str, float]:
    """Poll the to-dos every 0.2 s until each application has its first-meeting to-do; return when each was seen."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(recorded):
        if time.monotonic() > deadline:
            raise BenchError(f"{label}: only {len(seen)} of {len(recorded)} to-dos within {timeout:.0f} s")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT case_id FROM todos WHERE kind = 'first_meeting'")).scalars().all()
        now = time.time()
        for case_id in rows:
            if case_id in recorded and case_id not in seen:
                seen[case_id] = now
        time.sleep(POLL_SECONDS)
    return seen


def figures(latencies: list[float], n: int, start: float, last_seen: float) -> dict[str, Any]:
    return {
        "window": (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(last_seen, UTC)),
        "applications": n,
        "end_to_end_seconds": last_seen - start,
        "applications_per_second": n / (last_seen - start),
        "p50_seconds": percentile(latencies, 50),
        "p90_seconds": percentile(latencies, 90),
        "p99_seconds": percentile(latencies, 99),
        "max_seconds": max(latencies),
    }


def burst(engine: Engine, n: int, label: str, threads: int, timeout: float) -> dict[str, Any]:
    """Record n applications at once while intake runs on its schedule; latency = to-do seen - recorded."""
    start, ticks = time.time(), cpu_ticks()
    recorded = record(engine, n, label, threads)
    recording = time.time() - start
    seen = watch(engine, recorded, label, timeout)
    result = figures([seen[c] - recorded[c] for c in recorded], n, min(recorded.values()), max(seen.values()))
    return {**result, "recording_seconds": recording, "cpu_busy": cpu_busy(ticks)}


def backlog(engine: Engine, client: httpx.Client, n: int, label: str, threads: int, timeout: float) -> dict[str, Any]:
    """Hold intake, record n applications, release intake; how long the workers take to clear the backlog."""
    intake = deployments(client)["intake"]
    client.post(f"/deployments/{intake['id']}/pause_deployment").raise_for_status()
    wait_idle(client)
    recorded = record(engine, n, label, threads)
    released, ticks = time.time(), cpu_ticks()
    client.post(f"/deployments/{intake['id']}/resume_deployment").raise_for_status()
    seen = watch(engine, recorded, label, timeout)
    return {
        **figures([seen[c] - released for c in recorded], n, released, max(seen.values())),
        "cpu_busy": cpu_busy(ticks),
    }


# -- (3): the sweep ------------------------------------------------------------------------------


def sweep_on_worker(setup: Setup, engine: Engine, client: httpx.Client, n: int, timeout: float) -> dict[str, Any]:
    """Seed n due escalations, run the deadline-sweep deployment once on a worker, check and time it."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    db = Database(engine, setup.project_url, lambda: None)
    with engine.begin() as conn:  # the bursts' cases out of the way: seed() counts every row
        conn.execute(text(f"TRUNCATE {', '.join(table.name for table in t.metadata.sorted_tables)} CASCADE"))
    with phase(f"seeding {n:,} cases, deadlines and due escalations"):
        seeding = seed(db, n, n, now)
    sweep = deployments(client)["deadline-sweep"]
    created_at = time.monotonic()
    response = client.post(f"/deployments/{sweep['id']}/create_flow_run", json={})
    response.raise_for_status()
    run_id = response.json()["id"]
    with phase(f"sweeping {n:,} due alarms in one deadline-sweep run on a worker"):
        deadline = created_at + timeout
        while True:
            run = client.get(f"/flow_runs/{run_id}").json()
            if run["state_type"] == "COMPLETED":
                break
            if run["state_type"] in ("FAILED", "CRASHED", "CANCELLED"):
                raise BenchError(f"the sweep run ended {run['state_type']}: {run['state']['message']}")
            if time.monotonic() > deadline:
                raise BenchError(f"the sweep run did not complete within {timeout:.0f} s")
            time.sleep(0.5)
    wall = time.monotonic() - created_at
    with engine.connect() as conn:
        fired = conn.execute(text("SELECT count(*) FROM alarms WHERE state = 'fired'")).scalar_one()
        pending_due = conn.execute(
            text("SELECT count(*) FROM alarms WHERE state = 'pending' AND fires_at <= :now"),
            {"now": now.replace(tzinfo=None)},
        ).scalar_one()
        notified = conn.execute(text("SELECT count(*) FROM notifications WHERE kind = 'escalation'")).scalar_one()
    if fired < n or pending_due or notified < n:
        raise BenchError(f"after the sweep: {fired} fired, {pending_due} still due, {notified} notifications; n={n}")
    run_seconds = float(run["total_run_time"])
    return {
        "deadlines": n,
        "seeding_seconds": sum(seeding.values()),
        "wall_seconds": wall,
        "run_seconds": run_seconds,
        "rows_per_second_wall": n / wall,
        "rows_per_second_run": n / run_seconds if run_seconds else float("inf"),
    }


# -- the report -----------------------------------------------------------------------------------


def print_report(result: dict[str, Any]) -> None:
    m, p = result["machine"], result["parameters"]
    print()
    print(f"Production set-up throughput: {result['database']}, Prefect server on the same PostgreSQL")
    print(
        f"  machine: {m['cores']} cores ({m['cpu']}), {m['platform']}, Python {m['python']}, "
        f"SQLAlchemy {m['sqlalchemy']}, Prefect {m['prefect']}"
    )
    print(
        f"  intake every {p['interval']} s, at most {p['flow_limit']} intake runs at once, "
        f"{p['worker_limit']} run(s) at a time per worker, batch 500; median of {p['rounds']} round(s)"
    )
    print()
    header = f"  {'':<22} {'apps':>6} {'apps/s':>8} {'e2e s':>7} {'p50 s':>7} {'p90 s':>7} {'p99 s':>7} {'max s':>7}"
    print(header + "   CPU  intake runs per worker")
    for kind in ("burst", "backlog"):
        for label in ("1 worker", "2 workers"):
            f = result.get(f"{kind}, {label}")
            if not f:
                continue
            per_worker = ", ".join(f"{k} {v}" for k, v in sorted(f.get("intake_runs_per_worker", {}).items())) or "?"
            print(
                f"  {kind + ', ' + label:<22} {f['applications']:>6} {f['applications_per_second']:>8.1f}"
                f" {f['end_to_end_seconds']:>7.1f} {f['p50_seconds']:>7.1f} {f['p90_seconds']:>7.1f}"
                f" {f['p99_seconds']:>7.1f} {f['max_seconds']:>7.1f} {f['cpu_busy']:>5.0%}  {per_worker}"
            )
        r = result.get("ratio_2_over_1", {}).get(kind)
        if r:
            print(
                f"  {kind}: 2 workers / 1 worker = throughput {r['throughput']:.2f}x, p50 latency {r['p50']:.2f}x, "
                f"p99 latency {r['p99']:.2f}x"
            )
    for label in ("1 worker", "2 workers"):
        f = result.get(f"burst, {label}")
        if f:
            print(
                f"  burst, {label}: recording {f['applications']:,} took {f['recording_seconds']:.1f} s"
                f" ({f['applications'] / f['recording_seconds']:.0f}/s with {p['recorders']} threads)"
            )
    s = result.get("sweep")
    if s:
        print()
        print(
            f"  sweep of {s['deadlines']:,} due deadlines on a worker: {s['wall_seconds']:.1f} s from trigger to "
            f"COMPLETED ({s['rows_per_second_wall']:,.0f} rows/s), {s['run_seconds']:.1f} s flow run time "
            f"({s['rows_per_second_run']:,.0f} rows/s); seeding {s['seeding_seconds']:.1f} s (not counted)"
        )
    print()


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Applications per second end to end with 1 and 2 workers, and a big sweep, on PostgreSQL.",
        epilog="Creates two databases named bench_tp_<random>_* on the PostgreSQL server and drops them at the end.",
    )
    parser.add_argument("--pg-url", default=os.environ.get("PG_URL", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--applications", type=int, default=2000, help="applications per burst (default 2,000)")
    parser.add_argument("--backlog", type=int, default=10_000, help="applications per backlog (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="bursts and backlogs per worker count (default 3)")
    parser.add_argument("--recorders", type=int, default=4, help="threads recording applications (default 4)")
    parser.add_argument("--deadlines", type=int, default=1_000_000, help="due deadlines to sweep (default 1,000,000)")
    parser.add_argument(
        "--quick", action="store_true", help="one round: a burst of 1,000, a backlog of 2,000; 20,000 deadlines"
    )
    parser.add_argument("--interval", type=int, default=5, help="seconds between intake runs (default 5)")
    parser.add_argument("--worker-limit", type=int, default=1, help="flow runs at a time per worker (default 1)")
    parser.add_argument("--flow-limit", type=int, default=2, help="intake runs at once (default 2)")
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the sweep")
    parser.add_argument("--port", type=int, default=0, help="Prefect server port (default: a free one)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.applications, args.backlog, args.deadlines, args.rounds = 1000, 2000, 20_000, 1
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    server = server_url(args.pg_url)
    run_dir = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ACTIVATION_"))}
    setup = Setup(
        server, f"bench_tp_{tag}_prefect", f"bench_tp_{tag}_activation", args.port or free_port(), run_dir, env
    )
    env.update(
        {
            "PG_URL": server,
            "PREFECT_DB": setup.prefect_db,
            "PROJECT_DB": setup.project_db,
            "PREFECT_PORT": str(setup.port),
            "RUN_DIR": str(run_dir),
            "PYTHON": sys.executable,
            "WORKERS": "1",
            "WORKER_LIMIT": str(args.worker_limit),
            "FLOW_LIMIT": str(args.flow_limit),
            "INTERVAL": str(args.interval),
            "STAGE_INTERVAL": "3600",
            "SWEEP_INTERVAL": "3600",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    result: dict[str, Any] = {"machine": machine(), "parameters": vars(args)}
    engine = None
    finished = False
    try:
        with phase(f"starting the set-up with 1 worker (databases {setup.prefect_db}, {setup.project_db})"):
            setup.script("start")
        client = httpx.Client(base_url=setup.api, timeout=30)
        engine = make_engine(setup.project_url)
        result["database"] = db_version(Database(engine, "", lambda: None))
        pause_all_but(client, {"intake"})
        wait_workers(client, {"worker-1"})
        settle(args.interval)
        timeout = max(300.0, args.backlog / 5)
        for workers in (1, 2):
            label = f"{workers} worker" + ("s" if workers > 1 else "")
            if workers == 2:
                with phase("adding worker-2"):
                    setup.script("start", WORKERS="2")
                    pause_all_but(client, {"intake"})  # start re-deployed them, unpaused
                    wait_workers(client, {"worker-1", "worker-2"})
                    settle(args.interval)
            for kind in ("burst", "backlog"):
                result[f"{kind}, {label}"] = {"rounds": []}
            for r in range(1, args.rounds + 1):
                tag_ = f"{workers}{r}"
                with phase(f"{label}, round {r}: a burst of {args.applications:,} applications"):
                    result[f"burst, {label}"]["rounds"].append(
                        burst(engine, args.applications, f"b{tag_}", args.recorders, timeout)
                    )
                with phase(f"{label}, round {r}: a backlog of {args.backlog:,} applications released at once"):
                    result[f"backlog, {label}"]["rounds"].append(
                        backlog(engine, client, args.backlog, f"q{tag_}", args.recorders, timeout)
                    )
        pause_all_but(client, set())  # intake too: no new runs from here on
        wait_idle(client)  # the last intake runs render their letters, finish and report
        time.sleep(6)  # and the server has stored the workers' events
        for key in [k for k in result if k.startswith(("burst", "backlog"))]:
            rounds = result[key]["rounds"]
            per_worker: dict[str, int] = {}
            for one in rounds:
                since, until = one.pop("window")
                # The runs that did the work: those that started between the first recording and the last to-do.
                for name, count in runs_per_worker(client, since, until, "intake").items():
                    per_worker[name] = per_worker.get(name, 0) + count
            # The median round of each figure: one unlucky tick (a run just started) moves a single round a lot.
            result[key] = {
                **{k: statistics.median(one[k] for one in rounds) for k in rounds[0]},
                "intake_runs_per_worker": per_worker,
                "rounds": rounds,
            }
        result["ratio_2_over_1"] = {
            kind: {
                "throughput": result[f"{kind}, 2 workers"]["applications_per_second"]
                / result[f"{kind}, 1 worker"]["applications_per_second"],
                "p50": result[f"{kind}, 2 workers"]["p50_seconds"] / result[f"{kind}, 1 worker"]["p50_seconds"],
                "p99": result[f"{kind}, 2 workers"]["p99_seconds"] / result[f"{kind}, 1 worker"]["p99_seconds"],
            }
            for kind in ("burst", "backlog")
        }
        if not args.skip_sweep:
            result["sweep"] = sweep_on_worker(setup, engine, client, args.deadlines, max(600.0, args.deadlines / 500))
        client.close()
        finished = True
    finally:
        if engine is not None:
            engine.dispose()
        try:
            setup.script("stop", timeout=120)
        finally:
            drop_databases(server, [setup.project_db, setup.prefect_db])
            if finished:
                shutil.rmtree(run_dir, ignore_errors=True)
            else:
                print(f"logs kept in {run_dir}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Stopped with SIGTERM, still stop the set-up and drop the databases (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    try:
        result = run(args)
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print_report(result)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
