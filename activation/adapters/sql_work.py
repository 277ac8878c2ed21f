"""The inbox's and the team view's reads on SQL: pages of open work, true counts, caseload, finding a case.

Every list is one bounded query (LIMIT/OFFSET, in the order of an index where the filter allows) and
every count one COUNT with conditional sums, so a page costs the same few queries however many cases
there are (issue 12: p95 < 150 ms at 50,000 open cases).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from activation.adapters import tables as t
from activation.model import team_queue
from activation.reads import CaseLine, DueWindows, WorkCounts, WorkFilter, WorkLine

X, C, D = t.todos, t.cases, t.deadlines


class Then(Join):
    """An inner join read in the order written: the left side's index first, then the right one's per row."""

    inherit_cache = True


@compiles(Then, "sqlite")
def _then_on_sqlite(join: Then, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's planner keeps the order of a CROSS JOIN (sqlite.org/optoverview.html#crossjoin). Without
    # statistics it drives the team view's count from the big side; PostgreSQL plans a plain JOIN itself.
    kw["asfrom"] = True
    on = {k: v for k, v in kw.items() if k != "asfrom"}
    assert join.onclause is not None  # _then always gives one
    left, right = compiler.process(join.left, **kw), compiler.process(join.right, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(join.onclause, **on)}"


def _then(left: Any, right: Any, on: Any) -> Then:
    return Then(left, right, on)


def _running() -> Any:
    # A deadline whose clock a pause has stopped is neither overdue nor due in any window.
    return D.c.paused_since.is_(None)


def _stopped() -> list[Any]:
    # The few open deadlines whose clock a pause has stopped (the partial index ix_deadlines_paused).
    return [D.c.paused_since.is_not(None), D.c.status == "open"]


def _bounds(query: WorkFilter, due_at: Any) -> list[Any]:
    found = []
    if query.due_from is not None:
        found.append(due_at >= query.due_from)
    if query.due_before is not None:
        found.append(due_at < query.due_before)
    return found


def _windowed(query: WorkFilter) -> bool:
    return query.due_from is not None or query.due_before is not None


def _buckets(due_at: Any, windows: DueWindows) -> list[Any]:
    def share(cond: Any, name: str) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(name)

    return [
        func.count().label("total"),
        share(due_at < windows.now, "overdue"),
        share(and_(due_at >= windows.now, due_at < windows.day_end), "today"),
        share(and_(due_at >= windows.now, due_at < windows.week_end), "week"),
    ]


def _order(query: WorkFilter, due_at: Any, item_id: Any, case_id: Any, stage: Any) -> list[Any]:
    first = {"case": [case_id], "stage": [stage]}.get(query.sort, [])
    return [*first, due_at, item_id]


def _needs_cases(query: WorkFilter) -> bool:
    """Tell whether counting to-dos must look at their cases: for the group, or to tell municipalities apart."""
    if query.group:
        return True
    if query.holders is not None and all(":" not in h for h in query.holders):
        return False  # usernames are unique across municipalities
    return not query.team_unique


class WorkReadsSql:
    """The inbox's reads: to-dos and obligation periods a page at a time, counts, caseload and search."""

    conn: Connection
    _serial = False

    def _one_worker(self) -> None:
        """Plan this read's queries without parallel workers (PostgreSQL), once per read."""
        # A page's counts read a few tens of thousands of index rows: starting workers that each hash
        # the team's cases again costs more than it saves, and takes cores from the other requests.
        if not self._serial and self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        self._serial = True

    # -- to-dos ------------------------------------------------------------------------------------

    @staticmethod
    def _todo_where(query: WorkFilter, cases: bool = True) -> list[Any]:
        where = [X.c.status == "open"]
        if cases:
            where.append(C.c.municipality == query.municipality)
        if query.team:
            where.append(X.c.team == query.team)
        if query.holders is not None:
            where.append(X.c.assignee.in_(list(query.holders)) if query.holders else false())
        if query.stage:
            where.append(X.c.stage == query.stage)
        if query.kind:
            where.append(X.c.kind == query.kind)
        if query.group:
            where.append(C.c.target_group == query.group)
        return where + _bounds(query, X.c.due_at)

    def work_todos(self, query: WorkFilter) -> list[WorkLine]:
        """Return one page of open to-dos matching the filter, in its order."""
        order = _order(query, X.c.due_at, X.c.id, X.c.case_id, X.c.stage)
        # The page's ids first, from the to-dos alone (and their cases for the group), then only those rows
        # joined: a late page or another order does not join every to-do before it.
        cases = _needs_cases(query)
        where = self._todo_where(query, cases)
        if _windowed(query):
            where.append(X.c.id.not_in(select(D.c.todo_id).where(*_stopped(), D.c.todo_id.is_not(None))))
        rows = _then(X, C, C.c.id == X.c.case_id) if cases else X
        page = select(X.c.id).select_from(rows).where(*where).order_by(*order).limit(query.limit).offset(query.offset)
        q = (
            select(
                X.c.id,
                X.c.case_id,
                C.c.citizen_ref,
                C.c.municipality,
                X.c.team,
                X.c.id.label("todo_id"),
                X.c.kind,
                X.c.title,
                X.c.stage,
                X.c.assignee.label("holder"),
                C.c.target_group.label("group"),
                X.c.due_at,
                D.c.paused_since,
            )
            .select_from(_then(X, C, C.c.id == X.c.case_id).outerjoin(D, D.c.todo_id == X.c.id))
            # The municipality again: a page never shows another municipality's case, whatever the counts.
            .where(X.c.id.in_(page), C.c.municipality == query.municipality)
            .order_by(*order)
        )
        return [WorkLine(**r) for r in self.conn.execute(q).mappings()]

    def count_todos(self, query: WorkFilter, windows: DueWindows) -> WorkCounts:
        """Count the open to-dos matching the filter, and how many are overdue, due today, due this week."""
        self._one_worker()
        # Counted from the to-dos' own index, then the few stopped clocks taken off: no per-to-do join.
        cases = _needs_cases(query)
        where = self._todo_where(query, cases)
        rows = _then(X, C, C.c.id == X.c.case_id) if cases else X
        all_ = self.conn.execute(select(*_buckets(X.c.due_at, windows)).select_from(rows).where(*where))
        every = all_.mappings().one()
        stopped = (
            self.conn.execute(
                select(*_buckets(X.c.due_at, windows)).select_from(self._stopped_todos(query, cases)).where(*where)
            )
            .mappings()
            .one()
        )
        total = every["total"] - (stopped["total"] if _windowed(query) else 0)
        return WorkCounts(int(total), *(int(every[k] - stopped[k]) for k in ("overdue", "today", "week")))

    @staticmethod
    def _stopped_todos(query: WorkFilter, cases: bool) -> Any:
        """Join the to-dos whose clock a pause has stopped: a caseworker's from their to-dos, others from the pauses."""
        stopped = and_(D.c.todo_id == X.c.id, *_stopped())
        if query.holders is not None and all(":" not in h for h in query.holders):
            rows = _then(X, D, stopped)  # a few hundred to-dos, each looked up in ix_deadlines_paused
        else:
            rows = _then(D, X, stopped)  # the few stopped clocks (ix_deadlines_paused), each in its to-do
        return _then(rows, C, C.c.id == X.c.case_id) if cases else rows

    # -- obligation periods ------------------------------------------------------------------------

    def _obligation_where(self, query: WorkFilter) -> list[Any]:
        where = [D.c.status == "open", D.c.todo_id.is_(None), C.c.municipality == query.municipality,
                 C.c.status == "open"]  # fmt: skip
        if query.team:
            where.append(C.c.team == query.team)
        if query.holders is not None:
            where.append(_held_by(query.holders))
        if query.stage:
            where.append(C.c.stage == query.stage)
        if query.kind:
            where.append(D.c.rule_key.endswith(f".{query.kind}", autoescape=True))
        if query.group:
            where.append(C.c.target_group == query.group)
        return where + _bounds(query, D.c.due_at) + ([_running()] if _windowed(query) else [])

    @staticmethod
    def _obligation_rows(query: WorkFilter) -> Then:
        """Join obligation periods and cases: from a holder's few cases, or from the open periods by due time."""
        if query.holders is not None:
            return _then(C, D, D.c.case_id == C.c.id)  # ix_cases_holder, then ix_deadlines_case per case
        return _then(D, C, C.c.id == D.c.case_id)  # ix_deadlines_todo (todo_id NULL: the periods), then each case

    def work_obligations(self, query: WorkFilter) -> list[WorkLine]:
        """Return one page of open obligation periods of open cases matching the filter, in its order."""
        order = _order(query, D.c.due_at, D.c.id, D.c.case_id, C.c.stage)
        page = (
            select(D.c.id)
            .select_from(self._obligation_rows(query))
            .where(*self._obligation_where(query))
            .order_by(*order)
            .limit(query.limit)
            .offset(query.offset)
        )
        q = (
            select(
                D.c.id,
                D.c.case_id,
                C.c.citizen_ref,
                C.c.municipality,
                C.c.team,
                D.c.todo_id,
                D.c.rule_key,
                C.c.stage,
                C.c.caseworker,
                C.c.target_group,
                D.c.due_at,
                D.c.paused_since,
            )
            .select_from(_then(D, C, C.c.id == D.c.case_id))
            .where(D.c.id.in_(page))
            .order_by(*order)
        )
        return [
            WorkLine(
                r.id,
                r.case_id,
                r.citizen_ref,
                r.municipality,
                r.team,
                None,
                r.rule_key,
                r.rule_key,
                r.stage,
                r.caseworker or team_queue(r.team),
                r.target_group,
                r.due_at,
                r.paused_since,
            )
            for r in self.conn.execute(q)
        ]

    def count_obligations(self, query: WorkFilter, windows: DueWindows) -> WorkCounts:
        """Count the open obligation periods matching the filter, and how many are overdue, due today, this week."""
        self._one_worker()
        running = _running()
        q = (
            select(
                func.count().label("total"),
                *(
                    func.coalesce(func.sum(case((and_(running, cond), 1), else_=0)), 0).label(name)
                    for name, cond in (
                        ("overdue", D.c.due_at < windows.now),
                        ("today", and_(D.c.due_at >= windows.now, D.c.due_at < windows.day_end)),
                        ("week", and_(D.c.due_at >= windows.now, D.c.due_at < windows.week_end)),
                    )
                ),
            )
            .select_from(self._obligation_rows(query))
            .where(*self._obligation_where(query))
        )
        return WorkCounts(**{k: int(v) for k, v in self.conn.execute(q).mappings().one().items()})

    # -- the team ----------------------------------------------------------------------------------

    def case_holders(self, municipality: str, team: str) -> list[str]:
        """Return who holds an open case of the team (not the queue), in username order."""

        # A loose index scan of ix_cases_holder (municipality, caseworker, status, team): one seek per
        # holder for the next one, not a pass over the team's 50,000 cases (issue 12's team view).
        def holding(after: Any) -> Any:
            return (
                select(C.c.caseworker)
                .where(C.c.municipality == municipality, after, C.c.status == "open", C.c.team == team)
                .order_by(C.c.caseworker)
                .limit(1)
                .scalar_subquery()
            )

        holders = select(holding(C.c.caseworker.is_not(None)).label("who")).cte("holders", recursive=True)
        holders = holders.union_all(select(holding(C.c.caseworker > holders.c.who)).where(holders.c.who.is_not(None)))
        return [who for (who,) in self.conn.execute(select(holders.c.who).where(holders.c.who.is_not(None)))]

    def caseload(
        self, municipality: str, team: str, caseworkers: Sequence[str], now: datetime, team_unique: bool = False
    ) -> dict[str | None, tuple[int, int, int, int]]:
        """Return open cases, open and overdue to-dos and overdue obligations of the queue (None) and these people."""
        self._one_worker()
        queue = team_queue(team)
        held = (
            C.c.municipality == municipality,
            C.c.team == team,
            C.c.status == "open",
            _held_by([*caseworkers, queue]),
        )
        # Only the people on the page (and the queue): their cases from ix_cases_holder, then each case's
        # overdue obligation periods from ix_deadlines_case; never a pass over the whole team.
        open_cases = {
            who: int(n)
            for who, n in self.conn.execute(select(C.c.caseworker, func.count()).where(*held).group_by(C.c.caseworker))
        }
        overdue = self.conn.execute(
            select(C.c.caseworker, func.count())
            .select_from(_then(C, D, D.c.case_id == C.c.id))
            .where(*held, D.c.status == "open", D.c.todo_id.is_(None), _running(), D.c.due_at < now)
            .group_by(C.c.caseworker)
        )
        owed = {who: int(n) for who, n in overdue}
        found = {who: [0, 0] for who in (None, *caseworkers)}
        # Each holder's to-dos from ix_todos_assignee_status_due alone; the stopped clocks taken off after.
        # No team condition: it is not in that index, and each holder's name (the queue's too) says enough.
        query = WorkFilter(municipality, holders=(*caseworkers, queue), team_unique=team_unique)
        cases = _needs_cases(query)
        where = self._todo_where(query, cases)
        rows = _then(X, C, C.c.id == X.c.case_id) if cases else X
        late = func.coalesce(func.sum(case((X.c.due_at < now, 1), else_=0)), 0)
        todos = self.conn.execute(
            select(X.c.assignee, func.count(), late).select_from(rows).where(*where).group_by(X.c.assignee)
        )
        for who, n, overdue in todos:
            found[None if who == queue else who] = [int(n), int(overdue)]
        stopped = self.conn.execute(
            select(X.c.assignee, func.count())
            .select_from(self._stopped_todos(query, cases))
            .where(*where, X.c.due_at < now)
            .group_by(X.c.assignee)
        )
        for who, n in stopped:
            found[None if who == queue else who][1] -= int(n)
        return {who: (open_cases.get(who, 0), n, late_, owed.get(who, 0)) for who, (n, late_) in found.items()}

    # -- search ------------------------------------------------------------------------------------

    def find_cases(
        self, municipality: str | None, case_ids: Sequence[str], citizen_ref: str | None, limit: int = 10
    ) -> list[CaseLine]:
        """Return the cases with one of these ids, or (in the municipality) with this citizen reference."""
        # Two index lookups (the primary key; the unique municipality + reference), never a scan.
        parts = [select(C.c.id).where(C.c.id.in_(sorted({i for i in case_ids if i})))]
        if municipality and citizen_ref:
            parts.append(select(C.c.id).where(C.c.municipality == municipality, C.c.citizen_ref == citizen_ref))
        ids = [r[0] for r in self.conn.execute(union_all(*parts).limit(limit))]
        if not ids:
            return []
        rows = self.conn.execute(select(C).where(C.c.id.in_(ids)).order_by(C.c.id)).mappings()
        return [CaseLine(**r) for r in rows]


def _held_by(holders: Sequence[str]) -> Any:
    """Obligations of the cases these hold: a caseworker's own, or the team queue's (no caseworker yet)."""
    names = [h for h in holders if ":" not in h]
    queues = [h.removeprefix(team_queue("")) for h in holders if h.startswith(team_queue(""))]
    held: list[Any] = []
    if names:
        held.append(C.c.caseworker.in_(names))
    if queues:
        held.append(and_(C.c.caseworker.is_(None), C.c.team.in_(queues)))
    return (held[0] if len(held) == 1 else or_(*held)) if held else false()
