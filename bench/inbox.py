"""The inbox, search and the team view at 50,000 open cases: p50/p95 of whole page loads (issue 12).

Seeds one municipality (Karlskrona, whose one team holds every case: the team view's worst case)
with open cases spread over caseworkers and the team queue, each with its open journey to-do, to-dos
and deadlines done before, the target group's open and closed obligation periods, some clocks stopped
by a pause, and notifications; then loads each page through the application itself (middleware,
session, queries, template) and reports the latency per page. The target: p95 < 150 ms.

    python bench/inbox.py                                   # SQLite, 50,000 cases
    python bench/inbox.py --url postgresql://postgres@127.0.0.1:5432/test
    python bench/inbox.py --cases 5000 --requests 20 --json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import BenchError, machine, phase  # noqa: E402
from bench.sweep_setup import Database, analyze, db_version, open_sqlite  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STAGES = ["first_meeting", "assessment", "plan", "placement", "follow_up", "exit", "after_exit_check"]
KINDS = {"first_meeting": "first_meeting", "assessment": "assessment", "plan": "plan",
         "placement": "placement_start", "follow_up": "follow_up", "exit": "exit_plan",
         "after_exit_check": "after_exit_check"}  # fmt: skip
GROUP = "ekonomiskt_bistand"
CADENCES = ("offer", "follow_up_meetings")
PASSWORD = "bench-password-1"
BATCH = 5_000


def open_postgres_database(url: str) -> Database:
    """A migrated, fresh PostgreSQL database of its own (the web app reads it by URL), dropped on close."""
    from sqlalchemy import create_engine, text

    from activation.adapters.db import make_engine, migrate

    name = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.rsplit("/", 1)[0] + f"/{name}")
    migrate(engine)

    def close() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return Database(engine, f"database {name} (dropped afterwards)", close)


def _rows(n_cases: int, caseworkers: int, queue_share: float, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Return the rows of every table, generated in Python from one seed."""
    rnd = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("cases", "steps", "todos", "deadlines", "notifications")}
    step_id = 0

    def at(days_from: float, days_to: float) -> datetime:
        return NOW + timedelta(days=rnd.uniform(days_from, days_to))

    for i in range(n_cases):
        case_id = f"c-{i:08d}"
        cw = None if rnd.random() < queue_share else f"cw-{rnd.randrange(caseworkers):03d}"
        holder = cw or "queue:arbetsmarknad"
        stage = rnd.choice(STAGES)
        opened = at(-400, -1)
        out["cases"].append({"id": case_id, "municipality": "karlskrona", "citizen_ref": f"KK-{i:08d}",
                             "team": "arbetsmarknad", "caseworker": cw, "stage": stage, "stage_entered_at": opened,
                             "status": "open", "created_at": opened, "target_group": GROUP,
                             "obligations_since": opened})  # fmt: skip
        for n, (kind, status, due) in enumerate(
            [("first_meeting", "done", opened + timedelta(days=2)), ("assessment", "done", opened + timedelta(days=9)),
             (KINDS[stage], "open", at(-30, 60))]
        ):  # fmt: skip
            step_id += 1
            out["steps"].append({"id": step_id, "case_id": case_id, "seq": n, "from_stage": "application",
                                 "outcome": "received", "occurred_at": opened, "recorded_by": "system",
                                 "applied_at": opened})  # fmt: skip
            todo_id = f"{case_id}.{n}"
            out["todos"].append({"id": todo_id, "case_id": case_id, "step_id": step_id, "kind": kind,
                                 "title": kind.replace("_", " "), "stage": stage if status == "open" else kind,
                                 "role": "caseworker", "assignee": holder, "team": "arbetsmarknad",
                                 "outcomes": ["held"], "status": status, "due_at": due, "created_at": opened,
                                 "completed_at": None if status == "open" else due - timedelta(hours=3),
                                 "completed_by": None if status == "open" else holder, "side": False})  # fmt: skip
            paused = status == "open" and rnd.random() < 0.02
            out["deadlines"].append(_deadline(todo_id, case_id, todo_id, kind, due, opened,
                                              "open" if status == "open" else "met", paused))  # fmt: skip
        for cadence in CADENCES:
            key = f"{GROUP}.{cadence}"
            for n in range(2):
                due = opened + timedelta(days=40 * (n + 1))
                out["deadlines"].append(_deadline(f"{case_id}.{key}.{n}", case_id, None, key, due, opened, "met"))
            out["deadlines"].append(
                _deadline(f"{case_id}.{key}.2", case_id, None, key, at(-20, 120), opened, "open", rnd.random() < 0.02)
            )
        for n in range(2):
            out["notifications"].append({"id": f"{case_id}:e{n}", "case_id": case_id, "kind": "escalation",
                                         "step": n + 1, "notify_role": "caseworker", "recipient": holder,
                                         "rule_key": "assessment", "deadline_due_at": opened,
                                         "created_at": at(-60, 0)})  # fmt: skip
    return out


def _deadline(
    id_: str,
    case_id: str,
    todo_id: str | None,
    key: str,
    due: datetime,
    start: datetime,
    status: str,
    paused: bool = False,
) -> dict[str, Any]:
    return {"id": id_, "case_id": case_id, "todo_id": todo_id, "rule_key": key, "config_version": "bench",
            "calendar": "karlskrona/office", "start_event": "application received", "started_at": start,
            "due_at": due, "status": status, "closed_at": None if status == "open" else due,
            "explanation": "bench", "revision": 1,
            "paused_since": NOW - timedelta(days=3) if paused else None}  # fmt: skip


def seed(db: Database, n_cases: int, caseworkers: int, queue_share: float, seed_: int) -> None:
    """Insert the generated rows in batches, then give the planner statistics."""
    from activation.access import User
    from activation.adapters import tables as t
    from activation.adapters.accounts import Accounts

    rows = _rows(n_cases, caseworkers, queue_share, seed_)
    with db.engine.begin() as conn:
        for name in ("cases", "steps", "todos", "deadlines", "notifications"):
            table = getattr(t, name)
            for start in range(0, len(rows[name]), BATCH):
                conn.execute(table.insert(), rows[name][start : start + BATCH])
    accounts = Accounts(db.engine)
    team = ("karlskrona", "arbetsmarknad", "en")
    for n in range(caseworkers):
        accounts.add_user(User(f"cw-{n:03d}", f"Caseworker {n}", "caseworker", *team), PASSWORD, NOW)
    accounts.add_user(User("tl-01", "Team Lead", "team_lead", *team), PASSWORD, NOW)
    accounts.add_user(User("mgr-01", "Manager", "manager", "karlskrona", language="en"), PASSWORD, NOW)
    analyze(db, ["cases", "steps", "todos", "deadlines", "notifications", "users"])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(db: Database, url: str, requests: int) -> dict[str, dict[str, float]]:
    """Load each page `requests` times after a warm-up; return p50, p95 and max in milliseconds."""
    from fastapi.testclient import TestClient

    from activation.ports import FixedClock
    from web.app import WebSettings, create_app

    app = create_app(WebSettings(db_url=url, clock=FixedClock(NOW)))

    def client(username: str) -> TestClient:
        c = TestClient(app, base_url="https://bench")
        signed = c.post("/sign-in", data={"username": username, "password": PASSWORD}, follow_redirects=False)
        if signed.status_code != 303:
            raise BenchError(f"could not sign in as {username}: {signed.status_code}")
        return c

    caseworker, lead, manager = client("cw-007"), client("tl-01"), client("mgr-01")
    pages = {
        "inbox (caseworker)": (caseworker, "/inbox"),
        "inbox, filtered, page 3": (caseworker, "/inbox?stage=follow_up&due=week&sort=stage&mine_page=3"),
        "inbox (team lead, whole team)": (lead, "/inbox?holder=team&sort=case&mine_page=40"),
        "team view": (lead, "/team"),
        "team view, queue page 20": (lead, "/team?sort=stage&queue_page=20"),
        "search by case id": (caseworker, "/search?q=c-00012345"),
        "search by citizen reference": (manager, "/search?q=KK-00023456"),
        "search, nothing found": (caseworker, "/search?q=KK-99999999"),
    }
    found: dict[str, dict[str, float]] = {}
    for name, (c, path) in pages.items():
        if c.get(path).status_code != 200:  # warm-up; also checks the page works
            raise BenchError(f"{path} did not answer 200")
        times = []
        for _ in range(requests):
            start = perf_counter()
            c.get(path)
            times.append((perf_counter() - start) * 1000)
        found[name] = {"p50": _percentile(times, 0.5), "p95": _percentile(times, 0.95), "max": max(times)}
        print(f"    {name}: p50 {found[name]['p50']:.0f} ms, p95 {found[name]['p95']:.0f} ms", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--caseworkers", type=int, default=400)
    parser.add_argument("--queue-share", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = open_postgres_database(args.url) if args.url else open_sqlite()
    try:
        with phase(f"seeding {args.cases:,} open cases"):
            seed(db, args.cases, args.caseworkers, args.queue_share, args.seed)
        url = db.engine.url.render_as_string(hide_password=False)
        with phase(f"loading each page {args.requests} times"):
            figures = measure(db, url, args.requests)
        report = {"database": db_version(db), "cases": args.cases, "caseworkers": args.caseworkers,
                  "requests": args.requests, "pages_ms": figures, "machine": machine()}  # fmt: skip
    finally:
        db.close()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    print(f"{report['database']}, {args.cases:,} open cases, {args.caseworkers} caseworkers, {args.requests} loads")
    for name, f in figures.items():
        flag = "" if f["p95"] < 150 else "  <-- over 150 ms"
        print(f"  {name:34} p50 {f['p50']:6.1f} ms   p95 {f['p95']:6.1f} ms   max {f['max']:6.1f} ms{flag}")


if __name__ == "__main__":
    main()
