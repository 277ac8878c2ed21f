"""Use cases: record an application, move cases on, complete a to-do, sweep deadlines."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from activation import access, journey
from activation.assigning import Assigned, assign_caseworker, assign_in
from activation.booking import Booked, Cancelled, book_meeting, cancel_meeting
from activation.calendar import CalendarError
from activation.config import ConfigError, RuleBook
from activation.errors import AccessDenied, ConflictError, ForbiddenError, InputError, NotFoundError
from activation.journey import JourneyError
from activation.lifecycle import CaseStatus, TodoStatus
from activation.model import (
    Actor,
    AuditEntry,
    Case,
    Progress,
    Step,
    SweepReport,
    TodoRecord,
    TodoView,
    team_queue,
)
from activation.obligations import ObligationChanges, apply_step
from activation.pauses import pause_new_deadlines
from activation.ports import Cases, DeadlinesAndAlarms, Store, Transaction, UnitOfWork, new_case_id
from activation.progress import as_open, follow_up_work, plan_progress, plan_work
from activation.record_checks import checked_record

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class Recorded:
    """The result of recording an application."""

    case_id: str
    created: bool
    municipality: str


def _new_case(
    rules: RuleBook,
    municipality: str,
    citizen_ref: str,
    received_at: datetime,
    team: str | None,
    caseworker: str | None,
    new_id: Callable[[], str],
    group: str | None,
) -> Case:
    if received_at.tzinfo is None:
        raise InputError("the time of the application needs a time zone", {"received_at": "needs a time zone"})
    rules = rules.as_of(received_at)
    citizen_ref = citizen_ref.strip()
    if not citizen_ref:
        raise InputError("the citizen reference is empty", {"citizen_ref": "empty"})
    try:
        rules_here = rules.municipality(municipality)
    except ConfigError as exc:
        raise InputError(str(exc), {"municipality": str(exc)}) from None
    chosen_team = team or rules_here.default_team
    if chosen_team not in rules_here.teams:
        problem = f"unknown team {chosen_team!r} in {rules_here.code}; teams: {', '.join(rules_here.teams)}"
        raise InputError(problem, {"team": problem})
    chosen_group = group or rules_here.default_group or ""
    if chosen_group not in rules_here.groups:
        known = ", ".join(rules_here.groups)
        problem = f"unknown target group {chosen_group!r} in {rules_here.code}; groups: {known}"
        raise InputError(problem, {"group": problem})
    return Case(
        id=new_id(),
        municipality=rules_here.code,
        group=chosen_group,
        citizen_ref=citizen_ref,
        team=chosen_team,
        caseworker=caseworker or None,
        stage="application",
        stage_entered_at=received_at,
    )


def record_application(
    store: UnitOfWork[Cases],
    rules: RuleBook,
    municipality: str,
    citizen_ref: str,
    received_at: datetime,
    team: str | None = None,
    caseworker: str | None = None,
    new_id: Callable[[], str] = new_case_id,
    group: str | None = None,
) -> Recorded:
    """Record an application for the intake flow; the same citizen reference twice opens one case.

    Entry points that a person uses call `open_case`, which also creates the first to-do at once;
    this one is for bulk loads (the demo, the simulation, replays) that leave the intake to the flows.
    """
    case = _new_case(rules, municipality, citizen_ref, received_at, team, caseworker, new_id, group)
    with store.transaction() as tx:
        case_id, created = tx.add_case(case, received_at)
    return Recorded(case_id, created, case.municipality)


@dataclass(frozen=True)
class Opened:
    """A case opened (or found) for an application, with the work its first step created."""

    case: Case
    created: bool
    todos: tuple[TodoRecord, ...]

    @property
    def case_id(self) -> str:
        """Return the case's id."""
        return self.case.id


def open_case(
    store: Store,
    rules: RuleBook,
    municipality: str,
    citizen_ref: str,
    received_at: datetime,
    now: datetime,
    team: str | None = None,
    caseworker: str | None = None,
    group: str | None = None,
    by: access.User | None = None,
    new_id: Callable[[], str] = new_case_id,
    via: str | None = None,
) -> Opened:
    """Open a case and give it its first to-do, deadline, alarms and invitation, in one transaction.

    Exactly once: the same citizen reference again returns the case it already has and writes
    nothing. With `by`, a person records it: only in their own municipality (ForbiddenError), and a
    citizen whose case they may not see is refused as not found, with no id and no hint. With `via`
    too (the channel: "api", "web"), the audit line is written in the same transaction.
    """
    if by is not None and not access.may_record_application(by, municipality):
        raise ForbiddenError(f"You do not work cases in {municipality}.")
    case = _new_case(rules, municipality, citizen_ref, received_at, team, caseworker, new_id, group)
    with store.transaction() as tx:
        case_id, created = tx.add_case(case, received_at)
        stored = tx.cases([case_id])[case_id]
        if by is not None and not access.may_view_case(by, stored):
            raise AccessDenied(
                "No case visible to you for that citizen reference.",
                {"citizen_ref": "not found"},
                stored.id,
                stored.municipality,
            )
        moved = _advance(tx, rules, now, None, DEFAULT_BATCH, [case_id]) if created else None
        stored = tx.cases([case_id])[case_id] if created else stored
        if by is not None and via is not None:
            done = "created" if created else "already open"
            tx.record_access(
                [AuditEntry(by.username, by.role, "record_application", case_id, municipality, via, done)], now
            )
    todos = tuple(x for p in moved.progress for x in (p.todo, *(w.todo for w in p.also)) if x) if moved else ()
    return Opened(stored, created, todos)


@dataclass(frozen=True)
class Advanced:
    """What one batch did: the cases moved on, and the steps that could not be applied."""

    progress: list[Progress]
    failed: list[tuple[Step, str]]
    claimed: int

    @property
    def moved(self) -> int:
        """Count the cases moved one step."""
        return len(self.progress)


def advance_cases(
    store: Store,
    rules: RuleBook,
    now: datetime,
    from_stages: Sequence[str] | None = None,
    limit: int = DEFAULT_BATCH,
    case_ids: Sequence[str] | None = None,
) -> Advanced:
    """Move one batch of cases one step each, in one transaction; safe to run concurrently.

    A step that cannot be planned (its municipality's rules are gone, an outcome the journey no
    longer knows) does not hold up the others: it is released with its error and, after
    MAX_STEP_FAILURES attempts, parked for operations.
    """
    with store.transaction() as tx:
        return _advance(tx, rules, now, from_stages, limit, case_ids)


def _advance(
    tx: Transaction,
    rules: RuleBook,
    now: datetime,
    from_stages: Sequence[str] | None,
    limit: int,
    case_ids: Sequence[str] | None,
) -> Advanced:
    """Apply one batch of pending steps inside a transaction the caller holds."""
    steps = tx.claim_pending_steps(from_stages, limit, now, case_ids)
    if not steps:
        return Advanced([], [], 0)
    cases = tx.cases(sorted({s.case_id for s in steps}))
    planned: list[tuple[Step, Progress]] = []
    failed: list[tuple[Step, str]] = []
    # Steps of one case are applied in order.
    for step in sorted(steps, key=lambda s: (s.case_id, s.seq)):
        try:
            planned.append((step, plan_progress(rules, cases[step.case_id], step)))
        # ValueError/OverflowError too: a step whose record no longer plans (a date arithmetic
        # overflow, say) is parked rather than blocking every later batch.
        except (ConfigError, JourneyError, CalendarError, ValueError, OverflowError) as exc:
            failed.append((step, f"{type(exc).__name__}: {exc}"))
    progress = [p for _, p in planned]
    tx.save_progress(progress)
    # The group's meeting and offer obligations follow the same steps.
    changes = ObligationChanges()
    states = tx.obligation_states(sorted({step.case_id for step, _ in planned}))
    for step, planned_progress in planned:
        case = cases[step.case_id]
        if planned_progress.new_group:
            # LAB § 96 stk. 4: a change of group starts the new group's obligations at once.
            case = cases[step.case_id] = replace(case, group=planned_progress.new_group)
        in_force = rules.as_of(step.occurred_at)
        apply_step(
            in_force.municipality(case.municipality),
            in_force.version(case.municipality),
            case,
            step,
            states[case.id],
            changes,
            group_changed=planned_progress.new_group is not None,
        )
    tx.save_obligations(changes, {case_id: state.run_start for case_id, state in states.items()})
    # A case paused right now gets its new deadlines stopped (or moved past the pause) too.
    new_deadlines = [(p.deadline, p.todo) for p in progress if p.deadline and p.todo]
    new_deadlines += [(w.deadline, w.todo) for p in progress for w in p.also]
    opened = [as_open(d, x.assignee) for d, x in new_deadlines] + changes.opened_as_open()
    pause_new_deadlines(tx, rules, opened, now)
    if failed:
        tx.release_failed_steps([(step.id, error) for step, error in failed])
    return Advanced(progress, failed, len(steps))


def complete_todo(
    store: Store,
    todo_id: str,
    outcome: str,
    now: datetime,
    by: str = "caseworker",
    data: dict[str, Any] | None = None,
    rules: RuleBook | None = None,
) -> TodoView:
    """Record a to-do's outcome with its record: the deadline is met or missed, pending alarms stop."""
    with store.transaction() as tx:
        return _complete(tx, todo_id, outcome, now, by, data, rules)


def _complete(
    tx: Transaction,
    todo_id: str,
    outcome: str,
    now: datetime,
    by: str,
    data: dict[str, Any] | None,
    rules: RuleBook | None,
) -> TodoView:
    rules = rules.as_of(now) if rules is not None else None
    todo = tx.todo(todo_id)
    if todo is None:
        raise NotFoundError(f"unknown to-do {todo_id!r}", {"todo_id": "unknown"})
    if todo.status != TodoStatus.OPEN:
        if todo.outcome == outcome:
            # The same completion twice (double click, retry) is not an error; it changes nothing.
            return replace(todo, repeated=True)
        problem = f"to-do {todo_id} is already {todo.status} with outcome {todo.outcome!r}"
        raise ConflictError(problem, {"outcome": problem})
    if outcome not in todo.outcomes:
        problem = f"to-do {todo_id} accepts outcomes {', '.join(todo.outcomes)}; not {outcome!r}"
        raise InputError(problem, {"outcome": problem})
    if now < todo.created_at:
        raise InputError(f"to-do {todo_id} was created at {todo.created_at.isoformat()}; cannot complete it earlier")
    stored = None if todo.side else checked_record(todo, outcome, data, rules)
    tx.complete_todo(todo, outcome, now, by, stored)
    follow = journey.FOLLOWS.get((todo.kind, outcome))
    if follow is not None:
        if rules is None:
            raise ValueError(f"completing {todo.kind} as {outcome} creates a to-do: pass the rules")
        case = tx.cases([todo.case_id])[todo.case_id]
        tx.add_work([follow_up_work(rules, case, todo, follow, now)])
    done = tx.todo(todo_id)
    assert done is not None
    return done


def complete_and_move_on(
    store: Store,
    rules: RuleBook,
    todo_id: str,
    outcome: str,
    now: datetime,
    by: str,
    data: dict[str, Any] | None = None,
    take_from_queue: bool = False,
    actor: Actor | None = None,
    action: str = "complete_todo",
) -> TodoView:
    """Complete a to-do and move its case on, in one transaction, as the inbox, the API and the CLI do.

    With take_from_queue, a to-do worked from the team queue makes `by` the case's caseworker. The
    step is applied by the same code the flows run (claims are exclusive, so a flow running at the
    same moment cannot apply it twice); the next to-do exists when this returns, and the letter is
    rendered by the next flow run. With `actor`, their audit line (`action`) is written in the same
    transaction; a repeat writes none.
    """
    with store.transaction() as tx:
        done = _complete(tx, todo_id, outcome, now, by, data, rules)
        if done.repeated:
            return done
        if take_from_queue and done.assignee == team_queue(done.team):
            assign_in(tx, rules, done.case_id, by, now, by)
        _advance(tx, rules, now, None, DEFAULT_BATCH, [done.case_id])
        if actor is not None:
            case = tx.cases([done.case_id])[done.case_id]
            tx.record_access([actor.line(action, case, f"{done.id} {done.kind} -> {outcome}")], now)
    return done


def complete_for(
    store: Store,
    rules: RuleBook,
    user: access.User,
    todo_id: str,
    outcome: str,
    now: datetime,
    data: dict[str, Any] | None = None,
    *,
    via: str,
) -> tuple[TodoView, Case]:
    """Complete a to-do as a signed-in user (inbox, API): only one they may see and hold, then move on.

    Raises NotFoundError (AccessDenied for another team's) and ForbiddenError (held by someone else)
    before anything is written; the rest as `complete_todo`. A caseworker working a to-do from the
    team queue takes the case. The audit line (channel `via`) is written in the same transaction as
    the outcome: never one without the other.
    """
    with store.transaction() as tx:
        todo, case = access.visible_todo(tx, user, todo_id)
    if not access.may_complete(user, case, todo.assignee):
        raise ForbiddenError("This to-do belongs to someone else; ask your team lead to reassign it.")
    take = todo.status == TodoStatus.OPEN and user.role == "caseworker"
    actor = Actor(user.username, user.role, via)
    done = complete_and_move_on(store, rules, todo_id, outcome, now, user.username, data, take, actor)
    return done, case


def sweep(
    store: UnitOfWork[DeadlinesAndAlarms],
    now: datetime,
    batch: int = 10_000,
    max_batches: int | None = None,
    kind: str | None = None,
) -> SweepReport:
    """Fire every due reminder and escalation (or one kind), batch by batch, each exactly once."""
    total = SweepReport()
    while max_batches is None or total.batches < max_batches:
        with store.transaction() as tx:
            report = tx.fire_due_alarms(now, batch, kind)
        total.batches += 1
        total.fired_reminders += report.fired_reminders
        total.fired_escalations += report.fired_escalations
        total.skipped_reminders += report.skipped_reminders
        total.fired.extend(report.fired)
        if report.total + report.skipped_reminders < batch:
            break
    return total


__all__ = [
    "DEFAULT_BATCH",
    "Advanced",
    "Assigned",
    "Booked",
    "Cancelled",
    "InputError",
    "Opened",
    "Recorded",
    "advance_cases",
    "assign_caseworker",
    "book_meeting",
    "cancel_meeting",
    "complete_and_move_on",
    "complete_for",
    "complete_todo",
    "open_case",
    "plan_progress",
    "record_application",
    "sweep",
]


def start_beside(
    store: Store, rules: RuleBook, case_id: str, what: str, now: datetime, actor: Actor | None = None
) -> TodoView:
    """Start a to-do beside the journey: health information (consent first) or a coordinated plan.

    With `actor`, their audit line is written in the same transaction.
    """
    rules = rules.as_of(now)
    starter = journey.STARTERS.get(what)
    if starter is None:
        raise InputError(f"nothing called {what!r} to start; choose from {', '.join(journey.STARTERS)}")
    with store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
        if case is None:
            raise NotFoundError(f"unknown case {case_id!r}", {"case_id": "unknown"})
        if case.status != CaseStatus.OPEN:
            raise ConflictError(f"case {case_id} is {case.status}")
        step_id = tx.last_step_id(case_id)
        todo_id = f"{case_id}.{what[:6]}{step_id}"
        if tx.todo(todo_id) is not None:
            raise ConflictError(f"{what.replace('_', ' ')} is already under way for case {case_id} ({todo_id})")
        work = plan_work(rules, case, (step_id, now), todo_id, starter.todo, case.stage, starter.outcomes,
                     starter.deadline, now, f"{what.replace('_', ' ')} started", side=True)  # fmt: skip
        tx.add_work([work])
        created = tx.todo(todo_id)
        if actor is not None:
            tx.record_access([actor.line("start_beside", case, f"{what}: {todo_id}")], now)
    assert created is not None
    return created


def request_health_information(store: Store, rules: RuleBook, case_id: str, now: datetime) -> TodoView:
    """Start fetching health information: first a to-do to record the citizen's consent (000)."""
    return start_beside(store, rules, case_id, "health_information", now)
