"""The work duty's week plan on the case page: activities with hours, the to-do when a week falls short.

The same use case as `activation week-plan` and the API (activation/work_duty.py); a refusal a
caseworker can fix is shown beside its field with everything typed kept.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation import work_duty
from activation.errors import InputError
from activation.model import Case, WeekPlan
from web.app import check_csrf, clock, page, require, runtime
from web.case_actions import ACTORS, _refusal, _workable_case
from web.i18n import _

router = APIRouter(include_in_schema=False)
ROWS = 6  # activity rows on the form


def _next_monday(request: Request, case: Case) -> date:
    tz = runtime(request).rules.municipality(case.municipality).timezone  # the same in every version
    return work_duty.this_monday(clock(request).now(), tz) + timedelta(weeks=1)


def _week_page(
    request: Request,
    case: Case,
    values: dict[str, str],
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    duty = runtime(request).rules.as_of(clock(request).now()).municipality(case.municipality).work_duty
    return page(
        request,
        "case_week_plan.html.j2",
        status_code,
        title=_("Week plan"),
        case=case,
        duty=duty,
        rows=ROWS,
        values=values,
        errors=errors or {},
        problem=problem,
    )


def _values_of(plan: WeekPlan | None, week: date, required: float | None) -> dict[str, str]:
    values = {"week_start": week.isoformat(), "required_hours": "" if required is None else f"{required:g}"}
    if plan is not None:
        values["required_hours"] = f"{plan.required_hours:g}"
        for n, (name, hours) in enumerate(plan.activities[:ROWS]):
            values[f"activity_{n}"], values[f"hours_{n}"] = name, f"{hours:g}"
    return values


@router.get("/cases/{case_id}/week-plan", response_class=HTMLResponse)
def week_plan_page(request: Request, case_id: str, week: str | None = None) -> Response:
    """Show the case's work-duty plan for a week (next week unless asked), ready to edit."""
    user = require(request, *ACTORS)
    case = _workable_case(request, user, case_id)
    try:
        monday = date.fromisoformat(week) if week else _next_monday(request, case)
    except ValueError:
        monday = _next_monday(request, case)
    monday -= timedelta(days=monday.weekday())
    duty = runtime(request).rules.as_of(clock(request).now()).municipality(case.municipality).work_duty
    plan = work_duty.week_plan(runtime(request).store, case, monday)
    return _week_page(request, case, _values_of(plan, monday, duty.hours_a_week if duty else None))


@router.post("/cases/{case_id}/week-plan", response_class=HTMLResponse)
def save_week_plan(
    request: Request,
    case_id: str,
    csrf: str = Form(""),
    week_start: str = Form(""),
    required_hours: str = Form(""),
    activity_0: str = Form(""), hours_0: str = Form(""),
    activity_1: str = Form(""), hours_1: str = Form(""),
    activity_2: str = Form(""), hours_2: str = Form(""),
    activity_3: str = Form(""), hours_3: str = Form(""),
    activity_4: str = Form(""), hours_4: str = Form(""),
    activity_5: str = Form(""), hours_5: str = Form(""),
) -> Response:  # fmt: skip
    """Save the week's plan; a week short of the required hours gives the caseworker one to-do."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    rows = [(activity_0, hours_0), (activity_1, hours_1), (activity_2, hours_2), (activity_3, hours_3),
            (activity_4, hours_4), (activity_5, hours_5)]  # fmt: skip
    values = {"week_start": week_start, "required_hours": required_hours}
    for n, (name, hours) in enumerate(rows):
        values[f"activity_{n}"], values[f"hours_{n}"] = name, hours
    errors: dict[str, str] = {}
    try:
        week = date.fromisoformat(values.get("week_start", "").strip())
    except ValueError:
        errors["week_start"] = _("The week's Monday as a date, please.")
    activities = []
    for n, (name, hours) in enumerate((a.strip(), h.strip()) for a, h in rows):
        if not name and not hours:
            continue
        try:
            activities.append((name, float(hours.replace(",", "."))))
        except ValueError:
            errors[f"hours_{n}"] = _("Hours as a number, e.g. 7.5.")
    required: float | None = None
    if values.get("required_hours", "").strip():
        try:
            required = float(values["required_hours"].replace(",", "."))
        except ValueError:
            errors["required_hours"] = _("Hours as a number, e.g. 7.5.")
    if errors:
        return _week_page(request, case, values, 422, errors)
    rt, now = runtime(request), clock(request).now()
    try:
        saved = work_duty.set_week_plan_for(rt.store, rt.rules, user, case.id, week, activities, now, "web", required)
    except InputError as exc:
        renamed = {f"activities.{n}.{k}": f"{'activity' if k == 'activity' else 'hours'}_{n}"
                   for n in range(ROWS) for k in ("activity", "hours")}  # fmt: skip
        shown = ("week_start", "required_hours", "activities", *renamed.values())
        status, found, problem = _refusal(exc, shown, renamed)
        return _week_page(request, case, values, status, found, problem)
    short = f"&short={saved.shortfall:g}" if saved.shortfall else ""
    return RedirectResponse(f"/cases/{case.id}?planned={saved.plan.week_start.isoformat()}{short}", 303)
