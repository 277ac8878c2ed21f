"""What the domain needs from the outside world: a clock, ids and a transactional store, role by role."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from activation.availability import Absence, Availability, StaffMember
from activation.model import (
    AuditEntry,
    Case,
    DeadlineRevision,
    Exemption,
    FiredAlarm,
    LetterRequest,
    OpenDeadline,
    Pause,
    Progress,
    SideWork,
    Step,
    SweepReport,
    TodoView,
    WeekPlan,
)
from activation.obligations import CaseObligations, ObligationChanges, RecordedEvent
from activation.reads import OpenDeadlineOfRule, RuleChangeRecord


class Clock(Protocol):
    """Tells the time; tests and replays pass a fixed one."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """Return the current time."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told; `advance` moves it."""

    current: datetime

    def now(self) -> datetime:
        """Return the fixed time."""
        return self.current


def new_case_id() -> str:
    """Return a fresh pseudonymous case id, e.g. 'c-7k2m9qxa'."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: ids get read aloud on the phone
    return "c-" + "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass(frozen=True)
class TodoFilter:
    """Which to-dos to list."""

    case_id: str | None = None
    assignee: str | None = None
    municipality: str | None = None
    status: str | None = "open"
    overdue_at: datetime | None = None  # only those open and due before this moment
    assignees: tuple[str, ...] | None = None  # any of these holders (a caseworker and their team queue)
    team: str | None = None
    due_before: datetime | None = None
    limit: int = 200


class Cases(Protocol):
    """A caseworker's cases: opening one, who holds it, and telling the team lead about frequent changes."""

    def add_case(self, case: Case, received_at: datetime) -> tuple[str, bool]:
        """Insert a case and its 'received' step; return (case id, created) and never duplicate."""
        ...

    def cases(self, ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases with these ids."""
        ...

    def last_step_id(self, case_id: str) -> int:
        """Return the id of the case's most recent step."""
        ...

    def assign_caseworker(self, case_: Case, caseworker: str, now: datetime, by: str) -> int:
        """Make caseworker responsible; their open to-dos and pending reminders follow. Return to-dos moved."""
        ...

    def caseworker_changes(self, case_id: str) -> list[datetime]:
        """Return when the case changed from one caseworker to another (first assignments excluded)."""
        ...

    def add_alert(self, alert_id: str, case_: Case, role: str, rule_key: str, now: datetime) -> None:
        """Notify a role about a case once (the id makes a repeat harmless)."""
        ...


class JourneySteps(Protocol):
    """Outcomes recorded on cases, taken by the flows to move each case one step on the journey."""

    def claim_pending_steps(
        self, from_stages: Sequence[str] | None, limit: int, now: datetime, case_ids: Sequence[str] | None = None
    ) -> list[Step]:
        """Take up to limit unapplied steps (of these cases only, if given), so no concurrent flow takes them."""
        ...

    def release_failed_steps(self, failed: Sequence[tuple[int, str]]) -> None:
        """Give claimed steps back with their error; a step failing too often is parked."""
        ...

    def parked_steps(self, limit: int) -> list[Step]:
        """Return steps parked after repeated failures, for operations to see."""
        ...

    def unpark_steps(self) -> int:
        """Give parked steps a fresh set of attempts; return how many."""
        ...

    def pending_steps(self, from_stages: Sequence[str] | None, limit: int) -> list[Step]:
        """Return unapplied steps without taking them."""
        ...

    def save_progress(self, progress: Sequence[Progress]) -> None:
        """Write what applied steps produced, in bulk; a repeated write changes nothing."""
        ...

    def add_work(self, works: Sequence[SideWork]) -> None:
        """Insert to-dos with their deadlines and alarms; a repeated insert changes nothing."""
        ...


class Todos(Protocol):
    """What caseworkers have to do, and recording what they did."""

    def todo(self, todo_id: str) -> TodoView | None:
        """Return one to-do."""
        ...

    def complete_todo(
        self, todo: TodoView, outcome: str, now: datetime, by: str, data: dict[str, Any] | None = None
    ) -> int:
        """Close a to-do and its deadline, cancel unfired alarms and record the outcome as a step."""
        ...

    def list_todos(self, query: TodoFilter) -> list[TodoView]:
        """Return to-dos matching the filter, soonest due first."""
        ...


class DeadlinesAndAlarms(Protocol):
    """Open deadlines, their reminders and escalations, and moving or stopping them."""

    def fire_due_alarms(self, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
        """Fire one batch of due alarms (of one kind, or all) exactly once each."""
        ...

    def due_alarms(self, now: datetime, limit: int) -> list[FiredAlarm]:
        """Return alarms that a sweep at now would fire, without writing."""
        ...

    def open_deadlines(self, case_ids: Sequence[str]) -> list[OpenDeadline]:
        """Return the open deadlines of these cases, running or stopped."""
        ...

    def suspend_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Stop the clocks of these deadlines: alarms not yet fired wait until the pause ends."""
        ...

    def revise_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Move deadlines to their new due time, replacing alarms not yet fired with the new ones."""
        ...


class RuleVersions(Protocol):
    """A new version of a municipality's rules applied to running cases."""

    # A port of the unit of work, not of the read side: applying a version plans and writes in one
    # transaction, so what is applied is what was planned.
    def open_deadlines_of_rules(self, municipality: str, rule_keys: Sequence[str]) -> list[OpenDeadlineOfRule]:
        """Return a municipality's open deadlines of these rules, with team, stage and alarm steps fired."""
        ...

    def record_rule_change(self, change: RuleChangeRecord) -> None:
        """Keep a record of a rule version applied to running cases."""
        ...


class Obligations(Protocol):
    """The target group's meeting and offer obligations: their events and open periods."""

    def obligation_states(self, case_ids: Sequence[str]) -> dict[str, CaseObligations]:
        """Return each case's obligation run: when it began, its events and its open periods."""
        ...

    def save_obligations(self, changes: ObligationChanges, run_starts: dict[str, datetime | None]) -> None:
        """Write obligation events, close finished periods and open the next ones."""
        ...

    def add_recorded_event(self, event: RecordedEvent) -> int | None:
        """Record an event outside the stages once per id; return its number, or None if the id was recorded."""
        ...

    def recorded_event(self, event_id: str) -> RecordedEvent | None:
        """Return an event recorded outside the stages by its id."""
        ...


class Pauses(Protocol):
    """Pauses on a legal ground that stop a citizen's clocks."""

    def pauses(self, case_id: str) -> list[Pause]:
        """Return a case's pauses, oldest first."""
        ...

    def pauses_of(self, case_ids: Sequence[str]) -> dict[str, list[Pause]]:
        """Return the pauses of each of these cases that has any, oldest first."""
        ...

    def pause(self, pause_id: str) -> Pause | None:
        """Return one pause."""
        ...

    def add_pause(self, pause: Pause, now: datetime) -> None:
        """Record a pause."""
        ...

    def set_pause_end(self, pause_id: str, ends_at: datetime) -> None:
        """Give an open-ended pause its end."""
        ...

    def active_pauses(self, case_ids: Sequence[str], now: datetime) -> dict[str, Pause]:
        """Return the pause covering `now` for each of these cases that has one."""
        ...


class Letters(Protocol):
    """Letters to citizens, queued and rendered."""

    def pending_letters(self, limit: int) -> list[LetterRequest]:
        """Return letters not yet rendered, oldest first."""
        ...

    def save_rendered(self, rendered: Sequence[tuple[str, str, str | None]], now: datetime) -> None:
        """Store rendered letter bodies and their attachments (an .ics file for a booked meeting)."""
        ...

    def add_letters(self, letters: Sequence[LetterRequest], now: datetime) -> None:
        """Queue letters for rendering; a repeated letter id is written once."""
        ...

    def meeting_letters(self, todo_id: str) -> list[LetterRequest]:
        """Return the invitations and cancellations queued for a meeting to-do, oldest first."""
        ...


class AccessLog(Protocol):
    """The audit log: who did what to which case, written with the work it records."""

    def record_access(self, entries: Sequence[AuditEntry], now: datetime) -> None:
        """Write audit lines in this unit of work; they are never updated or deleted."""
        ...


class CoverageExemptions(Protocol):
    """Cases exempted from caseload coverage targets, one per case and target."""

    def exemption(self, case_id: str, target: str) -> Exemption | None:
        """Return the case's exemption from a target, if any."""
        ...

    def add_exemption(self, exemption: Exemption) -> bool:
        """Record an exemption once per case and target; tell whether it was new."""
        ...


class ExemptionWork(Cases, CoverageExemptions, AccessLog, Protocol):
    """Exempting a case: the case, its exemptions and the audit line written with it."""


class WeekPlans(Protocol):
    """The work duty's week plans, one per case and week."""

    def save_week_plan(self, plan: WeekPlan) -> None:
        """Save a case's plan for a week, replacing the week's earlier one."""
        ...

    def week_plans(self, municipality: str, since: date, until: date, case_id: str | None = None) -> list[WeekPlan]:
        """Return the week plans starting from since up to (not including) until, of one case if given."""
        ...


class Availabilities(Protocol):
    """Caseworkers' meeting hours, absences and booked meetings (issue 15)."""

    def staff_member(self, username: str) -> StaffMember | None:
        """Return an active member of staff's role, municipality and team, or None."""
        ...

    def team_caseworkers(self, municipality: str, team: str) -> list[str]:
        """Return the active caseworkers of a team, by username."""
        ...

    def availabilities(self, usernames: Sequence[str], since: date) -> dict[str, Availability]:
        """Return the availability of each of these caseworkers that has one, with absences ending from `since` on."""
        ...

    def save_availability(self, availability: Availability, municipality: str, by: str, now: datetime) -> None:
        """Save a caseworker's meeting hours, slot length and cap, replacing the earlier ones."""
        ...

    def add_absence(self, username: str, absence: Absence, by: str, now: datetime) -> int:
        """Record an absence and return its id."""
        ...

    def remove_absence(self, username: str, absence_id: int) -> bool:
        """Remove one of a caseworker's absences; tell whether there was one."""
        ...

    def booked_meetings(
        self, usernames: Sequence[str], after: datetime, but: str = ""
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Return the booked times of these caseworkers' open meeting to-dos ending after `after`, but one to-do's."""
        ...


class AvailabilityWork(Cases, Todos, Availabilities, AccessLog, Protocol):
    """Managing availability and proposing a slot: staff, their hours, the meeting to-do and the audit line."""


class WeekPlanWork(Cases, Todos, JourneySteps, WeekPlans, AccessLog, Protocol):
    """Saving a week plan: the case, its plans, the shortfall to-do and the audit line."""


class Transaction(
    Cases, JourneySteps, Todos, DeadlinesAndAlarms, RuleVersions, Obligations, Pauses, Letters, AccessLog, Protocol
):
    """One unit of work against the store, every role at once; commits on success, rolls back on error."""


class CasesAndTodos(Cases, Todos, Protocol):
    """A to-do with its case: what finding one the user may see needs."""


class PausedClocks(Cases, Pauses, DeadlinesAndAlarms, AccessLog, Protocol):
    """A case's pauses and the deadlines they stop or move, with the audit line of who did it."""


class RulePlanning(RuleVersions, Pauses, Protocol):
    """The open deadlines a rule version may move, and the pauses their new due times live through again."""


T_co = TypeVar("T_co", covariant=True)


class UnitOfWork(Protocol[T_co]):
    """A store opening units of work that offer (at least) the roles T_co; a Store is one for every role."""

    def transaction(self) -> AbstractContextManager[T_co]:
        """Open a unit of work."""
        ...


class Store(UnitOfWork[Transaction], Protocol):
    """Where cases live: every role in one unit of work."""
