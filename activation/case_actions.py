"""What a signed-in member of staff does to a case beyond its to-dos: book, pause, resume, record, start, withdraw.

The case page, the REST API and the CLI call the same use cases (booking, pauses, case events,
start_beside, complete_and_move_on); these put the access rules in front of them, so every entry
point refuses alike: another team's case is not found (AccessDenied, audited by the entry point), a
case seen but not worked (a manager) or a to-do held by someone else is forbidden. Each takes the
channel (`via`: "web", "api") and the use case writes the user's audit line in its own transaction:
an action is never recorded without its audit line, nor audited without having happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from activation import access, case_events, journey, pauses, services
from activation.access import User
from activation.booking import Booked, Cancelled, book_meeting, cancel_meeting, free_slots
from activation.config import RuleBook
from activation.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from activation.lifecycle import CaseStatus
from activation.model import Actor, Case, TodoView
from activation.ports import Cases, CasesAndTodos, Store, TodoFilter

WITHDRAWN = "withdrawn"  # the outcome that closes a case (activation/journey.py: "withdrawn" -> closed)
NOT_YOURS = "This to-do belongs to someone else; ask your team lead to reassign it."
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a time before this is a typo, not a citizen's situation
REACH = timedelta(days=5 * 366)  # nor is one more than five years ahead (and calendar arithmetic stays in range)


def within_reach(moment: datetime, now: datetime, name: str) -> datetime:
    """Return a time given by a person if it is aware and between 2000 and five years from now."""
    if moment.tzinfo is None:
        raise InputError(f"{name}: a time with a time zone, please", {name: "needs a time zone"})
    if not EARLIEST <= moment <= now + REACH:
        raise InputError(f"{name}: a time between 2000 and five years from now, please", {name: "out of range"})
    return moment


def actor(user: User, via: str) -> Actor:
    """Return who acts, for the audit line the use case writes."""
    return Actor(user.username, user.role, via)


def workable_case(tx: Cases, user: User, case_id: str) -> Case:
    """Return a case the user may act on; another team's is not found, one only seen is forbidden."""
    case = access.visible_case(tx, user, case_id)
    if not access.may_work_case(user, case):
        raise ForbiddenError("Only the team's caseworkers and its team lead act on its cases.")
    return case


def workable_todo(tx: CasesAndTodos, user: User, todo_id: str) -> tuple[TodoView, Case]:
    """Return a to-do the user may work, with its case: their own, the team queue's, or any for the lead."""
    todo, case = access.visible_todo(tx, user, todo_id)
    if not access.may_work_case(user, case):
        raise ForbiddenError("Only the team's caseworkers and its team lead act on its cases.")
    if not access.may_complete(user, case, todo.assignee):
        raise ForbiddenError(NOT_YOURS)
    return todo, case


def case_to_act_on(store: Store, user: User, case_id: str) -> Case:
    """Return a case the user may act on, read in a transaction of its own (refused as workable_case does)."""
    with store.transaction() as tx:
        return workable_case(tx, user, case_id)


def todo_to_work(store: Store, user: User, todo_id: str) -> tuple[TodoView, Case]:
    """Return a to-do the user may work, with its case, read in a transaction of its own."""
    with store.transaction() as tx:
        return workable_todo(tx, user, todo_id)


@dataclass(frozen=True)
class MeetingChoices:
    """Free times for a meeting to-do: inside opening hours and, where possible, before its deadline."""

    todo: TodoView
    case: Case
    slots: list[datetime]
    after_deadline: bool  # no free time is left before the deadline: these count as missed


def meeting_choices(
    store: Store,
    rules: RuleBook,
    user: User,
    todo_id: str,
    now: datetime,
    minutes: int,
    taken: list[tuple[datetime, datetime]],
    count: int = 10,
) -> MeetingChoices:
    """Return the next free times of this length for a meeting to-do (a follow-up: the last before it is due)."""
    todo, case = todo_to_work(store, user, todo_id)
    office = rules.as_of(now).municipality(case.municipality).calendar()
    latest = todo.kind in journey.scheduled_kinds()
    slots = free_slots(office, minutes, now, todo.due_at, taken, count, latest)
    if slots:
        return MeetingChoices(todo, case, slots, False)
    return MeetingChoices(todo, case, free_slots(office, minutes, now, None, taken, count), True)


def book_for(
    store: Store,
    rules: RuleBook,
    user: User,
    todo_id: str,
    starts_at: datetime,
    now: datetime,
    minutes: int = 60,
    place: str = "",
    *,
    via: str,
) -> tuple[Booked, Case]:
    """Book (or rebook) a meeting to-do's time as a signed-in user; the citizen gets an invitation and .ics."""
    _todo, case = todo_to_work(store, user, todo_id)
    within_reach(starts_at, now, "starts_at")
    return book_meeting(store, rules, todo_id, starts_at, now, minutes, place.strip(), actor(user, via)), case


def cancel_booking_for(store: Store, user: User, todo_id: str, now: datetime, *, via: str) -> tuple[Cancelled, Case]:
    """Call off a meeting to-do's booked time as a signed-in user; the citizen gets a cancellation and .ics."""
    _todo, case = todo_to_work(store, user, todo_id)
    return cancel_meeting(store, todo_id, now, actor(user, via)), case


def pause_for(
    store: Store,
    rules: RuleBook,
    user: User,
    case_id: str,
    basis: str,
    starts_at: datetime,
    ends_at: datetime | None,
    now: datetime,
    note: str | None = None,
    *,
    via: str,
) -> tuple[pauses.PauseResult, Case]:
    """Pause a case's clocks on a legal ground as a signed-in user."""
    case = case_to_act_on(store, user, case_id)
    within_reach(starts_at, now, "starts_at")
    if ends_at is not None:
        within_reach(ends_at, now, "ends_at")
    result = pauses.record_pause(
        store, rules, case_id, basis, starts_at, ends_at, now, user.username, note, actor=actor(user, via)
    )
    return result, case


def resume_for(
    store: Store,
    rules: RuleBook,
    user: User,
    case_id: str,
    pause_id: str | None,
    ends_at: datetime,
    now: datetime,
    *,
    via: str,
) -> tuple[pauses.PauseResult, Case]:
    """End a case's open-ended pause (the one named, else the one there is) as a signed-in user."""
    with store.transaction() as tx:
        case = workable_case(tx, user, case_id)
        open_ended = [p for p in tx.pauses(case_id) if p.ends_at is None]
        if pause_id:
            if pause_id not in {p.id for p in tx.pauses(case_id)}:
                raise NotFoundError(f"case {case_id} has no pause {pause_id}", {"pause_id": "unknown"})
        elif open_ended:
            pause_id = open_ended[-1].id
        else:
            raise ConflictError(f"case {case_id} has no pause without an end to resume", {"pause_id": "none open"})
    within_reach(ends_at, now, "ends_at")
    return pauses.end_pause(store, rules, pause_id, ends_at, now, user.username, actor(user, via)), case


def record_event_for(
    store: Store,
    rules: RuleBook,
    user: User,
    case_id: str,
    kind: str,
    occurred_at: datetime,
    now: datetime,
    note: str | None = None,
    key: str | None = None,
    form: str | None = None,
    held_by: str | None = None,
    holder: User | None = None,
    *,
    via: str,
) -> tuple[case_events.EventRecorded, Case]:
    """Record a job conversation or an offer outside the stages as a signed-in user (who held it by default)."""
    case = case_to_act_on(store, user, case_id)
    within_reach(occurred_at, now, "occurred_at")
    done = case_events.record_event(
        store, rules, case_id, kind, occurred_at, now, user.username, note, key, actor(user, via),
        form=form, held_by=held_by, holder=holder,
    )  # fmt: skip
    return done, case


def start_for(
    store: Store, rules: RuleBook, user: User, case_id: str, what: str, now: datetime, *, via: str
) -> TodoView:
    """Start health information (consent first) or a coordinated plan on a case as a signed-in user."""
    case_to_act_on(store, user, case_id)
    return services.start_beside(store, rules, case_id, what, now, actor(user, via))


def withdrawable(tx: CasesAndTodos, case: Case) -> TodoView | None:
    """Return the open journey to-do whose outcome 'withdrawn' would close the case, if there is one."""
    if case.status != CaseStatus.OPEN:
        return None
    todos = tx.list_todos(TodoFilter(case_id=case.id, limit=500))
    return next((x for x in todos if not x.side and WITHDRAWN in x.outcomes), None)


def withdraw_for(
    store: Store, rules: RuleBook, user: User, case_id: str, now: datetime, *, via: str
) -> tuple[TodoView, Case]:
    """Withdraw a case: its journey to-do is completed as 'withdrawn' and the case closes, as the to-do page does."""
    with store.transaction() as tx:
        case = workable_case(tx, user, case_id)
        todo = withdrawable(tx, case)
    if todo is None and case.status != CaseStatus.OPEN:
        raise ConflictError(f"case {case_id} is already {case.status}", {"case_id": f"already {case.status}"})
    if todo is None:
        stages = ", ".join(s.name for s in journey.JOURNEY if WITHDRAWN in s.outcomes)
        raise ConflictError(
            f"case {case_id} is in {case.stage} ({case.status}): a case is withdrawn only in {stages}",
            {"case_id": "cannot be withdrawn now"},
        )
    if not access.may_complete(user, case, todo.assignee):
        raise ForbiddenError(NOT_YOURS)
    done = services.complete_and_move_on(
        store, rules, todo.id, WITHDRAWN, now, user.username, actor=actor(user, via), action="withdraw"
    )
    with store.transaction() as tx:
        closed = tx.cases([case_id])[case_id]
    return done, closed
