"""Reads for the manager console: timeliness of deadlines, escalations, caseload and passive periods.

Every query is plain SQLAlchemy Core that runs the same on SQLite and PostgreSQL: rows are fetched
in one set-based query per report and bucketed by month in Python, in the municipality's time zone.

Definitions (the console page states them too):

* met: a deadline closed as ``met`` (a to-do done while its clock was stopped by a pause is met).
* miss: a deadline closed as ``missed``, or still open with its due time passed and no pause
  stopping its clock.
* excused miss: a miss where the case had a pause overlapping the deadline's window
  (pause starts before the due time and ends, if at all, after the deadline started), or where the
  to-do's outcome was ``no_show``. Every other miss is a real miss.
* open: still open and not yet due, or its clock stopped by a pause.
* met share: met / (met + real misses); excused misses and open deadlines are left out.
* Deadlines closed as ``ended`` (obligations that ended with the active journey) are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from activation import lifecycle
from activation.adapters import tables as t
from activation.lifecycle import Verdict

MET, MISSED, EXCUSED, OPEN = Verdict.MET.value, Verdict.MISSED.value, Verdict.EXCUSED.value, Verdict.OPEN.value


@dataclass(frozen=True)
class Window:
    """Whole calendar months in a time zone: from the first of the oldest to the first after the newest."""

    months: tuple[tuple[int, int], ...]  # (year, month), oldest first
    since: datetime
    until: datetime
    timezone: str


def month_window(now: datetime, timezone: str, months: int) -> Window:
    """Return the last `months` calendar months up to and including now's, in timezone."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    year, month = local.year, local.month
    buckets: list[tuple[int, int]] = []
    for _ in range(max(months, 1)):
        buckets.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    buckets.reverse()
    first_year, first_month = buckets[0]
    last_year, last_month = buckets[-1]
    after = (last_year, last_month + 1) if last_month < 12 else (last_year + 1, 1)
    since = datetime(first_year, first_month, 1, tzinfo=tz)
    until = datetime(after[0], after[1], 1, tzinfo=tz)
    return Window(tuple(buckets), since, until, timezone)


def month_of(moment: datetime, timezone: str) -> tuple[int, int]:
    """Return the (year, month) a moment falls in, in timezone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return (local.year, local.month)


def month_label(month: tuple[int, int]) -> str:
    """Name a month as 'YYYY-MM'."""
    return f"{month[0]:04d}-{month[1]:02d}"


@dataclass(frozen=True)
class DeadlineFact:
    """One deadline with what the timeliness report needs to judge it."""

    id: str
    case_id: str
    rule_key: str
    team: str
    status: str
    started_at: datetime
    due_at: datetime
    paused_since: datetime | None
    outcome: str | None  # the to-do's outcome, if the deadline belongs to a to-do
    paused_in_window: bool  # a pause of the case overlaps the deadline's window

    def verdict(self, now: datetime) -> str | None:
        """Judge the deadline at now: met, missed, excused or open (None: ended, not counted)."""
        excused = self.paused_in_window or self.outcome == "no_show"
        judged = lifecycle.verdict(self.status, self.due_at, self.paused_since, now, excused)
        return None if judged is None else judged.value


@dataclass
class Tally:
    """Counts of deadlines by verdict."""

    met: int = 0
    missed: int = 0
    excused: int = 0
    open: int = 0

    def add(self, verdict: str) -> None:
        """Count one deadline."""
        setattr(self, verdict, getattr(self, verdict) + 1)

    @property
    def judged(self) -> int:
        """Count the deadlines the met share is taken over: met plus real misses."""
        return self.met + self.missed

    @property
    def share(self) -> float | None:
        """Return met / (met + real misses), or None when there is nothing to judge."""
        return self.met / self.judged if self.judged else None

    @property
    def total(self) -> int:
        """Count every deadline in the tally."""
        return self.met + self.missed + self.excused + self.open


@dataclass
class Timeliness:
    """Deadlines in a window, tallied in all, per stage (rule key), per team and per month."""

    window: Window
    total: Tally = field(default_factory=Tally)
    by_stage: dict[str, Tally] = field(default_factory=dict)
    by_team: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[tuple[int, int], Tally] = field(default_factory=dict)


def deadline_facts(conn: Connection, municipality: str, since: datetime, until: datetime) -> list[DeadlineFact]:
    """Return the deadlines of a municipality due in [since, until), each with its pause-overlap flag."""
    d, c, p, x = t.deadlines, t.cases, t.pauses, t.todos
    overlap = (
        exists()
        .where(
            p.c.case_id == d.c.case_id,
            p.c.starts_at < d.c.due_at,
            or_(p.c.ends_at.is_(None), p.c.ends_at > d.c.started_at),
        )
        .label("paused_in_window")
    )
    query = (
        select(
            d.c.id,
            d.c.case_id,
            d.c.rule_key,
            c.c.team,
            d.c.status,
            d.c.started_at,
            d.c.due_at,
            d.c.paused_since,
            x.c.outcome,
            overlap,
        )
        .join(c, c.c.id == d.c.case_id)
        .outerjoin(x, x.c.id == d.c.todo_id)
        .where(c.c.municipality == municipality, d.c.due_at >= since, d.c.due_at < until)
        .order_by(d.c.due_at, d.c.id)
    )
    return [
        DeadlineFact(
            r.id,
            r.case_id,
            r.rule_key,
            r.team,
            r.status,
            r.started_at,
            r.due_at,
            r.paused_since,
            r.outcome,
            bool(r.paused_in_window),
        )
        for r in conn.execute(query)
    ]


def tally(facts: Iterable[DeadlineFact], now: datetime, window: Window) -> Timeliness:
    """Tally deadlines by verdict in all, per rule key, per team and per month of their due time."""
    report = Timeliness(window, by_month={m: Tally() for m in window.months})
    for fact in facts:
        verdict = fact.verdict(now)
        if verdict is None:
            continue
        report.total.add(verdict)
        report.by_stage.setdefault(fact.rule_key, Tally()).add(verdict)
        report.by_team.setdefault(fact.team, Tally()).add(verdict)
        report.by_month.setdefault(month_of(fact.due_at, window.timezone), Tally()).add(verdict)
    report.by_stage = dict(sorted(report.by_stage.items()))
    report.by_team = dict(sorted(report.by_team.items()))
    report.by_month = dict(sorted(report.by_month.items()))
    return report


def timeliness(conn: Connection, municipality: str, now: datetime, window: Window) -> Timeliness:
    """Return how many deadlines due in the window were met, missed (real or excused) or are open."""
    return tally(deadline_facts(conn, municipality, window.since, window.until), now, window)


@dataclass
class Escalations:
    """Escalation notifications in a window, per team of the case and per month they were sent."""

    window: Window
    by_team: dict[str, int] = field(default_factory=dict)
    by_team_month: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Count every escalation in the window."""
        return sum(self.by_team.values())


def escalations(conn: Connection, municipality: str, window: Window) -> Escalations:
    """Count the escalations sent in the window, per team of the case and per month."""
    n, c = t.notifications, t.cases
    rows = conn.execute(
        select(c.c.team, n.c.created_at)
        .join(c, c.c.id == n.c.case_id)
        .where(
            c.c.municipality == municipality,
            n.c.kind == "escalation",
            n.c.created_at >= window.since,
            n.c.created_at < window.until,
        )
    )
    report = Escalations(window)
    for team, created_at in rows:
        report.by_team[team] = report.by_team.get(team, 0) + 1
        months = report.by_team_month.setdefault(team, dict.fromkeys(window.months, 0))
        month = month_of(created_at, window.timezone)
        months[month] = months.get(month, 0) + 1
    report.by_team = dict(sorted(report.by_team.items()))
    report.by_team_month = dict(sorted(report.by_team_month.items()))
    return report


@dataclass(frozen=True)
class Caseload:
    """Open cases per caseworker (None: the team queue) and open to-dos per assignee."""

    cases: list[dict[str, Any]]  # team, caseworker (None: team queue), open cases
    todos: list[dict[str, Any]]  # assignee, open to-dos, overdue of them


def caseload(conn: Connection, municipality: str, now: datetime) -> Caseload:
    """Count open cases per team and caseworker, and open (and overdue) to-dos per assignee."""
    c, x = t.cases, t.todos
    per_caseworker = conn.execute(
        select(c.c.team, c.c.caseworker, func.count().label("open_cases"))
        .where(c.c.municipality == municipality, c.c.status == "open")
        .group_by(c.c.team, c.c.caseworker)
    ).mappings()
    overdue = case((and_(x.c.due_at < now, _not_paused()), 1), else_=0)  # x.status is open: see the where
    per_assignee = conn.execute(
        select(x.c.assignee, func.count().label("open_todos"), func.sum(overdue).label("overdue"))
        .join(c, c.c.id == x.c.case_id)
        .where(c.c.municipality == municipality, x.c.status == "open")
        .group_by(x.c.assignee)
    ).mappings()
    cases = sorted(
        (dict(r) for r in per_caseworker), key=lambda r: (r["team"], r["caseworker"] is not None, r["caseworker"] or "")
    )
    todos = sorted(
        ({**r, "overdue": int(r["overdue"] or 0)} for r in per_assignee),
        key=lambda r: (-r["open_todos"], r["assignee"]),
    )
    return Caseload(cases, todos)


def _not_paused() -> Any:
    # A to-do whose deadline's clock is stopped by a pause is not overdue.
    d = t.deadlines
    return ~exists().where(d.c.todo_id == t.todos.c.id, d.c.paused_since.is_not(None))


@dataclass(frozen=True)
class PassivePeriod:
    """A case whose offer obligation is past due with no offer and no pause stopping its clock."""

    case_id: str
    team: str
    caseworker: str | None
    rule_key: str
    started_at: datetime
    due_at: datetime
    last_offer: datetime | None


def passive_periods(
    conn: Connection, municipality: str, offer_rules: Sequence[str], now: datetime
) -> list[PassivePeriod]:
    """Return the open offer-obligation periods of open cases that are past due and not paused, longest first."""
    if not offer_rules:
        return []
    d, c, e = t.deadlines, t.cases, t.case_events
    last_offer = (
        select(func.max(e.c.occurred_at))
        .where(e.c.case_id == d.c.case_id, e.c.kind == "offer")
        .scalar_subquery()
        .label("last_offer")
    )
    rows = conn.execute(
        select(d.c.case_id, c.c.team, c.c.caseworker, d.c.rule_key, d.c.started_at, d.c.due_at, last_offer)
        .join(c, c.c.id == d.c.case_id)
        .where(
            c.c.municipality == municipality,
            c.c.status == "open",
            d.c.rule_key.in_(list(offer_rules)),
            d.c.status == "open",
            d.c.paused_since.is_(None),
            d.c.due_at < now,
        )
        .order_by(d.c.due_at, d.c.case_id)
    )
    return [PassivePeriod(*r) for r in rows]
