"""The work duty's hours a week: `activation week-plan` saves a week, `activation week-check` finds short weeks."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cli.common import CaseIdArg, JsonOpt, NowOpt, UserError, app, console, emit_json, parse_time, runtime


def _week(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"malformed week {text!r}; give its Monday as YYYY-MM-DD, e.g. 2026-12-07") from None


def _activity(text: str) -> tuple[str, float]:
    name, sep, hours = text.rpartition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip(), float(hours.replace(",", "."))
    except ValueError:
        raise UserError(f"malformed activity {text!r}; write NAME=HOURS, e.g. 'Virksomhedspraktik=20'") from None


@app.command("week-plan")
def week_plan(
    case_id: CaseIdArg,
    week: Annotated[str, typer.Option(help="The week's Monday, YYYY-MM-DD.")],
    activity: Annotated[
        list[str] | None, typer.Option(help="NAME=HOURS, once per activity (e.g. 'Virksomhedspraktik=20').")
    ] = None,
    required: Annotated[
        float | None, typer.Option(help="Hours required this week if fewer than the rule's, by individual assessment.")
    ] = None,
    by: Annotated[str, typer.Option(help="Who plans it (caseworker id).")] = "caseworker",
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a case's work-duty plan for a week (LAB kap. 16 a); a week short of the hours gives one to-do."""
    from activation import work_duty

    rt = runtime()
    activities = [_activity(a) for a in activity or []]
    saved = work_duty.set_week_plan(
        rt.store, rt.rules, case_id, _week(week), activities, parse_time(now), by, "caseworker", "cli", required
    )
    if as_json:
        emit_json({"plan": saved.plan, "planned_hours": saved.plan.planned_hours, "shortfall": saved.shortfall,
                   "todo_id": saved.todo_id})  # fmt: skip
        return
    p = saved.plan
    console.print(
        f"Week of {p.week_start.isoformat()} for case {p.case_id}: {p.planned_hours:g} of {p.required_hours:g} hours."
    )
    if saved.todo_id:
        console.print(f"  {saved.shortfall:g} hours short: to-do {saved.todo_id} for the caseworker.")
    elif saved.shortfall:
        console.print(f"  {saved.shortfall:g} hours short; the week's to-do exists already.")


@app.command("week-check")
def week_check(
    municipality: Annotated[str, typer.Argument(help="Municipality code, e.g. allerod.")],
    week: Annotated[str, typer.Option(help="The week's Monday, YYYY-MM-DD.")],
    now: NowOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give a to-do for each work-duty case whose plan for the week falls short (no plan: 0 hours); once each."""
    from activation import work_duty

    rt = runtime()
    code = rt.rules.municipality(municipality).code
    created = work_duty.check_weeks(rt.store, rt.rules, code, _week(week), parse_time(now))
    if as_json:
        emit_json({"todos": created})
        return
    console.print(f"{len(created)} to-dos for weeks short of hours." + "".join(f"\n  {t}" for t in created))
