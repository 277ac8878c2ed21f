"""What the domain needs from the outside world: a clock, ids and a transactional store."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from activation.model import (
    Case,
    DeadlineRevision,
    FiredAlarm,
    LetterRequest,
    OpenDeadline,
    Pause,
    Progress,
    SideWork,
    Step,
    SweepReport,
    TodoView,
)
from activation.obligations import CaseObligations, ObligationChanges


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


class Transaction(Protocol):
    """One unit of work against the store; commits on success, rolls back on error."""

    def add_case(self, case: Case, received_at: datetime) -> tuple[str, bool]:
        """Insert a case and its 'received' step; return (case id, created) and never duplicate."""
        ...

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

    def cases(self, ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases with these ids."""
        ...

    def obligation_states(self, case_ids: Sequence[str]) -> dict[str, CaseObligations]:
        """Return each case's obligation run: when it began, its events and its open periods."""
        ...

    def save_obligations(self, changes: ObligationChanges, run_starts: dict[str, datetime | None]) -> None:
        """Write obligation events, close finished periods and open the next ones."""
        ...

    def save_progress(self, progress: Sequence[Progress]) -> None:
        """Write what applied steps produced, in bulk; a repeated write changes nothing."""
        ...

    def todo(self, todo_id: str) -> TodoView | None:
        """Return one to-do."""
        ...

    def complete_todo(
        self, todo: TodoView, outcome: str, now: datetime, by: str, data: dict[str, Any] | None = None
    ) -> int:
        """Close a to-do and its deadline, cancel unfired alarms and record the outcome as a step."""
        ...

    def fire_due_alarms(self, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
        """Fire one batch of due alarms (of one kind, or all) exactly once each."""
        ...

    def due_alarms(self, now: datetime, limit: int) -> list[FiredAlarm]:
        """Return alarms that a sweep at now would fire, without writing."""
        ...

    def pending_steps(self, from_stages: Sequence[str] | None, limit: int) -> list[Step]:
        """Return unapplied steps without taking them."""
        ...

    def list_todos(self, query: TodoFilter) -> list[TodoView]:
        """Return to-dos matching the filter, soonest due first."""
        ...

    def pauses(self, case_id: str) -> list[Pause]:
        """Return a case's pauses, oldest first."""
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

    def open_deadlines(self, case_ids: Sequence[str]) -> list[OpenDeadline]:
        """Return the open deadlines of these cases, running or stopped."""
        ...

    def suspend_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Stop the clocks of these deadlines: alarms not yet fired wait until the pause ends."""
        ...

    def revise_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Move deadlines to their new due time, replacing alarms not yet fired with the new ones."""
        ...

    def list_deadlines(
        self,
        case_id: str | None = None,
        municipality: str | None = None,
        overdue_at: datetime | None = None,
        obligations_only: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Return open deadlines, to-dos' and obligations', soonest due first."""
        ...

    def open_deadlines_of_rules(self, municipality: str, rule_keys: Sequence[str]) -> list[dict[str, Any]]:
        """Return a municipality's open deadlines of these rules, with team, stage and alarm steps fired."""
        ...

    def record_rule_change(self, change: dict[str, Any]) -> None:
        """Keep a record of a rule version applied to running cases."""
        ...

    def rule_changes(self, municipality: str) -> list[dict[str, Any]]:
        """Return the rule versions applied to a municipality's running cases, newest first."""
        ...

    def case_detail(self, case_id: str) -> dict[str, Any] | None:
        """Return everything about one case: steps, to-dos, deadlines with history and alarms, pauses."""
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

    def last_step_id(self, case_id: str) -> int:
        """Return the id of the case's most recent step."""
        ...

    def add_work(self, works: Sequence[SideWork]) -> None:
        """Insert to-dos with their deadlines and alarms; a repeated insert changes nothing."""
        ...

    def occupancy(self, municipality: str, on: date) -> dict[str, int]:
        """Return how many placements of each intervention are running on a day."""
        ...

    def pending_letters(self, limit: int) -> list[LetterRequest]:
        """Return letters not yet rendered, oldest first."""
        ...

    def save_rendered(self, rendered: Sequence[tuple[str, str, str | None]], now: datetime) -> None:
        """Store rendered letter bodies and their attachments (an .ics file for a booked meeting)."""
        ...

    def add_letters(self, letters: Sequence[LetterRequest], now: datetime) -> None:
        """Queue letters for rendering; a repeated letter id is written once."""
        ...


class Store(Protocol):
    """Where cases live."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Open a unit of work."""
        ...
