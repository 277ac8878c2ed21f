"""What-if simulation: a synthetic cohort run through the real journey rules on a virtual clock.

The run drives the same use cases the flows and the web application call (record_application,
advance_cases, complete_todo, sweep) on a scratch store the caller provides, so the deadlines,
reminders and escalations come from the project's rules, not from a copy of them. The clock steps
one calendar day at a time:

* 09:00 (weekdays): the week's applications arrive, spread evenly over Monday to Friday, and the
  cases move on (first-meeting to-dos, deadlines, alarms).
* 13:00 (the caseworkers' working days: open days of the office calendar, the first
  ``days_per_week`` weekdays): each caseworker works their own open to-dos soonest due first, up
  to the day's capacity; every to-do worked takes one slot (a meeting or a sitting with the case).
  To-dos the journey marks ``scheduled`` (follow-up, wrap-up, after-exit check) are not held
  before ``book_ahead_days`` before they are due. Then the cases move on again.
* 13:00 (before the work) and 23:00 (every day): the deadline sweep fires due reminders and
  escalations, so an alarm that fell due in the morning fires before a late to-do is done.

Citizens not showing up, their capacity band, whether a follow-up ends in exit and why they exit
are drawn from a seeded random generator, so the same seed replays the same run. The records filled
in come from activation/samples.py, as in the demo; a to-do the cohort has no figures for (a stage
added to the journey) is done with its first outcome.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from activation import journey, samples, services
from activation.config import RuleBook
from activation.model import TodoRecord
from activation.ports import Store

ARRIVE, WORK, SWEEP = time(9, 0), time(13, 0), time(23, 0)
BANDS = ("1-25", "26-50", "51-75", "76-100")


class Cohort(BaseModel):
    """The synthetic citizens: how many arrive, how ready they are and how their meetings go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arrivals_per_week: int = Field(default=20, ge=0, le=10_000)  # local choice: the sources give no intake figure
    arrival_weeks: int | None = Field(default=None, ge=0)  # applications stop after this many weeks (None: all weeks)
    # Readiness: the capacity bands of the assessment, from Linköping's mapping of 806 clients: 248 under
    # 10 h, 314 between 10 and 30 h (split evenly over 26-50 and 51-75), 244 up to 40 h (rules-se.md L20).
    readiness: dict[str, float] = Field(
        default_factory=lambda: {"1-25": 248.0, "26-50": 157.0, "51-75": 157.0, "76-100": 244.0}
    )
    # No-show at a (re)booked first meeting: the sources name sanctions for it (rules-dk.md L48) but no
    # rate; 20 % is the demo's local choice.
    no_show_rate: float = Field(default=0.2, ge=0, le=1)
    # Chance that a follow-up ends in exit, per capacity band. 003 found ~46 % off kontanthjælp after 2
    # years (rules-dk.md L61-62); with a follow-up every 6 weeks (17 in 2 years) that is ~3.6 % per
    # follow-up on average; the spread over the bands is a local choice.
    exit_per_follow_up: dict[str, float] = Field(
        default_factory=lambda: {"1-25": 0.018, "26-50": 0.029, "51-75": 0.043, "76-100": 0.054}
    )
    # Why citizens exit: IMA's 45 % to work and 30 % to studies (rules-se.md L13); the rest to another benefit.
    exit_reasons: dict[str, float] = Field(
        default_factory=lambda: {"job": 45.0, "education": 30.0, "other_benefit": 25.0}
    )
    re_entry_share: float = Field(default=0.15, ge=0, le=1)  # at the after-exit check; the demo's local choice
    intervention: str = "internship"  # what the plan names and the placement starts
    placement_weeks: int = Field(default=4, ge=1, le=26)
    seed: int = 1

    @model_validator(mode="after")
    def _known_bands(self) -> Cohort:
        for name, mix in (("readiness", self.readiness), ("exit_per_follow_up", self.exit_per_follow_up)):
            unknown = set(mix) - set(BANDS)
            if unknown:
                raise ValueError(f"{name}: unknown capacity bands {sorted(unknown)}; bands: {', '.join(BANDS)}")
            if any(v < 0 for v in mix.values()):
                raise ValueError(f"{name}: shares cannot be negative")
        if not sum(self.readiness.values()) or not sum(self.exit_reasons.values()):
            raise ValueError("readiness and exit_reasons need at least one positive share")
        if any(not 0 <= v <= 1 for v in self.exit_per_follow_up.values()):
            raise ValueError("exit_per_follow_up: chances lie between 0 and 1")
        return self

    def arrivals(self, week: int) -> int:
        """Return how many applications arrive in week `week` (0-based)."""
        stopped = self.arrival_weeks is not None and week >= self.arrival_weeks
        return 0 if stopped else self.arrivals_per_week


class Capacity(BaseModel):
    """The caseworkers: how many, and how many to-dos (meetings) each can take a week."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    caseworkers: int = Field(default=4, ge=1, le=1_000)
    # Borås: 2 clients in the morning and 2 in the afternoon, 4 days a week (rules-se.md L12).
    meetings_per_week: int = Field(default=16, ge=0, le=200)
    days_per_week: int = Field(default=4, ge=1, le=5)
    book_ahead_days: int = Field(default=7, ge=0, le=90)  # cadenced meetings are held in the last week before due

    @classmethod
    def per_day(cls, caseworkers: int, meetings_per_day: int, days_per_week: int) -> Capacity:
        """Build a capacity from meetings a day and working days a week (Borås: 4 a day, 4 days)."""
        return cls(
            caseworkers=caseworkers, meetings_per_week=meetings_per_day * days_per_week, days_per_week=days_per_week
        )

    def slots(self, weekday: int) -> int:
        """Return one caseworker's slots on a weekday (0 Monday): the week's meetings spread, earliest days first."""
        if weekday >= self.days_per_week:
            return 0
        base, extra = divmod(self.meetings_per_week, self.days_per_week)
        return base + (1 if weekday < extra else 0)


@dataclass
class Verdicts:
    """Deadlines of one rule due in the period: met, real misses, excused misses, still open."""

    met: int = 0
    missed: int = 0
    excused: int = 0
    open: int = 0

    @property
    def share(self) -> float | None:
        """Return met / (met + real misses), or None when nothing was judged."""
        judged = self.met + self.missed
        return self.met / judged if judged else None


# The caller judges the scratch store's deadlines (the console's timeliness report does, on SQL):
# (municipality, since, until) -> verdicts per rule key for the deadlines due in [since, until), at until.
Judge = Callable[[str, datetime, datetime], dict[str, Verdicts]]
Progress = Callable[[int, int], None]


@dataclass
class SimulationResult:
    """What a run produced, for a table, a chart or JSON."""

    municipality: str
    version: str
    start: datetime
    end: datetime
    weeks: int
    cohort: Cohort
    capacity: Capacity
    deadlines: dict[str, Verdicts] = field(default_factory=dict)
    escalations: Counter[str] = field(default_factory=Counter)  # per rule key
    reminders: int = 0
    done_per_week: list[dict[str, int]] = field(default_factory=list)  # per week: caseworker -> to-dos done
    backlog: list[int] = field(default_factory=list)  # per week: open to-dos past due at the week's end
    exit_days: list[float] = field(default_factory=list)  # days from application to exit, per exit
    counts: Counter[str] = field(default_factory=Counter)

    def met_share(self, rule_key: str) -> float | None:
        """Return the met share of one deadline key."""
        verdicts = self.deadlines.get(rule_key)
        return verdicts.share if verdicts else None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as plain data (JSON)."""
        per_cw = [sum(week.values()) / self.capacity.caseworkers for week in self.done_per_week]
        exits = sorted(self.exit_days)
        return {
            "municipality": self.municipality,
            "version": self.version,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "weeks": self.weeks,
            "cohort": self.cohort.model_dump(),
            "capacity": self.capacity.model_dump(),
            "counts": dict(sorted(self.counts.items())),
            "deadlines": {
                key: {"met": v.met, "missed": v.missed, "excused": v.excused, "open": v.open, "met_share": v.share}
                for key, v in self.deadlines.items()
            },
            "escalations": dict(sorted(self.escalations.items())),
            "escalations_total": sum(self.escalations.values()),
            "reminders": self.reminders,
            "todos_per_caseworker_week": {
                "mean": round(statistics.fmean(per_cw), 2) if per_cw else 0.0,
                "max": max((max(week.values(), default=0) for week in self.done_per_week), default=0),
                "by_week": self.done_per_week,
            },
            "backlog_by_week": self.backlog,
            "time_to_exit_days": {
                "exits": len(exits),
                "median": round(statistics.median(exits), 1) if exits else None,
                "p90": round(exits[min(len(exits) - 1, int(0.9 * len(exits)))], 1) if exits else None,
            },
        }


def simulate(
    store: Store,
    rules: RuleBook,
    municipality: str,
    version: str | None,
    start: date,
    weeks: int,
    cohort: Cohort,
    capacity: Capacity,
    judge: Judge,
    progress: Progress | None = None,
) -> SimulationResult:
    """Run a cohort through one version of a municipality's rules for `weeks` weeks from `start`."""
    if version is not None:
        rules = rules.pinned(municipality, version)
    here = rules.in_force(municipality, datetime.combine(start, time(12), tzinfo=ZoneInfo("UTC")))
    code, office = here.municipality.code, here.municipality.calendar()
    tz = ZoneInfo(here.municipality.timezone)
    first = start - timedelta(days=start.weekday())  # weeks run Monday to Sunday
    began = datetime.combine(first, time(0), tzinfo=tz)
    ended = began + timedelta(weeks=weeks)
    result = SimulationResult(code, here.stamp, began, ended, weeks, cohort, capacity)
    run = _Run(store, rules, code, cohort, capacity, result)
    for week in range(weeks):
        done: Counter[str] = Counter()
        arrivals = _spread(cohort.arrivals(week), 5)
        for weekday in range(7):
            day = first + timedelta(weeks=week, days=weekday)
            if weekday < 5 and arrivals[weekday]:
                run.arrive(datetime.combine(day, ARRIVE, tzinfo=tz), arrivals[weekday])
            # The real sweep runs every few minutes: fire what fell due in the morning before anyone works.
            run.sweep(datetime.combine(day, WORK, tzinfo=tz))
            if capacity.slots(weekday) and office.is_open_day(day):
                done += run.work(datetime.combine(day, WORK, tzinfo=tz), capacity.slots(weekday))
            run.sweep(datetime.combine(day, SWEEP, tzinfo=tz))
        week_end = began + timedelta(weeks=week + 1)
        result.done_per_week.append({cw: done[cw] for cw in run.staff})
        result.backlog.append(sum(1 for todo in run.open.values() if todo.due_at < week_end))
        if progress:
            progress(week + 1, weeks)
    run.sweep(ended)
    result.counts["todos_open_at_end"] = len(run.open)
    result.deadlines = judge(code, began, ended)
    return result


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class _Run:
    """The state of one run: open to-dos as the real use cases created them, and the caseworkers."""

    def __init__(
        self, store: Store, rules: RuleBook, code: str, cohort: Cohort, capacity: Capacity, result: SimulationResult
    ):
        self.store, self.rules, self.code, self.cohort, self.result = store, rules, code, cohort, result
        self.book_ahead = timedelta(days=capacity.book_ahead_days)
        self.scheduled = journey.scheduled_kinds()  # held near their due date (the journey says which)
        self.rng = random.Random(cohort.seed)
        self.staff = [f"cw-{n + 1:02d}" for n in range(capacity.caseworkers)]
        self.open: dict[str, TodoRecord] = {}
        self.applied: dict[str, datetime] = {}
        self.band: dict[str, str] = {}
        self.arrived = 0

    def arrive(self, now: datetime, n: int) -> None:
        """Record n applications at now, each case with a caseworker in turn, and move the cases on."""
        for _ in range(n):
            number = self.arrived
            self.arrived += 1
            # Case ids from the arrival number, so the same seed replays the same run.
            case_id = f"c-sim{number:06d}"
            services.record_application(
                self.store,
                self.rules,
                self.code,
                f"sim-{number:06d}",
                now,
                caseworker=self.staff[number % len(self.staff)],
                new_id=partial(str, case_id),
            )
            self.applied[case_id] = now
        self.result.counts["applications"] += n
        self.advance(now)

    def advance(self, now: datetime) -> None:
        """Apply every recorded step, keeping the to-dos it creates."""
        while True:
            moved = services.advance_cases(self.store, self.rules, now)
            if not moved.claimed:
                return
            for p in moved.progress:
                for todo in [p.todo, *(w.todo for w in p.also)]:
                    if todo is not None:
                        self.open[todo.id] = todo
                        self.result.counts["todos_created"] += 1
            if moved.failed:
                raise RuntimeError(f"the journey refused a simulated step: {moved.failed[0][1]}")

    def work(self, now: datetime, slots: int) -> Counter[str]:
        """Let each caseworker work their workable to-dos soonest due first, up to the day's slots."""
        queues: dict[str, list[TodoRecord]] = {cw: [] for cw in self.staff}
        for todo in self.open.values():
            workable = todo.kind not in self.scheduled or todo.due_at - self.book_ahead <= now
            if workable and todo.created_at <= now and todo.assignee in queues:
                queues[todo.assignee].append(todo)
        done: Counter[str] = Counter()
        for cw, todos in queues.items():
            for todo in sorted(todos, key=lambda x: (x.due_at, x.id))[:slots]:
                outcome, data = self._outcome(todo, now)
                services.complete_todo(self.store, todo.id, outcome, now, by=cw, data=data, rules=self.rules)
                del self.open[todo.id]
                done[cw] += 1
                self.result.counts[f"outcome_{outcome}"] += 1
                if outcome == "exited":
                    self.result.exit_days.append((now - self.applied[todo.case_id]).total_seconds() / 86400)
        self.result.counts["todos_done"] += sum(done.values())
        self.advance(now)
        return done

    def sweep(self, now: datetime) -> None:
        """Fire the reminders and escalations due by now, counting escalations per rule."""
        report = services.sweep(self.store, now)
        self.result.reminders += report.fired_reminders
        for alarm in report.fired:
            if alarm.kind == "escalation":
                self.result.escalations[alarm.rule_key] += 1

    def _pick(self, shares: dict[str, float]) -> str:
        names = sorted(shares)
        return self.rng.choices(names, weights=[shares[n] for n in names])[0]

    def _outcome(self, todo: TodoRecord, now: datetime) -> tuple[str, dict[str, Any] | None]:
        outcome, choices = self._choice(todo)
        # The form comes from the journey, its content from the shared samples with the cohort's choices.
        return outcome, None if todo.side else samples.for_outcome(todo.stage, outcome, now.date(), **choices)

    def _choice(self, todo: TodoRecord) -> tuple[str, dict[str, Any]]:
        rng, cohort = self.rng, self.cohort
        if todo.side:
            return todo.outcomes[0], {}
        if "no_show" in todo.outcomes:
            return ("no_show", {}) if rng.random() < cohort.no_show_rate else ("held", {})
        if todo.kind == "assessment":
            band = self.band[todo.case_id] = self._pick(cohort.readiness)
            return "completed", {"capacity_band": band, "barriers": ["mental_health"]}
        weeks, intervention = cohort.placement_weeks, cohort.intervention
        if todo.kind == "plan":
            return "signed", {"weeks": weeks, "intervention": intervention, "responsible": todo.assignee}
        if todo.kind == "placement_start":
            return "started", {"weeks": weeks, "intervention": intervention}
        if todo.kind == "follow_up":
            chance = cohort.exit_per_follow_up.get(self.band.get(todo.case_id, ""), 0.0)
            if rng.random() < chance:
                return "ready_to_exit", {"ladder_step": "self_support"}
            return "continue", {"ladder_step": "work_rehabilitation"}
        if todo.kind == "exit_plan":
            return "exited", {"reason": self._pick(cohort.exit_reasons)}
        if todo.kind == "after_exit_check":
            return ("re_entered", {}) if rng.random() < cohort.re_entry_share else ("still_self_supporting", {})
        # A to-do the cohort has no figures for (a stage added to the journey): done with its first outcome.
        return todo.outcomes[0], {}


def side_by_side(a: SimulationResult, b: SimulationResult | None) -> list[dict[str, Any]]:
    """Return one row per deadline key with each version's met share and counts, in journey order."""
    order = journey.deadline_keys()
    keys = sorted(
        {*a.deadlines, *(b.deadlines if b else {})}, key=lambda k: (order.index(k) if k in order else len(order), k)
    )
    rows = []
    for key in keys:
        row: dict[str, Any] = {"deadline": key}
        for name, result in (("a", a), ("b", b)):
            if result is None:
                continue
            verdicts = result.deadlines.get(key, Verdicts())
            row[name] = {"met": verdicts.met, "missed": verdicts.missed, "excused": verdicts.excused,
                         "open": verdicts.open, "met_share": verdicts.share}  # fmt: skip
            row[f"{name}_escalations"] = result.escalations.get(key, 0)
        rows.append(row)
    return rows


def headline(result: SimulationResult) -> dict[str, Any]:
    """Return the figures a manager compares first: workload, escalations, backlog, time to exit."""
    data = result.as_dict()
    return {
        "applications": result.counts["applications"],
        "todos_done": result.counts["todos_done"],
        "todos_per_caseworker_week": data["todos_per_caseworker_week"]["mean"],
        "escalations": data["escalations_total"],
        "backlog_at_end": result.backlog[-1] if result.backlog else 0,
        "backlog_peak": max(result.backlog, default=0),
        "exits": data["time_to_exit_days"]["exits"],
        "exit_days_median": data["time_to_exit_days"]["median"],
        "exit_days_p90": data["time_to_exit_days"]["p90"],
    }
