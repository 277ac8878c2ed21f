"""Seed N open cases for bench/web_scale.py: a template made by the real use cases, cloned set-based.

The template is a few hundred cases of one team (Karlskrona, arbetsmarknad) whose applications came in
at random times over the last six months. Each case is opened with `services.open_case` and walked on
with `services.complete_and_move_on` and valid records (`activation.samples`) up to the real clock:
first meeting (some no-shows and withdrawals), assessment, plan, placement, follow-ups, exit and the
check after it; some to-dos are done late or forgotten (overdue now), some cases get a sickness pause,
health information or a new caseworker, some stay in the team queue. The sweep fires what is due by
now and the pending letters are rendered, as a running `activation serve` would have done.

Every identifier the template writes carries the tag ``q0000`` (case ids ``c-q0000n0001``, citizen
refs, the template's caseworkers ``cw-q0000-1``...), so ids derived from them (to-dos, deadlines,
alarms, letters, outbox events) carry it too. Clone k is then one ``INSERT ... SELECT`` per table over
the template's rows (those with the tag in a text column) that writes ``q0000`` -> ``q<k>`` in every
text and JSON column and shifts every surrogate integer id (and each foreign key to one) by k times a
round offset. Which columns get which treatment is read from the SQLAlchemy metadata, so a column or
a table added to activation/adapters/tables.py is cloned without a change here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from time import perf_counter
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.sql.elements import ColumnElement

import forms
from activation import pauses, samples, services
from activation.access import User
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import InputError
from activation.model import TodoView
from activation.ports import TodoFilter
from bench.common import BenchError
from bench.sweep_setup import Database, analyze

MUNICIPALITY = "karlskrona"
TEAM = "arbetsmarknad"
TAG = "q0000"  # in every identifier of the template; clone k writes f"q{k:04d}" instead
TEAM_LEAD, MANAGER = "tl-01", "mgr-01"
PASSWORD = "bench-password-123"  # synthetic staff of a throw-away database
MONTHS = 6

# Share of each kind of to-do done before its deadline (the rest is done late); the demo's figures.
ON_TIME = {"first_meeting": 0.8, "rebook_first_meeting": 0.7, "assessment": 0.8, "plan": 0.85}
FORGOTTEN = 0.03  # to-dos nobody gets to: overdue today, as on a real team's list
QUEUE_SHARE = 0.04  # applications left in the team queue
TAKEN_FROM_QUEUE = 0.5  # of those, taken by a caseworker at the first meeting
REASSIGNED = 0.03  # cases given to another caseworker by the team lead
PAUSED = 0.06  # citizens who fall ill during the assessment (a third with no known end)
HEALTH_INFORMATION = 0.05  # assessments that start fetching health information


def caseworker_name(tag: str, n: int) -> str:
    """Name the n-th caseworker of a clone, e.g. cw-q0017-2."""
    return f"cw-{tag}-{n}"


def clone_tag(k: int) -> str:
    """Return the tag clone k writes instead of the template's."""
    return f"q{k:04d}"


# -- the template, made by the real use cases --------------------------------------------------


@dataclass
class Template:
    """Record what the use cases wrote: cases opened and still open, and what happened on the way."""

    cases: int = 0
    open_cases: int = 0
    completed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pauses: int = 0
    reassigned: int = 0
    health_information: int = 0
    fired: int = 0
    letters: int = 0


class TemplateTeam:
    """Work one team's cases with the real use cases up to now, as its synthetic caseworkers would."""

    def __init__(self, engine: Engine, rules: RuleBook, now: datetime, caseworkers: int, seed: int):
        self.store = SqlStore(engine)
        self.rules, self.now = rules, now
        self.office = rules.municipality(MUNICIPALITY).calendar()
        self.caseworkers = [caseworker_name(TAG, n) for n in range(1, caseworkers + 1)]
        self.rng = random.Random(seed)
        self.made = Template()

    def open_one(self, n: int) -> bool:
        """Open the n-th case at a random time in the last months, walk it up to now; tell if still open."""
        rng = self.rng
        received = self.now - timedelta(seconds=rng.uniform(0, MONTHS * 30.4 * 86_400))
        caseworker = None if rng.random() < QUEUE_SHARE else self.caseworkers[n % len(self.caseworkers)]
        case_id = f"c-{TAG}n{n:04d}"
        services.open_case(
            self.store, self.rules, MUNICIPALITY, f"kk-{TAG}-{n:04d}", received, received,
            team=TEAM, caseworker=caseworker, new_id=partial(str, case_id),
        )  # fmt: skip
        self.made.cases += 1
        self._walk(case_id)
        with self.store.transaction() as tx:
            still_open = tx.cases([case_id])[case_id].status == "open"
        self.made.open_cases += still_open
        return still_open

    def _walk(self, case_id: str) -> None:
        # The case's to-dos are done one at a time in the order they fall due, each at the moment its
        # caseworker gets to it; whatever would be done after now stays open.
        planned: dict[str, tuple[datetime, str] | None] = {}
        while True:
            todos = self._open_todos(case_id)
            fresh = [x for x in todos if x.id not in planned]
            for todo in fresh:
                if self._interrupt(todo):
                    todos = self._open_todos(case_id)
                    todo = next(x for x in todos if x.id == todo.id)
                planned[todo.id] = self._plan(todo)
            due = sorted((p[0], x.id, p[1], x) for x in todos if (p := planned.get(x.id)) and p[0] <= self.now)
            if not due:
                return
            when, _id, outcome, todo = due[0]
            if not self._complete(todo, outcome, when):
                planned[todo.id] = None

    def _open_todos(self, case_id: str) -> list[TodoView]:
        with self.store.transaction() as tx:
            return tx.list_todos(TodoFilter(case_id=case_id, limit=50))

    def _interrupt(self, todo: TodoView) -> bool:
        """Now and then let real life meet a new to-do: a new caseworker, an illness, health information."""
        rng, case_id = self.rng, todo.case_id
        start = self.office.next_opening(todo.created_at + timedelta(hours=rng.uniform(4, 72)))
        if start > self.now:
            return False
        if todo.kind == "assessment" and rng.random() < PAUSED:
            ends = None if rng.random() < 1 / 3 else start + timedelta(days=rng.randint(7, 21))
            # The pause's id carries the case's (and so the tag): the default is random, which a clone would repeat.
            pause_id = partial(str, f"{case_id}.sick")
            pauses.record_pause(
                self.store, self.rules, case_id, "sickness", start, ends, start, todo.assignee, None, pause_id
            )
            self.made.pauses += 1
            return True
        if todo.kind == "assessment" and rng.random() < HEALTH_INFORMATION:
            services.request_health_information(self.store, self.rules, case_id, start)
            self.made.health_information += 1
            return True
        if todo.kind == "first_meeting" and todo.assignee.startswith("queue:") and rng.random() < TAKEN_FROM_QUEUE:
            taker = rng.choice(self.caseworkers)
            services.assign_caseworker(self.store, self.rules, case_id, taker, start, taker)
            return True
        others = [c for c in self.caseworkers if c != todo.assignee]
        if todo.kind == "assessment" and todo.assignee in self.caseworkers and others and rng.random() < REASSIGNED:
            services.assign_caseworker(self.store, self.rules, case_id, rng.choice(others), start, TEAM_LEAD)
            self.made.reassigned += 1
            return True
        return False

    def _plan(self, todo: TodoView) -> tuple[datetime, str] | None:
        """Decide when the to-do gets done and with which outcome; None: it is forgotten."""
        rng = self.rng
        if todo.paused_since or rng.random() < FORGOTTEN:
            return None
        span = max((todo.due_at - todo.created_at).total_seconds(), 3600)
        if rng.random() < ON_TIME.get(todo.kind, 0.85):
            when = todo.created_at + timedelta(seconds=span * rng.uniform(0.2, 0.95))
        else:
            when = todo.due_at + timedelta(hours=rng.uniform(2, 240))
        return self.office.next_opening(when), self._outcome(todo)

    def _outcome(self, todo: TodoView) -> str:
        r, outcomes = self.rng.random(), todo.outcomes
        if todo.side:
            return outcomes[0]
        if "no_show" in outcomes:
            return "held" if r < 0.85 else ("no_show" if r < 0.95 else "withdrawn")
        if todo.kind == "assessment":
            return "completed" if r < 0.97 else "withdrawn"
        if todo.kind == "placement_start":
            return "started" if r < 0.95 else "not_started"
        if todo.kind == "follow_up":
            return "continue" if r < 0.7 else ("change_plan" if r < 0.75 else "ready_to_exit")
        if todo.kind == "after_exit_check":
            return "still_self_supporting" if r < 0.85 else "re_entered"
        return outcomes[0]

    def _record(self, todo: TodoView, outcome: str, when: datetime) -> dict[str, Any] | None:
        rng, day = self.rng, self.office.local(when).date()
        choices: dict[str, Any] = {}
        if todo.kind == "assessment":
            choices = {
                "capacity_band": rng.choice(["1-25", "26-50", "51-75", "76-100"]),
                "barriers": rng.sample(["mental_health", "housing", "debts", "motivation"], 2),
            }
        elif todo.kind == "plan":
            interventions = ["internship", "mentor", "language_course", "day_activity", "treatment"]
            choices = {"weeks": rng.randint(6, 10), "intervention": rng.choice(interventions)}
        elif todo.kind == "placement_start":
            choices = {"weeks": rng.randint(4, 8)}
        elif todo.kind == "follow_up":
            steps = ["planning_structure", "day_activity", "work_rehabilitation", "work_with_support"]
            choices = {"ladder_step": "self_support" if outcome == "ready_to_exit" else rng.choice(steps)}
        elif todo.kind == "exit_plan":
            choices = {"reason": rng.choice(["job", "job", "education", "other_benefit", "self_support"])}
        return None if todo.side else samples.for_outcome(todo.stage, outcome, day, **choices)

    def _complete(self, todo: TodoView, outcome: str, when: datetime) -> bool:
        by = todo.assignee if todo.assignee.startswith("cw-") else self.caseworkers[0]
        try:
            services.complete_and_move_on(
                self.store, self.rules, todo.id, outcome, when, by, self._record(todo, outcome, when)
            )
        except InputError:
            return False  # e.g. a placement the catalogue does not allow that long: left open, as in life
        self.made.completed += 1
        self.made.outcomes[outcome] = self.made.outcomes.get(outcome, 0) + 1
        return True

    def finish(self) -> None:
        """Fire what is due by now and render the letters, as `activation serve` would have."""
        swept = services.sweep(self.store, self.now)
        self.made.fired = swept.total
        from activation.letters import render_pending_letters

        self.made.letters = render_pending_letters(self.store, forms.render_with_attachment, self.now).rendered


def build_template(
    db: Database, rules: RuleBook, now: datetime, open_cases: int, caseworkers: int, seed: int = 12
) -> Template:
    """Open cases with the real use cases until `open_cases` of them are still open now."""
    accounts = Accounts(db.engine)
    for n in range(1, caseworkers + 1):
        name = caseworker_name(TAG, n)
        staff = User(name, f"Handläggare {TAG}-{n}", "caseworker", MUNICIPALITY, TEAM)
        accounts.add_user(staff, PASSWORD, now)
    team = TemplateTeam(db.engine, rules, now, caseworkers, seed)
    n = 0
    while team.made.open_cases < open_cases:
        n += 1
        if n >= 10_000:
            raise BenchError(f"the template opened {n} cases and only {team.made.open_cases} stayed open")
        team.open_one(n)
    team.finish()
    return team.made


# -- the clones, set-based ----------------------------------------------------------------------


def _surrogate_ids(metadata: MetaData) -> set[Column[Any]]:
    """Return the integer primary keys the database numbers itself (steps.id, ...)."""
    found: set[Column[Any]] = set()
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and not pk[0].foreign_keys:
            found.add(pk[0])
    return found


def _shifted(column: Column[Any], surrogates: set[Column[Any]]) -> bool:
    """Tell whether a column holds a surrogate id: the id itself or a foreign key to one."""
    return column in surrogates or any(fk.column in surrogates for fk in column.foreign_keys)


def _is_text(column: Column[Any]) -> bool:
    """Tell whether a column holds text (String, Text, or a type decorating them)."""
    return isinstance(column.type, String) or isinstance(getattr(column.type, "impl", None), String)


def _tagged(table: Table, tag: str = TAG) -> ColumnElement[bool]:
    """Select the rows of the template (or of one clone): its tag in any text column."""
    texts = [c for c in table.columns if _is_text(c)]
    return or_(*(c.like(f"%{tag}%") for c in texts)) if texts else false()


def clone_statements(db: Database, offset: int) -> list[Any]:
    """Return one INSERT ... SELECT per table that copies the template's rows once per row of bench_clones."""
    clones = Table("bench_clones", MetaData(), Column("k", Integer), Column("tag", String(8)))
    surrogates = _surrogate_ids(t.metadata)
    statements = []
    for table in t.metadata.sorted_tables:
        exprs: list[Any] = []
        for c in table.columns:
            if _shifted(c, surrogates):
                exprs.append(c + clones.c.k * offset)
            elif isinstance(c.type, JSON):
                replaced = func.replace(cast(c, Text) if db.postgres else c, TAG, clones.c.tag)
                exprs.append(cast(replaced, JSON) if db.postgres else replaced)
            elif _is_text(c):
                exprs.append(func.replace(c, TAG, clones.c.tag))
            else:
                exprs.append(c)
        query = select(*exprs).select_from(table.join(clones, true())).where(_tagged(table))
        statements.append(insert(table).from_select([c.name for c in table.columns], query))
    return statements


def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }


def _template_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table).where(_tagged(table))).scalar_one()
            for table in t.metadata.sorted_tables
        }


def clone(db: Database, copies: int) -> dict[str, int]:
    """Add `copies` clones of the template; return the rows each table has afterwards."""
    if copies > 9998:
        raise BenchError("at most 9,998 clones: the tag has four digits")
    surrogates = _surrogate_ids(t.metadata)
    with db.engine.connect() as conn:
        top = max(conn.execute(select(func.max(c))).scalar_one() or 0 for c in surrogates)
    offset = 10 ** len(str(top))  # clone k's ids: id + k * offset, apart from every id there is
    before, template = _counts(db), _template_counts(db)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_clones")
        conn.exec_driver_sql("CREATE TABLE bench_clones (k INTEGER NOT NULL, tag VARCHAR(8) NOT NULL)")
        conn.execute(
            text("INSERT INTO bench_clones (k, tag) VALUES (:k, :tag)"),
            [{"k": k, "tag": clone_tag(k)} for k in range(1, copies + 1)],
        )
        for statement in clone_statements(db, offset):
            conn.execute(statement)
        conn.exec_driver_sql("DROP TABLE bench_clones")
        if db.postgres:
            # The clones' ids were given explicitly: move each id sequence past them, or the next
            # audit line or step would take an id a clone already has.
            for c in surrogates:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{c.table.name}', '{c.name}'), "
                    f"(SELECT COALESCE(MAX({c.name}), 1) FROM {c.table.name}))"
                )
    after = _counts(db)
    expected = {name: before[name] + copies * template[name] for name in before}
    wrong = {name: (after[name], expected[name]) for name in after if after[name] != expected[name]}
    if wrong:
        raise BenchError(f"cloning wrote other row counts than expected (found, expected): {wrong}")
    return after


# -- what the pages will show, checked --------------------------------------------------------


@dataclass
class Figures:
    """Hold the counts that must scale exactly with the clones."""

    open_cases: int
    open_todos: int
    open_deadlines: int
    overdue_todos: int
    paused_deadlines: int
    queued_todos: int
    caseworkers: int

    def times(self, n: int) -> Figures:
        """Return the counts n times over."""
        return Figures(*(v * n for v in vars(self).values()))


def figures(db: Database, now: datetime, tag: str | None = None) -> Figures:
    """Count open cases, to-dos, deadlines, overdue to-dos, paused deadlines (of one clone if tag given)."""

    def of(table: Table, *where: Any) -> Any:
        query = select(func.count()).select_from(table).where(*where)
        return query.where(_tagged(table, tag)) if tag else query

    c, x, d, u = t.cases, t.todos, t.deadlines, t.users
    running = select(d.c.todo_id).where(d.c.paused_since.is_(None))
    with db.engine.connect() as conn:
        values = [
            of(c, c.c.status == "open"),
            of(x, x.c.status == "open"),
            of(d, d.c.status == "open"),
            of(x, x.c.status == "open", x.c.due_at < now, x.c.id.in_(running)),
            of(d, d.c.status == "open", d.c.paused_since.is_not(None)),
            of(x, x.c.status == "open", x.c.assignee == f"queue:{TEAM}"),
            of(u, u.c.role == "caseworker"),
        ]
        return Figures(*(int(conn.execute(q).scalar_one()) for q in values))


@dataclass
class Seeded:
    """Hold what the seeding made and how long each part took."""

    requested: int
    clones: int
    template: Template
    per_template: Figures
    total: Figures
    rows: dict[str, int]
    seconds: dict[str, float]
    caseworker: str
    team_lead: str
    manager: str


def seed(
    db: Database, rules: RuleBook, cases: int, now: datetime, template_open: int = 250, caseworkers: int = 2
) -> Seeded:
    """Make at least `cases` open cases: a template of `template_open` by the use cases, then clones."""
    if cases < 1 or template_open < 1:
        raise BenchError("need at least one case")
    template_open = min(template_open, cases)
    seconds: dict[str, float] = {}
    start = perf_counter()
    made = build_template(db, rules, now, template_open, caseworkers)
    seconds["template (use cases)"] = perf_counter() - start
    per_template = figures(db, now, TAG)
    if per_template.open_cases != template_open:
        raise BenchError(f"the template has {per_template.open_cases} open cases, expected {template_open}")
    copies = -(-cases // template_open) - 1
    start = perf_counter()
    rows = clone(db, copies)
    seconds["clones (INSERT ... SELECT)"] = perf_counter() - start
    accounts = Accounts(db.engine)
    staff = [
        User(TEAM_LEAD, "Teamledare", "team_lead", MUNICIPALITY, TEAM),
        User(MANAGER, "Enhetschef", "manager", MUNICIPALITY),
    ]
    for user in staff:
        accounts.add_user(user, PASSWORD, now)
    start = perf_counter()
    analyze(db, [table.name for table in t.metadata.sorted_tables])
    seconds["VACUUM ANALYZE" if db.postgres else "ANALYZE"] = perf_counter() - start
    total = figures(db, now)
    expected = per_template.times(copies + 1)
    if total != expected:
        raise BenchError(f"after cloning: {total}, expected {expected}")
    return Seeded(cases, copies, made, per_template, total, rows, seconds, caseworker_name(TAG, 1), TEAM_LEAD, MANAGER)


def utc_now() -> datetime:
    """Return now to the second: the seed is relative to it, so what is overdue is really overdue."""
    return datetime.now(UTC).replace(microsecond=0)
