"""`activation demo`: a synthetic quarter of a municipality, run through the real flows and rules."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from activation import pauses, samples, services
from activation.adapters import tables as t
from activation.adapters.db import reading
from activation.model import TodoView
from activation.ports import TodoFilter
from activation.runtime import Runtime, get_runtime
from flows.tick import run_tick

# The demo starts on Monday 7 September 2026; 13 weeks make a quarter.
START = date(2026, 9, 7)
CASEWORKERS = ("cw-01", "cw-02", "cw-03", "cw-04")  # synthetic ids; the demo holds no personal data
ON_TIME = {  # share of each kind of to-do a caseworker gets done in time (the rest slips)
    "first_meeting": 0.8,
    "rebook_first_meeting": 0.7,
    "assessment": 0.8,
    "plan": 0.85,
    "placement_start": 0.75,
    "follow_up": 0.85,
    "exit_plan": 0.9,
    "after_exit_check": 0.9,
    "placement_wrap_up": 0.6,  # 003: wrap-ups are often skipped
}


class Caseworkers:
    """Synthetic caseworkers: they plan when to act on each to-do and with which outcome and form."""

    def __init__(self, rt: Runtime, municipality: str, rng: random.Random):
        self.rt, self.rng = rt, rng
        self.rules = rt.rules.municipality(municipality)
        self.office = self.rules.calendar()
        self.planned: dict[str, tuple[datetime, str, dict[str, Any] | None]] = {}
        self.outcomes: Counter[str] = Counter()

    def plan(self, todo: TodoView, now: datetime) -> None:
        """Decide when and how a new to-do gets done."""
        if todo.id in self.planned or todo.paused_since:
            return
        span = max((todo.due_at - max(todo.created_at, now)).total_seconds(), 3600)
        if self.rng.random() < ON_TIME.get(todo.kind, 0.8):
            when = max(todo.created_at, now) + timedelta(seconds=span * self.rng.uniform(0.2, 0.95))
        else:
            when = todo.due_at + timedelta(hours=self.rng.uniform(2, 120))
        when = self.office.next_opening(when)  # caseworkers act while the office is open
        outcome, form = self._outcome(todo, when)
        self.planned[todo.id] = (when, outcome, form)

    def _outcome(self, todo: TodoView, when: datetime) -> tuple[str, dict[str, Any] | None]:
        outcome, choices = self._choice(todo)
        # The form comes from the journey, its content from the samples the simulation uses too.
        return outcome, None if todo.side else samples.for_outcome(todo.stage, outcome, when.date(), **choices)

    def _choice(self, todo: TodoView) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        if todo.side:
            return todo.outcomes[0], {}
        if "no_show" in todo.outcomes:
            return ("held", {}) if rng.random() < 0.8 else ("no_show", {})
        if todo.kind == "assessment":
            band = rng.choice(["1-25", "26-50", "51-75", "76-100"])
            return "completed", {
                "capacity_band": band,
                "barriers": rng.sample(["mental_health", "housing", "debts", "motivation"], 2),
            }
        if todo.kind == "plan":
            weeks = rng.randint(6, 10)
            intervention = rng.choice(["internship", "mentor", "language_course", "day_activity", "treatment"])
            return "signed", {"weeks": weeks, "intervention": intervention}
        if todo.kind == "placement_start":
            return "started", {"weeks": rng.randint(4, 6)}
        if todo.kind == "follow_up":
            step = rng.choice(["planning_structure", "day_activity", "work_rehabilitation", "work_with_support"])
            outcome = "ready_to_exit" if rng.random() < 0.4 else "continue"
            return outcome, {"ladder_step": "self_support" if outcome == "ready_to_exit" else step}
        if todo.kind == "exit_plan":
            return "exited", {"reason": rng.choice(["job", "job", "education", "other_benefit", "self_support"])}
        if todo.kind == "after_exit_check":
            return ("still_self_supporting", {}) if rng.random() < 0.85 else ("re_entered", {})
        return todo.outcomes[0], {}  # a stage added to the journey: its first outcome

    def act(self, until: datetime) -> None:
        """Complete every to-do whose planned time has come."""
        for todo_id, (when, outcome, form) in sorted(self.planned.items(), key=lambda kv: kv[1][0]):
            if when > until:
                continue
            del self.planned[todo_id]
            try:
                services.complete_todo(self.rt.store, todo_id, outcome, when, by="demo", data=form, rules=self.rt.rules)
            except services.InputError:
                continue  # e.g. the to-do moved under a pause: it is planned again at the next tick
            self.outcomes[outcome] += 1


def run_demo(
    municipality: str,
    applications: int,
    seed: int,
    weeks: int = 13,
    say: Callable[[str], Any] | None = print,
    tick: Callable[[datetime], Any] = run_tick,
) -> dict[str, Any]:
    """Simulate a quarter: applications arrive, the flows tick every working day, caseworkers work.

    `tick` runs one tick: `run_tick` (a flow run on the Prefect server configured) or, as
    `activation demo` does when no server is up, `run_tick_without_prefect`.
    """
    rt = get_runtime()
    rules = rt.rules.municipality(municipality)
    tz = ZoneInfo(rules.timezone)
    rng = random.Random(seed)
    start = datetime.combine(START, time(0, 0), tzinfo=tz)
    days = weeks * 7
    ticks = [
        start + timedelta(days=d, hours=h)
        for d in range(days)
        if (start + timedelta(days=d)).weekday() < 5
        for h in (9,)  # the flows run once a working day here; `activation serve` runs them every minute
    ]
    # Applications arrive until shortly before the last tick, so the flows see every one.
    window = (ticks[-1] - start).total_seconds() * 0.9
    arrivals = sorted(start + timedelta(seconds=rng.uniform(0, window)) for _ in range(applications))
    staff = Caseworkers(rt, rules.code, rng)
    paused: set[str] = set()
    seen: set[str] = set()  # each to-do is looked at once for a sickness pause
    next_arrival = 0
    for n, now in enumerate(ticks, start=1):
        while next_arrival < len(arrivals) and arrivals[next_arrival] <= now:
            caseworker = rng.choice(CASEWORKERS) if rng.random() < 0.7 else None  # else the team queue
            # Case ids from the seed, not a random generator, so the same seed replays the same quarter.
            case_id = f"c-d{seed % 1000:03d}n{next_arrival:04d}"
            services.record_application(
                rt.store,
                rt.rules,
                rules.code,
                f"demo-{seed}-{next_arrival:04d}",
                arrivals[next_arrival],
                caseworker=caseworker,
                new_id=partial(str, case_id),
            )
            next_arrival += 1
        staff.act(now)
        if say and (n % 5 == 1 or n == len(ticks)):
            say(f"tick {n}/{len(ticks)} {now:%a %d %b %Y %H:%M}")
        tick(now)
        with rt.store.transaction() as tx:
            open_todos = tx.list_todos(TodoFilter(municipality=rules.code, limit=100_000))
        for todo in open_todos:
            first_look = todo.id not in seen
            seen.add(todo.id)
            if todo.kind == "assessment" and first_look and rng.random() < 0.1:
                # Some citizens fall ill during the assessment: their clocks stop for one to three weeks.
                paused.add(todo.case_id)
                ends = now + timedelta(days=rng.randint(7, 21))
                pauses.record_pause(rt.store, rt.rules, todo.case_id, "sickness", now, ends, now, by="demo")
                continue
            staff.plan(todo, now)
    return _summary(rt, rules.code, rules.name, ticks[0], ticks[-1], staff.outcomes, len(paused))


def _summary(
    rt: Runtime, code: str, name: str, first: datetime, last: datetime, outcomes: Counter[str], paused: int
) -> dict[str, Any]:
    of_municipality = t.cases.c.municipality == code
    with reading(rt.engine) as conn:
        cases = conn.execute(select(func.count()).select_from(t.cases).where(of_municipality)).scalar_one()
        deadline_rows = conn.execute(
            select(t.deadlines.c.rule_key, t.deadlines.c.status, t.deadlines.c.due_at, t.deadlines.c.paused_since)
            .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
            .where(of_municipality)
        ).all()
        escalations: dict[str, int] = {
            r[0]: r[1]
            for r in conn.execute(
                select(t.notifications.c.rule_key, func.count())
                .join(t.cases, t.cases.c.id == t.notifications.c.case_id)
                .where(of_municipality, t.notifications.c.kind == "escalation")
                .group_by(t.notifications.c.rule_key)
            )
        }
        reminders = conn.execute(
            select(func.count())
            .select_from(t.notifications)
            .join(t.cases, t.cases.c.id == t.notifications.c.case_id)
            .where(of_municipality, t.notifications.c.kind == "reminder")
        ).scalar_one()
        letters = conn.execute(
            select(func.count()).select_from(t.letters).where(t.letters.c.rendered_at.is_not(None))
        ).scalar_one()
        stages: dict[str, int] = {
            r[0]: r[1]
            for r in conn.execute(
                select(t.cases.c.stage, func.count()).where(of_municipality).group_by(t.cases.c.stage)
            )
        }
        sample = conn.execute(
            select(t.deadlines.c.id, t.deadlines.c.explanation)
            .where(t.deadlines.c.todo_id.is_(None))
            .order_by(t.deadlines.c.started_at.desc())
            .limit(1)
        ).first()
    per_rule: dict[str, Counter[str]] = {}
    for rule_key, status, due_at, paused_since in deadline_rows:
        counts = per_rule.setdefault(rule_key, Counter())
        counts["created"] += 1
        if status == "open":
            status = "open (paused)" if paused_since else ("open, overdue" if due_at < last else "open")
        counts[status] += 1
    rows = [
        {
            "deadline": rule_key,
            "created": c["created"],
            "met": c["met"],
            "missed": c["missed"],
            "ended": c["ended"],
            "open": c["open"] + c["open (paused)"] + c["open, overdue"],  # overdue ones are a part of open
            "overdue": c["open, overdue"],
            "escalated": escalations.get(rule_key, 0),
        }
        for rule_key, c in sorted(per_rule.items(), key=lambda kv: _order(kv[0]))
    ]
    return {
        "municipality": code,
        "name": name,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "cases": cases,
        "cases_by_stage": stages,
        "caseworker_outcomes": dict(outcomes),
        "sickness_pauses": paused,
        "reminders_sent": reminders,
        "letters_rendered": letters,
        "deadlines": rows,
        "example_obligation": {"deadline": sample[0], "why": sample[1]} if sample else None,
    }


def _order(rule_key: str) -> tuple[int, str]:
    from activation.journey import deadline_keys

    keys = deadline_keys()
    return (keys.index(rule_key), rule_key) if rule_key in keys else (len(keys), rule_key)


def _short(rule_key: str) -> str:
    if rule_key.startswith("interventions."):
        return "start " + rule_key.split(".", 1)[1]
    return rule_key.split(".", 1)[1] + " *" if "." in rule_key else rule_key


def print_summary(s: dict[str, Any], console: Any) -> None:
    """Print the quarter as a manager would want to read it."""
    from rich.table import Table

    console.rule(f"{s['name']}: a simulated quarter, {s['from'][:10]} to {s['to'][:10]}")
    console.print(f"Applications recorded, cases opened: {s['cases']}; sickness pauses: {s['sickness_pauses']}")
    console.print("Where the cases are now: " + ", ".join(f"{k} {v}" for k, v in sorted(s["cases_by_stage"].items())))
    console.print("Caseworker outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(s["caseworker_outcomes"].items())))
    table = Table(title="Deadlines per stage; * obligations (late: open and overdue at the end)")
    table.add_column("deadline", no_wrap=True)
    for col in ("n", "met", "%", "miss", "end", "open", "late", "esc"):
        table.add_column(col, justify="right")
    for r in s["deadlines"]:
        done = r["met"] + r["missed"]
        share = f"{100 * r['met'] // done}%" if done else "-"
        counts = (r["created"], r["met"], share, r["missed"], r["ended"], r["open"], r["overdue"], r["escalated"])
        table.add_row(_short(r["deadline"]), *(str(c) for c in counts))
    console.print(table)
    console.print(f"Reminders sent: {s['reminders_sent']}; letters rendered: {s['letters_rendered']}")
    if s["example_obligation"]:
        console.print(
            f"\nWhy is {s['example_obligation']['deadline']} due when it is?\n  {s['example_obligation']['why']}"
        )
    console.print(
        "\nTry: activation --db sqlite:///activation-demo.db deadlines --obligations --overdue --now " + s["to"][:16]
    )
