"""The manager console: the rules in force, timeliness, escalations, caseload, passive periods, the audit log.

A manager sees their own municipality only; every number comes from activation/adapters/reports.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from activation.access import User
from activation.adapters import reports
from activation.config import DeadlineRule, Municipality
from web import charts
from web.app import Forbidden, accounts, clock, page, require, runtime

router = APIRouter(include_in_schema=False)

DEFAULT_MONTHS, MIN_MONTHS, MAX_MONTHS = 6, 1, 24
AUDIT_LIMIT = 200
MAX_FILTER = 128  # characters of a case id or username filter


def _manager(request: Request) -> tuple[User, Municipality]:
    user = require(request, "manager")
    if not user.municipality:
        raise Forbidden()
    return user, runtime(request).rules.municipality(user.municipality)


def parse_months(raw: str | None) -> tuple[int, str | None]:
    """Read ?months=N: a whole number from 1 to 24, else the default or the nearest bound, with a note."""
    if raw is None or not raw.strip():
        return DEFAULT_MONTHS, None
    try:
        wanted = int(raw.strip())
    except ValueError:
        return DEFAULT_MONTHS, f"“{raw[:20]}” is not a number of months; showing {DEFAULT_MONTHS}."
    clamped = min(max(wanted, MIN_MONTHS), MAX_MONTHS)
    if clamped != wanted:
        return clamped, f"Months go from {MIN_MONTHS} to {MAX_MONTHS}; showing {clamped}."
    return wanted, None


def _ladder(rule: DeadlineRule) -> dict[str, Any]:
    # The same fields `activation config show` prints for a rule.
    return {
        "due": str(rule.due),
        "calendar": rule.calendar,
        "remind_before": [str(d) for d in rule.remind_before],
        "escalate_after": [f"{s.after} → {s.notify.replace('_', ' ')}" for s in rule.escalate_after],
        "source": rule.source,
        "local_choice": rule.local_choice,
        "restart_after_pause": str(rule.restart_after_pause) if rule.restart_after_pause else None,
    }


def sla_parameters(m: Municipality) -> dict[str, list[dict[str, Any]]]:
    """Return the deadline rules, cadences per group and intervention start deadlines in force, with sources."""
    return {
        "deadlines": [{"key": key, **_ladder(rule)} for key, rule in m.deadlines.items()],
        "cadences": [
            {
                "key": f"{group_key}.{name}",
                "group": group.name,
                "label": rule.label,
                "event": rule.event,
                "at_least": rule.at_least,
                "first_due": str(rule.first_due) if rule.first_due else None,
                "on_change_due": str(rule.on_change_due) if rule.on_change_due else None,
                **_ladder(rule),
            }
            for group_key, group in m.groups.items()
            for name, rule in group.cadences.items()
        ],
        "interventions": [
            {
                "key": key,
                "name": rule.name,
                "capacity": rule.capacity,
                "max_length": str(rule.max_length) if rule.max_length else None,
                **_ladder(rule),
            }
            for key, rule in m.interventions.items()
        ],
    }


def offer_rules(m: Municipality) -> list[str]:
    """Return the rule keys of the offer obligations: a passive period is one of them past due."""
    return [
        f"{group_key}.{name}"
        for group_key, group in m.groups.items()
        for name, rule in group.cadences.items()
        if rule.event == "offer"
    ]


def _caseload_rows(request: Request, m: Municipality, load: reports.Caseload) -> list[dict[str, Any]]:
    # Caseworkers with no open case are listed too: an empty desk is news as well.
    known = {(u.team, u.username) for u in accounts(request).users(m.code, "caseworker")}
    counted = {(r["team"], r["caseworker"]): r["open_cases"] for r in load.cases}
    keys = set(counted) | known | {(team, None) for team in m.teams}
    rows = [{"team": team, "caseworker": who, "open_cases": counted.get((team, who), 0)} for team, who in keys]
    return sorted(rows, key=lambda r: (r["team"] or "", r["caseworker"] is not None, r["caseworker"] or ""))


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, months: str | None = None) -> Response:
    """Show the rules in force, timeliness, escalations, caseload and passive periods of my municipality."""
    _user, m = _manager(request)
    count, months_note = parse_months(months)
    now = clock(request).now()
    window = reports.month_window(now, m.timezone, count)
    offers = offer_rules(m)
    with runtime(request).engine.connect() as conn:
        timely = reports.timeliness(conn, m.code, now, window)
        escalated = reports.escalations(conn, m.code, window)
        load = reports.caseload(conn, m.code, now)
        passive = reports.passive_periods(conn, m.code, offers, now)
    names = {u.username: u.display_name for u in accounts(request).users(m.code)}
    teams = sorted(set(m.teams) | set(timely.by_team) | set(escalated.by_team))
    chart = {
        "month": charts.column_chart(
            [(reports.month_label(k), v.share) for k, v in timely.by_month.items()],
            title="Share of deadlines met per month (met / (met + real misses))",
            chart_id="chart-month",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "stage": charts.bar_chart(
            [(k, v.share) for k, v in timely.by_stage.items()],
            title="Share of deadlines met per stage (rule)",
            chart_id="chart-stage",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "team": charts.bar_chart(
            [(m.teams[k].name if k in m.teams else k, timely.by_team[k].share) for k in teams if k in timely.by_team],
            title="Share of deadlines met per team",
            chart_id="chart-team",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "escalations": charts.bar_chart(
            [(m.teams[k].name if k in m.teams else k, float(escalated.by_team.get(k, 0))) for k in teams],
            title=f"Escalations per team, last {count} months",
            chart_id="chart-escalations",
        ),
    }
    return page(
        request,
        "console.html.j2",
        title="Console",
        municipality=m,
        version=runtime(request).rules.version(m.code),
        months=count,
        months_note=months_note,
        window=window,
        month_label=reports.month_label,
        timely=timely,
        escalated=escalated,
        teams=teams,
        caseload=_caseload_rows(request, m, load),
        todo_load=load.todos,
        names=names,
        passive=passive,
        offer_rules={key: m.rule(key) for key in offers},
        sla=sla_parameters(m),
        chart=chart,
    )


def _filter(raw: str | None) -> str | None:
    value = (raw or "").strip()[:MAX_FILTER]
    return value or None


@router.get("/console/audit", response_class=HTMLResponse)
def audit(request: Request, case_id: str | None = None, username: str | None = None) -> Response:
    """Show my municipality's audit log, newest first, optionally for one case or one member of staff."""
    _user, m = _manager(request)
    wanted_case, wanted_user = _filter(case_id), _filter(username)
    found = accounts(request).audit_entries(m.code, case_id=wanted_case, username=wanted_user, limit=AUDIT_LIMIT + 1)
    return page(
        request,
        "audit.html.j2",
        title="Audit log",
        municipality=m,
        entries=found[:AUDIT_LIMIT],
        truncated=len(found) > AUDIT_LIMIT,
        limit=AUDIT_LIMIT,
        case_id=wanted_case or "",
        username=wanted_user or "",
    )
