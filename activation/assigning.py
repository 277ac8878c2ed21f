"""Making a caseworker responsible for cases, one or several at once, with the continuity rule on every change.

The inbox's "take", the case page's reassign, the team view's bulk assign, `activation assign` and
`POST /api/v1/todos/assign` all come here, so a change of caseworker is counted (and alerts the team
lead when there are too many) the same way whichever door it came through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from activation import access
from activation.access import User
from activation.config import RuleBook
from activation.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from activation.lifecycle import TodoStatus
from activation.model import Case
from activation.ports import Cases, CasesAndTodos, UnitOfWork

MAX_AT_ONCE = 100  # one screenful of the team queue, four pages; a bounded transaction


@dataclass(frozen=True)
class Assigned:
    """The result of making a caseworker responsible for a case."""

    case_id: str
    caseworker: str
    previous: str | None
    todos_moved: int
    changes_in_window: int
    alerted: bool


def assign_caseworker(
    store: UnitOfWork[Cases], rules: RuleBook, case_id: str, caseworker: str, now: datetime, by: str
) -> Assigned:
    """Make a caseworker responsible for a case; too many changes alert the team lead."""
    with store.transaction() as tx:
        return assign_in(tx, rules, case_id, caseworker, now, by)


def assign_in(tx: Cases, rules: RuleBook, case_id: str, caseworker: str, now: datetime, by: str) -> Assigned:
    """Make a caseworker responsible for a case inside a unit of work; count the change for continuity."""
    rules = rules.as_of(now)
    caseworker = caseworker.strip()
    if not caseworker:
        raise InputError("the caseworker id is empty", {"caseworker": "empty"})
    case = tx.cases([case_id]).get(case_id)
    if case is None:
        raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
    if case.caseworker == caseworker:
        return Assigned(case_id, caseworker, caseworker, 0, 0, False)
    moved = tx.assign_caseworker(case, caseworker, now, by)
    rule = rules.municipality(case.municipality).continuity
    if rule is None or case.caseworker is None:
        return Assigned(case_id, caseworker, case.caseworker, moved, 0, False)
    calendar = rules.municipality(case.municipality).calendar()
    # Continuity (Rosholm 2018: a change lowers the job probability by 22 %): count the changes
    # within the window, this one included.
    recent = [c for c in tx.caseworker_changes(case_id) if calendar.add(c, rule.within) > now]
    alerted = len(recent) > rule.max_changes
    if alerted:
        tx.add_alert(f"{case_id}:continuity:{len(recent)}", case, rule.notify, "continuity", now)
    return Assigned(case_id, caseworker, case.caseworker, moved, len(recent), alerted)


def _chosen(ids: Sequence[str], what: str) -> list[str]:
    chosen = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
    if not chosen:
        raise InputError(f"choose at least one {what}", {f"{what.replace('-', '')}_ids": "empty"})
    if len(chosen) > MAX_AT_ONCE:
        raise InputError(f"at most {MAX_AT_ONCE} at once", {f"{what.replace('-', '')}_ids": "too many"})
    return chosen


def _assign_all(
    tx: Cases, rules: RuleBook, cases: Sequence[Case], staff: User | None, name: str, now: datetime, by: str
) -> list[Assigned]:
    # Every case must be the chosen caseworker's team's before anything moves: all or nothing.
    chosen = [access.check_caseworker(name, staff, c.municipality, c.team).username for c in cases]
    return [assign_in(tx, rules, c.id, who, now, by) for c, who in zip(cases, chosen, strict=True)]


def assign_cases(
    store: UnitOfWork[Cases],
    rules: RuleBook,
    case_ids: Sequence[str],
    staff: User | None,
    caseworker: str,
    now: datetime,
    by: str,
    lead: User | None = None,
) -> list[Assigned]:
    """Make one active caseworker of the team responsible for several cases at once, in one transaction.

    staff is the caseworker as the accounts know them (None: no such active user); lead, when given,
    is who asks and must be the lead of each case's team. The command line passes no lead: its
    operator is trusted like the database's own administrator.
    """
    ids = _chosen(case_ids, "case")
    with store.transaction() as tx:
        found = tx.cases(ids)
        cases = []
        for case_id in ids:
            case = found.get(case_id)
            if case is None:
                raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
            if lead is not None:
                access.visible_case(tx, lead, case_id)
                _may_reassign(lead, case)
            cases.append(case)
        return _assign_all(tx, rules, cases, staff, caseworker, now, lead.username if lead else by)


def assign_todos(
    store: UnitOfWork[CasesAndTodos],
    rules: RuleBook,
    lead: User,
    todo_ids: Sequence[str],
    staff: User | None,
    caseworker: str,
    now: datetime,
) -> list[Assigned]:
    """Give the cases of several open to-dos (the team queue's, say) to one caseworker of the team at once.

    A to-do follows its case: the caseworker becomes responsible for each case and all its open
    to-dos. Several to-dos of one case assign it once. Nothing moves unless every to-do is the
    lead's team's and open, and the caseworker is an active one of that team.
    """
    ids = _chosen(todo_ids, "to-do")
    with store.transaction() as tx:
        cases: dict[str, Case] = {}
        for todo_id in ids:
            todo, case = access.visible_todo(tx, lead, todo_id)
            _may_reassign(lead, case)
            if todo.status != TodoStatus.OPEN:
                raise ConflictError(f"to-do {todo_id} is already done", {"todo_ids": "done"})
            cases.setdefault(case.id, case)
        return _assign_all(tx, rules, list(cases.values()), staff, caseworker, now, lead.username)


def _may_reassign(lead: User, case: Case) -> None:
    if not access.may_reassign(lead, case):
        raise ForbiddenError("Only the team's lead can reassign its cases.")
