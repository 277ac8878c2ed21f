"""Caseload coverage targets: exempt a case (`activation exempt`), show the share per month (`activation coverage`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import CaseIdArg, JsonOpt, NowOpt, UserError, app, console, emit_json, local_time, parse_time, runtime


@app.command()
def exempt(
    case_id: CaseIdArg,
    target: Annotated[str, typer.Option(help="The coverage target (config: coverage_targets), e.g. job_ready_offer.")],
    reason: Annotated[str, typer.Option(help="The reason (config: exemption_reasons), e.g. health.")],
    note: Annotated[str | None, typer.Option(help="The concrete assessment in a sentence (no health details).")] = None,
    by: Annotated[str, typer.Option(help="Who made the assessment (caseworker id).")] = "caseworker",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Exempt a case from a caseload coverage target by a recorded, reasoned assessment (audited)."""
    from activation import coverage

    rt = runtime()
    result = coverage.record_exemption(
        rt.store, rt.rules, case_id, target, reason, parse_time(now), by, "caseworker", "cli", note
    )
    if as_json:
        emit_json(result)
        return
    e = result.exemption
    if result.repeated:
        console.print(f"Case {e.case_id} was already exempted from {e.target} ({e.reason}); nothing changed.")
        return
    console.print(
        f"Case {e.case_id} exempted from {e.target} ({e.reason}) by {e.recorded_by}, {local_time(e.recorded_at)}."
    )


@app.command("coverage")
def coverage_report(
    municipality: Annotated[str, typer.Argument(help="Municipality code, e.g. allerod.")],
    months: Annotated[int, typer.Option(min=1, max=24, help="Calendar months up to and including this one.")] = 6,
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show each coverage target's share per month, exemptions counted, the current month as a forecast."""
    from activation import coverage
    from activation.adapters.coverage_sql import target_coverage
    from activation.adapters.db import reading

    rt = runtime()
    at = parse_time(now)
    m = rt.rules.as_of(at).municipality(municipality)  # the rules in force at --now
    if not m.coverage_targets:
        raise UserError(f"{m.code} has no coverage targets (config: coverage_targets)")
    with reading(rt.engine) as conn:
        found = {
            key: target_coverage(conn, m, key, at, months, coverage.target_since(rt.rules, m.code, key, at))
            for key in m.coverage_targets
        }
    if as_json:
        emit_json({key: [r.figures() for r in rows] for key, rows in found.items()})
        return
    for key, rows in found.items():
        target = m.coverage_targets[key]
        table = Table(
            title=f"{target.label} ({key}): at least {target.target:g} %, at most {target.max_exempt:g} % exempt"
        )
        for col in ("month", "cases", "met", "exempt", "over cap", "counted", "share", "reachable", "target"):
            table.add_column(col)
        for r in rows:
            share = "-" if r.share is None else f"{r.share:.1%}"
            reach = "-" if r.reachable is None else f"{r.reachable:.1%}"
            verdict = {True: "reached", False: "below", None: "-"}[r.reached]
            if r.current and r.reached is not None:
                verdict = "within reach" if r.reached else "out of reach"
            month = f"{r.month[0]:04d}-{r.month[1]:02d}" + (" (forecast)" if r.current else "")
            table.add_row(month, str(r.cases), str(r.met), f"{r.exempt}/{r.allowed}", str(r.over_cap), str(r.counted),
                          share, reach, verdict)  # fmt: skip
        console.print(table)
        console.print(f"  source: {target.source}")
