"""The work duty's hours a week (arbejdspligt, LAB kap. 16 a): a week plan per case, a to-do when a week falls short.

A case under the work duty has a plan for each week: activities with their hours (paid hours,
virksomhedspraktik, Danish lessons, nytteindsats; treatment and job search count too, STAR "Om
arbejdspligt"). A week whose planned hours fall short of the required hours (37, or fewer by an
individual assessment) gives the caseworker one to-do for that case and week, however often the
plan is saved or the weeks are checked: its id is "<case>.wd<ISO year><ISO week>".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from activation import journey
from activation.access import User
from activation.case_actions import workable_case
from activation.config import MAX_HOURS_A_WEEK, WORK_DUTY_KEY, RuleBook, WorkDuty
from activation.errors import ConflictError, InputError, NotFoundError
from activation.lifecycle import CaseStatus
from activation.model import AuditEntry, Case, WeekPlan
from activation.ports import UnitOfWork, WeekPlanWork
from activation.progress import plan_work

WEEK_TODO = journey.Todo(WORK_DUTY_KEY, "Plan the missing activity hours of the week (work duty, LAB kap. 16 a)")
OUTCOMES = ("done", "cancelled")
ACTIVITY_MAX = 80  # characters of an activity's name
ACTIVITIES_MAX = 12
LOOK_BACK_WEEKS = 4  # a case with a plan in the last 4 weeks is under the work duty for the check


@dataclass(frozen=True)
class WeekPlanSaved:
    """A week plan saved, and the to-do its shortfall created (None: enough hours, or already created)."""

    plan: WeekPlan
    shortfall: float  # hours missing; 0 when the week is covered
    todo_id: str | None


def week_todo_id(case_id: str, week_start: date) -> str:
    """Return the id of a case-week's shortfall to-do: the same week gives the same id."""
    year, week, _ = week_start.isocalendar()
    return f"{case_id}.wd{year}{week:02d}"


def _monday(week_start: date) -> date:
    if week_start.weekday() != 0:
        problem = f"{week_start.isoformat()} is a {week_start:%A}; a week plan starts on a Monday"
        raise InputError(problem, {"week_start": "a Monday, please"})
    return week_start


def _activities(activities: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    cleaned = []
    for n, (name, hours) in enumerate(activities):
        name = " ".join(str(name).split())
        if not 1 <= len(name) <= ACTIVITY_MAX:
            raise InputError(
                f"activity {n + 1}: a name of 1-{ACTIVITY_MAX} characters",
                {f"activities.{n}.activity": "1-80 characters"},
            )
        if not 0 < hours <= MAX_HOURS_A_WEEK or round(hours * 2) != hours * 2:
            raise InputError(
                f"activity {n + 1}: hours from 0.5 to {MAX_HOURS_A_WEEK} in half hours",
                {f"activities.{n}.hours": "0.5-37, in half hours"},
            )
        cleaned.append((name, float(hours)))
    if len(cleaned) > ACTIVITIES_MAX:
        raise InputError(f"at most {ACTIVITIES_MAX} activities a week", {"activities": f"at most {ACTIVITIES_MAX}"})
    total = sum(h for _, h in cleaned)
    if total > MAX_HOURS_A_WEEK:
        # LAB kap. 16 a: the duty is up to 37 hours a week; a plan above it is a typo or an unlawful demand.
        raise InputError(
            f"{total:g} hours planned; the work duty is at most {MAX_HOURS_A_WEEK} hours a week",
            {"activities": "at most 37 hours in all"},
        )
    return tuple(cleaned)


def set_week_plan(
    store: UnitOfWork[WeekPlanWork],
    rules: RuleBook,
    case_id: str,
    week_start: date,
    activities: Sequence[tuple[str, float]],
    now: datetime,
    by: str,
    role: str,
    via: str,
    required_hours: float | None = None,
) -> WeekPlanSaved:
    """Save a case's plan for a week (replacing the week's earlier one); a shortfall gives one to-do."""
    week_start = _monday(week_start)
    planned = _activities(activities)
    with store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
        if case is None:
            raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
        duty = _duty(rules, case, now)
        if case.status != CaseStatus.OPEN:
            raise ConflictError(f"case {case_id} is {case.status}", {"case_id": "not open"})
        required = float(duty.hours_a_week if required_hours is None else required_hours)
        if not 0 <= required <= duty.hours_a_week:
            # Fewer hours only by an individual assessment (health); never more than the rule.
            raise InputError(
                f"required hours from 0 to {duty.hours_a_week}", {"required_hours": f"0-{duty.hours_a_week}"}
            )
        plan = WeekPlan(case_id, week_start, required, planned, by, now)
        tx.save_week_plan(plan)
        detail = f"week {week_start.isoformat()}: {plan.planned_hours:g} of {required:g} hours"
        tx.record_access([AuditEntry(by[:64], role, "week_plan", case_id, case.municipality, via, detail)], now)
        todo_id = _shortfall_todo(tx, rules, case, plan, now)
    return WeekPlanSaved(plan, max(required - plan.planned_hours, 0.0), todo_id)


def check_weeks(
    store: UnitOfWork[WeekPlanWork], rules: RuleBook, municipality: str, week_start: date, now: datetime
) -> list[str]:
    """Give a to-do for each case under the work duty whose plan for the week falls short (none is 0 hours)."""
    week_start = _monday(week_start)
    created = []
    with store.transaction() as tx:
        recent = tx.week_plans(municipality, week_start - timedelta(weeks=LOOK_BACK_WEEKS), week_start)
        ids = sorted({p.case_id for p in recent})
        cases = tx.cases(ids)
        for case_id in ids:
            case = cases[case_id]
            if case.status != CaseStatus.OPEN:
                continue
            duty = _duty(rules, case, now)
            [plan] = tx.week_plans(municipality, week_start, week_start + timedelta(days=1), case_id) or [
                WeekPlan(case_id, week_start, float(duty.hours_a_week), (), "", now)
            ]
            todo_id = _shortfall_todo(tx, rules, case, plan, now)
            if todo_id:
                created.append(todo_id)
    return created


def _duty(rules: RuleBook, case: Case, now: datetime) -> WorkDuty:
    duty = rules.as_of(now).municipality(case.municipality).work_duty
    if duty is None:
        raise ConflictError(
            f"{case.municipality} has no work duty rule (config: work_duty)", {"case_id": "no work duty here"}
        )
    return duty


def _shortfall_todo(tx: WeekPlanWork, rules: RuleBook, case: Case, plan: WeekPlan, now: datetime) -> str | None:
    """Create the case-week's to-do once if the plan falls short; return its id when created now."""
    if plan.planned_hours >= plan.required_hours:
        return None
    todo_id = week_todo_id(case.id, plan.week_start)
    if tx.todo(todo_id) is not None:
        return None  # exactly once per case and week, however often it is saved or checked
    event = f"week of {plan.week_start.isoformat()}: {plan.planned_hours:g} of {plan.required_hours:g} hours planned"
    work = plan_work(rules, case, (tx.last_step_id(case.id), now), todo_id, WEEK_TODO, case.stage, OUTCOMES,
                     WORK_DUTY_KEY, now, event, side=True)  # fmt: skip
    tx.add_work([work])
    return todo_id


def this_monday(now: datetime, timezone: str) -> date:
    """Return the Monday of the week a moment falls in, local time."""
    day = now.astimezone(ZoneInfo(timezone)).date()
    return day - timedelta(days=day.weekday())


def set_week_plan_for(
    store: UnitOfWork[WeekPlanWork],
    rules: RuleBook,
    user: User,
    case_id: str,
    week_start: date,
    activities: Sequence[tuple[str, float]],
    now: datetime,
    via: str,
    required_hours: float | None = None,
) -> WeekPlanSaved:
    """Save a week plan as a signed-in caseworker or team lead of the case's team (web, API)."""
    with store.transaction() as tx:
        workable_case(tx, user, case_id)
    return set_week_plan(
        store, rules, case_id, week_start, activities, now, user.username, user.role, via, required_hours
    )


def week_plan(store: UnitOfWork[WeekPlanWork], case: Case, week_start: date) -> WeekPlan | None:
    """Return the case's plan for a week, if one was saved."""
    with store.transaction() as tx:
        found = tx.week_plans(case.municipality, week_start, week_start + timedelta(days=1), case.id)
    return found[0] if found else None
