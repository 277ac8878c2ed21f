"""Synthetic runs: `simulate` (what-if on rule versions) and `demo` (a quarter on a fresh database)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from activation.adapters.db import ENV_DATABASE_URL
from cli.common import JsonOpt, UserError, app, console, emit_json, err, prefect_env, runtime


@app.command()
def simulate(
    municipality: Annotated[str, typer.Argument(help="Municipality whose rules to run, e.g. boras.")],
    weeks: Annotated[int, typer.Option(help="Weeks to simulate (52: a year).", min=1, max=260)] = 52,
    arrivals_per_week: Annotated[int, typer.Option(help="Applications a week.", min=0, max=10_000)] = 20,
    caseworkers: Annotated[int, typer.Option(help="Caseworkers; cases go to them in turn.", min=1, max=1_000)] = 4,
    meetings_per_week: Annotated[
        int, typer.Option(help="To-dos (meetings) one caseworker takes a week (Borås: 4 a day, 4 days).", min=0)
    ] = 16,
    days_per_week: Annotated[int, typer.Option(help="Days a week caseworkers meet citizens.", min=1, max=5)] = 4,
    no_show_rate: Annotated[
        float, typer.Option(help="Share of first meetings the citizen misses.", min=0, max=1)
    ] = 0.2,
    version: Annotated[
        str | None, typer.Option(help="Rule version to run (default: the one in force on the start day).")
    ] = None,
    compare: Annotated[str | None, typer.Option(help="A second rule version to run side by side.")] = None,
    start: Annotated[str, typer.Option(help="First day (a Monday is used: the week it falls in).")] = "2026-09-07",
    seed: Annotated[int, typer.Option(help="Random seed (the same seed replays the same run).")] = 1,
    plot: Annotated[Path | None, typer.Option(help="Write an SVG of met share per deadline here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """What-if: run a synthetic cohort through one or two versions of the rules and compare them."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from activation import config
    from activation.adapters.simulation import run_on_scratch
    from activation.simulation import Capacity, Cohort, headline, side_by_side

    rules = config.load(config.config_dir())
    code = rules.municipality(municipality).code
    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise UserError(f"malformed start day {start!r}; use YYYY-MM-DD") from None
    # The default is the law and local rules of the start day (the first version is the 2017 baseline).
    start_noon = datetime.combine(first_day, time(12), tzinfo=ZoneInfo("UTC"))
    chosen = version or rules.in_force(code, start_noon).version
    versions = [chosen, *([compare] if compare else [])]
    for v in versions:
        rules.find_version(code, v)  # an unknown version is refused before anything runs
    cohort = Cohort(arrivals_per_week=arrivals_per_week, no_show_rate=no_show_rate, seed=seed)
    capacity = Capacity(caseworkers=caseworkers, meetings_per_week=meetings_per_week, days_per_week=days_per_week)
    results = []
    for v in versions:

        def progress(week: int, total: int, v: str = v) -> None:
            if week == total or week % 4 == 0 or week == 1:
                err.print(f"{v}: week {week}/{total}", highlight=False)

        results.append(run_on_scratch(rules, code, v, first_day, weeks, cohort, capacity, progress))
    a, b = results[0], (results[1] if len(results) > 1 else None)
    rows = side_by_side(a, b)
    if plot:
        plot.write_text(_simulation_svg(rows, a.version, b.version if b else None), encoding="utf-8")
    if as_json:
        emit_json({"runs": [r.as_dict() for r in results], "side_by_side": rows, "plot": str(plot) if plot else None})
        return
    names = [r.version for r in results]

    def share(x: dict[str, Any] | None) -> str:
        return (
            "–"
            if not x or x["met_share"] is None
            else f"{x['met_share'] * 100:.0f} % ({x['met']}/{x['met'] + x['missed']})"
        )

    title = f"{a.municipality}: {weeks} weeks from {a.start:%d %b %Y}, {arrivals_per_week} applications a week"
    short = [n.split("+")[0] for n in names]
    table = Table("deadline", *(f"met share {n}" for n in short), *(f"escalations {n}" for n in short), title=title)
    for r in rows:
        cells = [share(r.get("a")), *([share(r.get("b"))] if b else [])]
        cells += [str(r["a_escalations"]), *([str(r["b_escalations"])] if b else [])]
        table.add_row(r["deadline"], *cells)
    console.print(table)
    figures = Table("figure", *short)
    heads = [headline(r) for r in results]
    for key in heads[0]:
        figures.add_row(key.replace("_", " "), *("–" if h[key] is None else str(h[key]) for h in heads))
    console.print(figures)
    if plot:
        console.print(f"Plot of met share per deadline: {plot.resolve()}")


def _simulation_svg(rows: list[dict[str, Any]], a: str, b: str | None) -> str:
    """Draw met share per deadline for each version, side by side, as one SVG document."""
    import re

    from markupsafe import escape

    from web import charts

    drawn = []
    for name, stamp in (("a", a), ("b", b)):
        if stamp is None:
            continue
        bars = [(r["deadline"], r[name]["met_share"]) for r in rows]
        title = f"Met share per deadline, {stamp.split('+')[0]}"
        drawn.append(
            (title, str(charts.bar_chart(bars, title=title, chart_id=f"sim-{name}", maximum=1.0, fmt=charts.percent)))
        )
    height = max(int(re.search(r'height="(\d+)"', svg).group(1)) for _, svg in drawn) + 30  # type: ignore[union-attr]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{660 * len(drawn)}" height="{height}" '
             'font-family="system-ui, sans-serif" font-size="14">']  # fmt: skip
    for n, (title, svg) in enumerate(drawn):
        parts.append(
            f'<text x="{660 * n + 4}" y="18">{escape(title)}</text><g transform="translate({660 * n},30)">{svg}</g>'
        )
    parts.append("</svg>\n")
    return "".join(parts)


@app.command()
def demo(
    ctx: typer.Context,
    municipality: Annotated[str, typer.Option(help="Municipality to simulate.")] = "karlskrona",
    applications: Annotated[int, typer.Option(help="Applications over the period.")] = 60,
    weeks: Annotated[int, typer.Option(help="Weeks to simulate (13: a quarter).", min=1, max=104)] = 13,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed replays the same period).")] = 7,
    db: Annotated[
        str | None, typer.Option("--demo-db", help="Database for the demo (default: a fresh ./activation-demo.db).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a municipality's quarter on the embedded default and summarise it per stage."""
    if ctx.parent is not None and ctx.parent.params.get("db"):
        # The demo writes synthetic cases and staff with printed passwords: never into the database
        # the other commands use, however habitual the option.
        raise UserError(
            "the demo runs on a database of its own, not --db: use `activation demo --demo-db URL`"
            " (default: a fresh ./activation-demo.db)"
        )
    if db is None:
        path = Path.cwd() / "activation-demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    os.environ[ENV_DATABASE_URL] = db
    runtime().rules.municipality(municipality)
    prefect_env()
    # As `activation tick`: join a running Prefect server, else run the flow code without Prefect;
    # never start Prefect's ephemeral server (decided before anything imports Prefect).
    from flows.server import running_server

    where = running_server()
    if not as_json:
        err.print(
            f"Running the flows on {where}..." if where else "Running the flows in this process without Prefect..."
        )
    from flows.demo import run_demo
    from flows.tick import run_tick, run_tick_without_prefect

    tick = run_tick if where else run_tick_without_prefect
    summary = run_demo(municipality, applications, seed, weeks, say=None if as_json else err.print, tick=tick)
    summary["sign_in"] = _demo_users(municipality)
    summary["serve"] = f"activation --db {db} serve"
    if as_json:
        emit_json(summary)
        return
    from flows.demo import print_summary

    print_summary(summary, console)
    table = Table("role", "username", "password", title="Sign in to the web application")
    for row in summary["sign_in"]:
        table.add_row(row["role"], row["username"], row["password"])
    console.print(table)
    console.print(f"Serve the demo: [bold]{summary['serve']}[/], then open http://127.0.0.1:8000/")


def _demo_users(municipality: str) -> list[dict[str, str]]:
    """Create one user per role (and the demo's other caseworkers) with fresh passwords."""
    import secrets

    from activation.access import User
    from activation.adapters.accounts import Accounts
    from flows.demo import CASEWORKERS

    rt = runtime()
    m = rt.rules.municipality(municipality)
    team = m.default_team
    staff = [User(cw, f"Caseworker {cw[-2:]}", "caseworker", m.code, team) for cw in CASEWORKERS]
    staff += [
        User("tl-01", "Team lead", "team_lead", m.code, team),
        User("mgr-01", "Manager", "manager", m.code),
        User("ops-01", "Operations", "operations"),
    ]
    accounts = Accounts(rt.engine)
    shown = []
    for user in staff:
        password = secrets.token_urlsafe(9)
        accounts.add_user(user, password, datetime.now(UTC))
        if user.username == CASEWORKERS[0] or user.role != "caseworker":
            shown.append({"role": user.role, "username": user.username, "password": password})
    return shown
