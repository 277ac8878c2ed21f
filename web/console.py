"""The manager console: the rules in force, timeliness, escalations, caseload, passive periods, the audit log.

A manager sees their own municipality only; every number comes from activation/adapters/reports.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from activation.access import User
from activation.adapters import reports
from activation.adapters.db import reading
from activation.config import DeadlineRule, Municipality
from web import charts
from web.app import Forbidden, accounts, clock, page, require, runtime
from web.glossary import Terms
from web.i18n import _, ngettext

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
        note = _("“%(raw)s” is not a number of months; showing %(shown)d.", raw=raw[:20], shown=DEFAULT_MONTHS)
        return DEFAULT_MONTHS, note
    clamped = min(max(wanted, MIN_MONTHS), MAX_MONTHS)
    if clamped != wanted:
        note = _("Months go from %(low)d to %(high)d; showing %(n)d.", low=MIN_MONTHS, high=MAX_MONTHS, n=clamped)
        return clamped, note
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
    # The rules in force today: the municipality's own over the law of today (national versions).
    in_force = runtime(request).rules.in_force(m.code, now)
    m = in_force.municipality
    window = reports.month_window(now, m.timezone, count)
    offers = offer_rules(m)
    with reading(runtime(request).engine) as conn:
        timely = reports.timeliness(conn, m.code, now, window)
        escalated = reports.escalations(conn, m.code, window)
        load = reports.caseload(conn, m.code, now)
        passive = reports.passive_periods(conn, m.code, offers, now)
    names = {u.username: u.display_name for u in accounts(request).users(m.code)}
    terms = Terms(runtime(request).rules)
    teams = sorted(set(m.teams) | set(timely.by_team) | set(escalated.by_team))
    chart = {
        "month": charts.column_chart(
            [(reports.month_label(k), v.share) for k, v in timely.by_month.items()],
            title=_("Share of deadlines met per month (met / (met + real misses))"),
            chart_id="chart-month",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "stage": charts.bar_chart(
            [(terms.rule(m.code, k), v.share) for k, v in timely.by_stage.items()],
            title=_("Share of deadlines met per stage (rule)"),
            chart_id="chart-stage",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "team": charts.bar_chart(
            [(m.teams[k].name if k in m.teams else k, timely.by_team[k].share) for k in teams if k in timely.by_team],
            title=_("Share of deadlines met per team"),
            chart_id="chart-team",
            maximum=1.0,
            fmt=charts.percent,
        ),
        "escalations": charts.bar_chart(
            [(m.teams[k].name if k in m.teams else k, float(escalated.by_team.get(k, 0))) for k in teams],
            title=ngettext(
                "Escalations per team, last %(num)d month", "Escalations per team, last %(num)d months", count
            ),
            chart_id="chart-escalations",
        ),
    }
    return page(
        request,
        "console.html.j2",
        title=_("Console"),
        municipality=m,
        version=in_force.stamp,
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
        title=_("Audit log"),
        municipality=m,
        entries=found[:AUDIT_LIMIT],
        truncated=len(found) > AUDIT_LIMIT,
        limit=AUDIT_LIMIT,
        case_id=wanted_case or "",
        username=wanted_user or "",
    )


# What-if simulation: bounded so the page answers in seconds on the request thread.
SIM_MAX_WEEKS, SIM_MAX_ARRIVALS, SIM_MAX_CASEWORKERS, SIM_MAX_MEETINGS = 52, 2_000, 50, 60
SIM_DEFAULTS = {"weeks": 13, "arrivals": 10, "caseworkers": 2, "meetings": 16, "days": 4, "no_show": 20, "seed": 1}


def _bounded(raw: str | None, name: str, low: int, high: int, notes: list[str]) -> int:
    """Read a whole number from a form field, falling back to its default or clamping to its bounds with a note."""
    default = SIM_DEFAULTS[name]
    if raw is None or not raw.strip():
        return default
    try:
        wanted = int(raw.strip())
    except ValueError:
        notes.append(_("“%(raw)s” is not a whole number for %(field)s; using %(default)d.", raw=raw[:20], field=name,
                       default=default))  # fmt: skip
        return default
    clamped = min(max(wanted, low), high)
    if clamped != wanted:
        field = name.replace("_", " ").capitalize()
        notes.append(_("%(field)s goes from %(low)d to %(high)d; using %(shown)d.", field=field, low=low, high=high,
                       shown=clamped))  # fmt: skip
    return clamped


@router.get("/console/simulate", response_class=HTMLResponse)
def simulate_page(
    request: Request,
    weeks: str | None = None,
    arrivals: str | None = None,
    caseworkers: str | None = None,
    meetings: str | None = None,
    days: str | None = None,
    no_show: str | None = None,
    seed: str | None = None,
    version: str | None = None,
    compare: str | None = None,
    run: str | None = None,
) -> Response:
    """Run a what-if simulation of two rule versions on a scratch database and chart them side by side."""
    from zoneinfo import ZoneInfo

    from activation.adapters.simulation import run_on_scratch
    from activation.simulation import Capacity, Cohort, headline, side_by_side

    _user, municipality = _manager(request)
    rt = runtime(request)
    # Every version over time and the proposed national versions (bills can be simulated, not applied).
    history = (*rt.rules.history.get(municipality.code, ()), *rt.rules.proposed.get(municipality.code, ()))
    names = [v.version for v in history]
    notes: list[str] = []
    chosen = {
        "weeks": _bounded(weeks, "weeks", 1, SIM_MAX_WEEKS, notes),
        "arrivals": _bounded(arrivals, "arrivals", 0, SIM_MAX_ARRIVALS, notes),
        "caseworkers": _bounded(caseworkers, "caseworkers", 1, SIM_MAX_CASEWORKERS, notes),
        "meetings": _bounded(meetings, "meetings", 0, SIM_MAX_MEETINGS, notes),
        "days": _bounded(days, "days", 1, 5, notes),
        "no_show": _bounded(no_show, "no_show", 0, 100, notes),
        "seed": _bounded(seed, "seed", 0, 1_000_000, notes),
    }
    if chosen["arrivals"] * chosen["weeks"] > SIM_MAX_ARRIVALS:
        chosen["arrivals"] = SIM_MAX_ARRIVALS // chosen["weeks"]
        notes.append(_("At most %(most)d applications in all; using %(arrivals)d a week.", most=SIM_MAX_ARRIVALS,
                       arrivals=chosen["arrivals"]))  # fmt: skip
    picked = [v if v in names else names[0] for v in (version, compare or names[-1])]
    results, rows, charts_drawn, heads = [], [], [], []
    if run:
        cohort = Cohort(arrivals_per_week=chosen["arrivals"], no_show_rate=chosen["no_show"] / 100, seed=chosen["seed"])
        capacity = Capacity(
            caseworkers=chosen["caseworkers"], meetings_per_week=chosen["meetings"], days_per_week=chosen["days"]
        )
        start = clock(request).now().astimezone(ZoneInfo(municipality.timezone)).date()
        results = [
            run_on_scratch(rt.rules, municipality.code, v, start, chosen["weeks"], cohort, capacity) for v in picked
        ]
        rows = side_by_side(results[0], results[1])
        for n, (key, result) in enumerate(zip(("a", "b"), results, strict=True)):
            bars = [(Terms(rt.rules).rule(municipality.code, r["deadline"]), r[key]["met_share"]) for r in rows]
            title = _("Met share per deadline, %(version)s", version=picked[n])
            charts_drawn.append(
                charts.bar_chart(bars, title=title, chart_id=f"sim-{key}", maximum=1.0, fmt=charts.percent)
            )
            heads.append(headline(result))
    return page(
        request,
        "console_simulate.html.j2",
        municipality=municipality,
        versions=names,
        picked=picked,
        chosen=chosen,
        notes=notes,
        results=results,
        rows=rows,
        charts=charts_drawn,
        heads=heads,
        limits={"weeks": SIM_MAX_WEEKS, "arrivals": SIM_MAX_ARRIVALS},
    )
