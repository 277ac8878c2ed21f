"""The caseworker's pages at 50,000 open cases (issue 12): p95 < 150 ms on SQLite and PostgreSQL.

Run from the repository root with the project's venv active:

    python bench/web_scale.py                                  # SQLite, 50,000 open cases, 200 requests a page
    python bench/web_scale.py --cases 2000 --template 100 --requests 20 --warmup 2 --connections kept --sql-repeat 0
    python bench/web_scale.py --url postgresql://postgres@127.0.0.1:5432/test          # PostgreSQL only
    python bench/web_scale.py --url postgresql://postgres@127.0.0.1:5432/test --both   # both, one after the other

Per database: a fresh one (a temporary SQLite file; with --url a new database on that server, dropped
afterwards unless --keep) is seeded by bench/web_scale_seed.py (a template of 250 open cases made by
the real use cases, cloned set-based up to --cases; each template has two caseworkers, so every
caseworker holds ~125 open cases and the one team grows with --cases), then ANALYZEd as production
would be after a bulk load. `activation serve --no-flows` runs on it; one client signs in as a
caseworker, the team lead and a manager and asks for each page of PAGES --requests times, one request
at a time, the pages taking turns so the machine's load falls on all of them alike, after --warmup
rounds. A page whose first answer is 404 is "not served by this version" (search and the team view
come from other branches), not a failure. Pages marked `links` are also measured in the other views
of them they link to (page 2, a filter), found in their HTML, so paging added later is measured too.

Every page is asked for on a kept-alive connection, as a browser does, and on a new connection each
time (--connections): serve's socket has no TCP_NODELAY, so on a kept-alive connection a response
written in two parts can wait ~40 ms for the client's delayed ACK; a new connection shows the page's
own time. Baselines in the same run: GET /static/app.css with the session cookie (the server's floor
for a signed-in request), and per page the time its SELECTs take on their own: each page is asked
for once more in process (FastAPI's TestClient on the same database), its SELECT statements are
captured and run again straight on the driver (--sql-repeat times, median each). Their sum says how
much of a page is the database, the slowest which query dominates.

The report goes to stdout; with --json it goes to stderr and stdout carries only the figures as JSON.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import and_, func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/ is on the path, the repository root is not
    sys.path.insert(0, str(ROOT))

from activation import config  # noqa: E402
from activation.adapters import tables as t  # noqa: E402
from activation.adapters.db import database_url, make_engine, migrate  # noqa: E402
from bench.common import (  # noqa: E402
    BenchError,
    drop_database,
    free_port,
    fresh_postgres_database,
    machine,
    percentile,
    phase,
    start_web,
    stop_web,
)
from bench.sweep_setup import Database, db_version, settle  # noqa: E402
from bench.web_scale_seed import PASSWORD, Seeded, caseworker_name, clone_tag, seed, utc_now  # noqa: E402

TARGET_SECONDS = 0.150


@dataclass(frozen=True)
class Page:
    """A page to measure: what it is, its path ({case_id}, {todo_id}, {citizen_ref} filled in), who asks."""

    what: str
    path: str
    who: str  # caseworker | team_lead | manager
    links: bool = False  # also the other views of this page it links to (page 2, a filter)
    shows: str | None = None  # the first answer must contain this (filled in like the path)
    extra: bool = False  # not one of issue 12's pages: measured for the record, no target
    sample: int | None = None  # at most this many measured requests (a page that takes seconds), one warm-up


# The pages of issue 12. Add a row to measure another page; a 404 on its first request reports it as
# not served by this version.
PAGES: tuple[Page, ...] = (
    Page("inbox", "/inbox", "caseworker", links=True, shows='href="/todos/'),  # paged: any to-do of theirs
    Page("inbox", "/inbox", "team_lead", links=True),
    Page("case page", "/cases/{case_id}", "caseworker", shows="{citizen_ref}"),
    Page("case page", "/cases/{case_id}", "team_lead", shows="{citizen_ref}"),
    Page("to-do page", "/todos/{todo_id}", "caseworker", shows="{case_id}"),
    Page("search by case id", "/search?q={case_id}", "caseworker", shows="{case_id}"),
    Page("search by citizen ref", "/search?q={citizen_ref}", "caseworker", shows="{case_id}"),
    Page("search by citizen ref", "/search?q={citizen_ref}", "team_lead", shows="{case_id}"),
    Page("search, nothing found", "/search?q=KK-99999999", "caseworker"),
    Page("search by citizen ref", "/search?q={citizen_ref}", "manager", shows="{case_id}"),
    Page("team view", "/team", "team_lead", links=True),
    # Deep and narrowed views (a filter, another order, a late page): the page's ids come first from
    # an index in the list's order, so a late page must not cost more than the first.
    Page("inbox, filtered and sorted, page 3", "/inbox?stage=follow_up&due=week&sort=stage&mine_page=3", "caseworker"),
    Page("inbox, whole team by case, page 40", "/inbox?holder=team&sort=case&mine_page=40", "team_lead"),
    Page("team view, queue by stage, page 20", "/team?sort=stage&queue_page=20", "team_lead"),
    # The manager's console reads every deadline of the municipality: seconds at this size, so a sample.
    Page("console", "/console", "manager", extra=True, sample=10),
)
FLOOR = Page("baseline: static file", "/static/app.css", "caseworker", extra=True)  # the server's floor
# Each page is asked for on a kept-alive connection, as a browser does, and on a new connection each
# time: `serve` listens on a socket without TCP_NODELAY, so on a kept-alive connection a response that
# is written in two parts may wait for the client's delayed ACK (~40 ms on Linux); a new one does not.
CONNECTIONS = ("kept", "new")
MAX_LINKED = 3  # other views measured per page that links to them


@dataclass
class Person:
    """Someone who signs in, with the case, to-do and citizen ref their pages are about."""

    role: str
    username: str
    values: dict[str, str]
    open_cases: int


@dataclass
class SqlFigures:
    """A page's SELECTs run again on their own: their count, summed median time, the slowest."""

    statements: int
    writes: int
    seconds: float
    slowest_seconds: float
    slowest: str


@dataclass
class Measured:
    """One page's figures."""

    what: str
    path: str
    who: str
    extra: bool
    sample: int | None = None
    state: str = "measured"  # measured | not served | failed
    note: str = ""
    times: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in CONNECTIONS})
    html_bytes: int = 0
    sql: SqlFigures | None = None

    def summary(self) -> dict[str, Any]:
        figures = {k: v for k, v in asdict(self).items() if k != "times"}
        for kind, times in self.times.items():
            if times:
                figures[kind] = {
                    "p50_ms": percentile(times, 0.50) * 1000,
                    "p95_ms": percentile(times, 0.95) * 1000,
                    "max_ms": max(times) * 1000,
                    "requests": len(times),
                    "met": percentile(times, 0.95) < TARGET_SECONDS,
                }
        return figures


# -- the database -------------------------------------------------------------------------------


def open_database(pg_url: str | None, scratch: Path, keep: bool) -> tuple[Database, str]:
    """Make a fresh, migrated database (a SQLite file, or a new PostgreSQL database); return it and its URL."""
    if pg_url is None:
        url = f"sqlite:///{scratch / 'web_scale.db'}"
        engine = make_engine(url)
        migrate(engine)
        return Database(engine, f"temporary file {scratch / 'web_scale.db'}", engine.dispose), url
    url, name = fresh_postgres_database(pg_url, "bench_web_scale")
    engine = make_engine(url)

    def close() -> None:
        engine.dispose()
        drop_database(pg_url, name)

    migrate(engine)
    return Database(engine, f"database {name}" + (" (kept)" if keep else " (dropped afterwards)"), close), url


def richest_case(db: Database, caseworker: str) -> dict[str, str]:
    """Return the caseworker's open case with the longest history that has an open journey to-do."""
    c, s, x = t.cases, t.steps, t.todos
    with db.engine.connect() as conn:
        row = conn.execute(
            select(c.c.id, c.c.citizen_ref)
            .join(s, s.c.case_id == c.c.id)
            .where(c.c.caseworker == caseworker, c.c.status == "open")
            .where(select(x.c.id).where(and_(x.c.case_id == c.c.id, x.c.status == "open", ~x.c.side)).exists())
            .group_by(c.c.id, c.c.citizen_ref)
            .order_by(func.count(s.c.id).desc(), c.c.id)
            .limit(1)
        ).first()
        if row is None:
            raise BenchError(f"{caseworker} holds no open case with an open to-do: seed more cases")
        todo = conn.execute(
            select(x.c.id).where(x.c.case_id == row.id, x.c.status == "open", ~x.c.side).order_by(x.c.due_at).limit(1)
        ).scalar_one()
        return {"case_id": row.id, "citizen_ref": row.citizen_ref, "todo_id": todo}


def open_cases_of(db: Database, caseworker: str | None) -> int:
    """Count the open cases (of one caseworker, if given)."""
    query = select(func.count()).select_from(t.cases).where(t.cases.c.status == "open")
    if caseworker:
        query = query.where(t.cases.c.caseworker == caseworker)
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def people(db: Database, seeded: Seeded) -> dict[str, Person]:
    """Return the caseworker (the template's first), the team lead and the manager, each with a case to open."""
    caseworker = seeded.caseworker
    # The team lead and the manager open a case of another caseworker, in the last clone.
    other = caseworker_name(clone_tag(seeded.clones), 2 if seeded.per_template.caseworkers > 1 else 1)
    theirs = richest_case(db, other)
    return {
        "caseworker": Person("caseworker", caseworker, richest_case(db, caseworker), open_cases_of(db, caseworker)),
        "team_lead": Person("team_lead", seeded.team_lead, theirs, open_cases_of(db, None)),
        "manager": Person("manager", seeded.manager, theirs, open_cases_of(db, None)),
    }


# -- asking for pages ---------------------------------------------------------------------------


def sign_in(base: str, person: Person) -> dict[str, httpx.Client]:
    """Sign in once; return a client on a kept-alive connection and one that opens a new connection each time."""
    kept = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    answer = kept.post("/sign-in", data={"username": person.username, "password": PASSWORD}, follow_redirects=False)
    if answer.status_code != 303:
        raise BenchError(f"{person.username} could not sign in: HTTP {answer.status_code}")
    new = httpx.Client(base_url=base, timeout=120, follow_redirects=True, headers={"Connection": "close"})
    new.cookies = kept.cookies
    return {"kept": kept, "new": new}


def linked_views(page_html: str, path: str) -> list[str]:
    """Return the other views of a page it links to (same path, other query), one per set of parameters."""
    found: dict[frozenset[str], str] = {}
    for href in re.findall(r'href="([^"#]+)"', page_html):
        link = html.unescape(href)
        parts = urlsplit(link)
        if parts.path != urlsplit(path).path or not parts.query or link == path:
            continue
        names = frozenset(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
        found.setdefault(names, link)
    return list(found.values())[:MAX_LINKED]


def first_try(client: httpx.Client, page: Page, person: Person) -> tuple[Measured, str]:
    path = page.path.format(**person.values)
    result = Measured(page.what, path, person.username, page.extra, page.sample)
    answer = client.get(path)
    if answer.history:
        result.note = f"redirected to {urlsplit(str(answer.url)).path}"
    if answer.status_code == 404:
        result.state, result.note = "not served", "404 on the first request: not served by this version"
    elif answer.status_code != 200:
        result.state, result.note = "failed", f"HTTP {answer.status_code} on the first request"
    elif page.shows and page.shows.format(**person.values) not in answer.text:
        result.state, result.note = "failed", f"the answer does not show {page.shows.format(**person.values)}"
    result.html_bytes = len(answer.content)
    return result, answer.text


def timed(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    answer = client.get(path)
    return time.perf_counter() - start, answer


def measure_pages(
    base: str, persons: dict[str, Person], requests: int, warmup: int, connections: tuple[str, ...]
) -> tuple[list[Measured], Measured]:
    """Sign in, try each page once, warm up, then ask for the pages in turn `requests` times on each connection."""
    clients = {person.username: sign_in(base, person) for person in persons.values()}
    try:
        results: list[Measured] = []
        for page in PAGES:
            person = persons[page.who]
            result, text = first_try(clients[person.username]["kept"], page, person)
            results.append(result)
            if page.links and result.state == "measured":
                for link in linked_views(text, result.path):
                    linked = Measured(f"{page.what}, linked view", link, result.who, page.extra, page.sample)
                    results.append(linked)
        floor, _text = first_try(clients[persons[FLOOR.who].username]["kept"], FLOOR, persons[FLOOR.who])
        measured = [r for r in [*results, floor] if r.state == "measured"]
        rounds = [(r, kind, clients[r.who][kind]) for r in measured for kind in connections]
        for n in range(warmup):
            for result, _kind, client in rounds:
                if not result.sample or n == 0:
                    client.get(result.path)
        for _ in range(requests):
            for result, kind, client in rounds:
                if result.sample and len(result.times[kind]) >= result.sample:
                    continue
                seconds, answer = timed(client, result.path)
                if answer.status_code != 200:
                    result.state, result.note = "failed", f"HTTP {answer.status_code} while measuring"
                result.times[kind].append(seconds)
                result.html_bytes = len(answer.content)
        return results, floor
    finally:
        for pair in clients.values():
            for client in pair.values():
                client.close()


# -- the database's share: each page's SELECTs on their own -----------------------------------------


def sql_of_pages(url: str, results: list[Measured], persons: dict[str, Person], repeat: int) -> None:
    """Capture each page's statements in process, run its SELECTs again on the driver, keep the figures."""
    import warnings

    from sqlalchemy import event

    with warnings.catch_warnings():  # Starlette's notice about its test client's HTTP library: not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from activation.runtime import get_runtime
    from web.app import WebSettings, create_app

    app = create_app(WebSettings(db_url=url))
    engine = get_runtime(url).engine
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    clients: dict[str, TestClient] = {}
    for person in persons.values():
        client = TestClient(app, base_url="https://testserver")
        client.post("/sign-in", data={"username": person.username, "password": PASSWORD}, follow_redirects=False)
        clients[person.username] = client
    for result in results:
        if result.state != "measured":
            continue
        captured.clear()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            clients[result.who].get(result.path)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        selects = [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        medians = [(_replay(engine, s, p, repeat), s) for s, p in selects]
        slowest = max(medians, default=(0.0, ""))
        result.sql = SqlFigures(
            len(selects),
            len(captured) - len(selects),
            sum(m for m, _ in medians),
            slowest[0],
            " ".join(slowest[1].split()),
        )
    for client in clients.values():
        client.close()


def _replay(engine: Any, statement: str, parameters: Any, repeat: int) -> float:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            cursor.execute(statement, parameters)
            cursor.fetchall()
            times.append(time.perf_counter() - start)
        cursor.close()
        raw.rollback()
        return statistics.median(times)
    finally:
        raw.close()


# -- one database -------------------------------------------------------------------------------


def run_one(pg_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """Seed a fresh database, serve it, measure the pages; return the figures."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-web-scale-"))
    db, url = open_database(pg_url, scratch, args.keep)
    server = None
    try:
        version = db_version(db)
        rules = config.load()
        now = utc_now()
        with phase(f"{version}: seeding {args.cases:,} open cases"):
            started = time.perf_counter()
            seeded = seed(db, rules, args.cases, now, args.template)
            seeding = time.perf_counter() - started
        settle(db)
        persons = people(db, seeded)
        db.engine.dispose()
        env = {
            **os.environ,
            "ACTIVATION_DATABASE_URL": url,
            "PREFECT_HOME": str(scratch / "prefect"),
            "DO_NOT_TRACK": "1",
        }
        load_before = os.getloadavg()
        port = free_port()
        with phase("starting activation serve --no-flows"):
            server = start_web(env, port, scratch / "serve.log")
        base = f"http://127.0.0.1:{port}"
        with phase(f"{args.warmup} warm-up rounds, then {args.requests} rounds of every page"):
            connections = CONNECTIONS if args.connections == "both" else (args.connections,)
            results, floor = measure_pages(base, persons, args.requests, args.warmup, connections)
        load_after = os.getloadavg()
        stop_web(server)
        server = None
        if args.sql_repeat:
            with phase("each page's SELECTs on their own"):
                sql_of_pages(url, results, persons, args.sql_repeat)
        if args.keep:
            print(f"kept: {url}", file=sys.stderr)
        return {
            "database": version,
            "database_label": db.label,
            "now": now.isoformat(),
            "seeding_seconds": seeding,
            "seeding": {
                "phases": seeded.seconds,
                "clones": seeded.clones,
                "template": asdict(seeded.template),
                "per_template": asdict(seeded.per_template),
                "total": asdict(seeded.total),
                "rows": seeded.rows,
            },
            "people": {who: asdict(p) for who, p in persons.items()},
            "load_average": {"before": load_before, "after": load_after},
            "pages": [r.summary() for r in results],
            "baseline": floor.summary(),
        }
    finally:
        if server is not None:
            stop_web(server)
        if args.keep:
            db.engine.dispose()
        else:
            db.close()
            shutil.rmtree(scratch, ignore_errors=True)


# -- the report ---------------------------------------------------------------------------------


def print_report(out: TextIO, result: dict[str, Any]) -> None:
    m, p = result["machine"], result["parameters"]
    print(f"\n# The caseworker's pages at {p['cases']:,} open cases (bench/web_scale.py)", file=out)
    print(
        f"machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, SQLAlchemy {m['sqlalchemy']}; "
        f"{p['requests']} requests a page on each connection, one client, one request at a time, "
        f"after {p['warmup']} warm-up rounds",
        file=out,
    )
    for run in result["runs"]:
        s, total = run["seeding"], run["seeding"]["total"]
        phases = ", ".join(f"{name} {sec:.1f} s" for name, sec in s["phases"].items())
        load = run["load_average"]
        people_ = run["people"]
        print(f"\n## {run['database']} ({run['database_label']})", file=out)
        print(f"seeding: {run['seeding_seconds']:.1f} s ({phases}); {s['clones']} clones of the template", file=out)
        print(
            f"verified: {total['open_cases']:,} open cases, {total['open_todos']:,} open to-dos "
            f"({total['overdue_todos']:,} overdue, {total['queued_todos']:,} in the team queue), "
            f"{total['open_deadlines']:,} open deadlines ({total['paused_deadlines']:,} paused), "
            f"{total['caseworkers']:,} caseworkers in one team",
            file=out,
        )
        print(
            f"signed in: {people_['caseworker']['username']} (caseworker, {people_['caseworker']['open_cases']} "
            f"open cases), {people_['team_lead']['username']} (team lead, the whole team), "
            f"{people_['manager']['username']} (manager)",
            file=out,
        )
        print(
            "load average (1/5/15 min) before measuring "
            + "/".join(f"{v:.1f}" for v in load["before"])
            + ", after "
            + "/".join(f"{v:.1f}" for v in load["after"]),
            file=out,
        )
        print(
            "\n| page | path | as | kept-alive connection: p50 / p95 / max ms "
            "| new connection each: p50 / p95 / max ms | HTML KB | SELECTs: n, ms (slowest ms) "
            "| p95 < 150 ms (kept-alive; new) |",
            file=out,
        )
        print("|---|---|---|---|---|---|---|---|", file=out)
        for row in [*run["pages"], run["baseline"]]:
            print(_row(row), file=out)
        slow = [
            r
            for r in run["pages"]
            if r.get("sql") and r["state"] == "measured" and not all(r[k]["met"] for k in CONNECTIONS if k in r)
        ]
        for row in slow:
            print(f"\nslowest SELECT of {row['what']} ({row['who']}): {row['sql']['slowest'][:600]}", file=out)


def _row(r: dict[str, Any]) -> str:
    path = r["path"] if len(r["path"]) <= 48 else r["path"][:45] + "..."
    kinds = [k for k in CONNECTIONS if k in r]
    if r["state"] != "measured" or not kinds:
        return f"| {r['what']} | `{path}` | {r['who']} | | | | | {r['state']}: {r['note']} |"
    times = [
        f"{r[k]['p50_ms']:.1f} / {r[k]['p95_ms']:.1f} / {r[k]['max_ms']:.1f}" if k in r else "" for k in CONNECTIONS
    ]
    sql = r.get("sql")
    sql_text = f"{sql['statements']}, {sql['seconds'] * 1000:.1f} ({sql['slowest_seconds'] * 1000:.1f})" if sql else ""
    verdict = "; ".join("met" if r[k]["met"] else "**NOT met**" for k in kinds)
    if r["what"].startswith("baseline"):
        verdict = "(the server's floor)"
    elif r["extra"]:
        verdict = "(no target)"
    if r.get("sample"):
        verdict += f", {r[kinds[0]]['requests']} requests"
    return (
        f"| {r['what']} | `{path}` | {r['who']} | {times[0]} | {times[1]} | {r['html_bytes'] / 1024:.1f} "
        f"| {sql_text} | {verdict} |"
    )


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the caseworker's pages on a database with N open cases (issue 12).",
        epilog="Without --url a temporary SQLite file is used; with --url a new database is created on that "
        "PostgreSQL server and dropped at the end (unless --keep).",
    )
    parser.add_argument("--cases", type=int, default=50_000, help="open cases to seed (default 50,000)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests a page (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up rounds before measuring (default 10)")
    parser.add_argument("--url", help="a PostgreSQL server URL, e.g. postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--both", action="store_true", help="with --url: SQLite first, then PostgreSQL")
    parser.add_argument("--template", type=int, default=250, help="open cases in the template (default 250)")
    parser.add_argument("--sql-repeat", type=int, default=20, help="runs of each captured SELECT (0: skip)")
    parser.add_argument(
        "--connections",
        choices=("both", *CONNECTIONS),
        default="both",
        help="ask on a kept-alive connection (as a browser), a new one each time, or both (default)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded database(s) and print where")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout, the report on stderr")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.requests < 1 or args.warmup < 0 or args.template < 1 or args.sql_repeat < 0:
        parser.error("--cases, --requests and --template must be positive, --warmup and --sql-repeat not negative")
    if args.url and not database_url(args.url).startswith("postgresql"):
        parser.error("--url must be a PostgreSQL URL; SQLite always runs on a temporary file")
    if args.both and not args.url:
        parser.error("--both needs --url")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = sys.stderr if args.json else sys.stdout
    targets: list[str | None] = [None, args.url] if args.both else [args.url]
    result: dict[str, Any] = {"machine": machine(), "parameters": vars(args), "runs": []}
    try:
        for target in targets:
            result["runs"].append(run_one(target, args))
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print_report(out, result)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    failed = [r for run in result["runs"] for r in run["pages"] if r["state"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
