"""The states of cases, to-dos, deadlines, alarms, steps and deliveries, their moves, and the verdicts on them.

Every entry point (CLI, web, API, flows), the in-memory fake and the SQL store judge a deadline,
an alarm or a step by the functions here; the SQL store builds its `CASE` expressions from the
same rules (activation/adapters/lifecycle_sql.py), and tests/test_lifecycle.py checks that the
two agree row by row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from activation.errors import ConflictError

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A state machine: which states a thing can be in and which moves between them are allowed."""

    name: str
    initial: S
    moves: frozenset[tuple[S, S]]

    @classmethod
    def declare(cls, name: str, initial: S, moves: Iterable[tuple[Iterable[S], S]]) -> Lifecycle[S]:
        """Declare a lifecycle from (sources, target) pairs, as viewflow's `transition(source=…, target=…)`."""
        return cls(name, initial, frozenset((s, target) for sources, target in moves for s in sources))

    def allows(self, source: S, target: S) -> bool:
        """Tell whether a thing in `source` may move to `target`."""
        return (source, target) in self.moves

    def sources(self, target: S) -> tuple[S, ...]:
        """Return the states from which `target` can be reached, in declaration order of the enum."""
        return tuple(s for s in type(self.initial) if (s, target) in self.moves)

    def check(self, source: S, target: S, what: str) -> None:
        """Refuse a move the lifecycle does not allow, naming the thing and both states."""
        if not self.allows(source, target):
            raise ConflictError(f"{self.name} {what} is {source}; it cannot become {target}")

    @property
    def final(self) -> frozenset[S]:
        """Return the states nothing moves out of."""
        return frozenset(s for s in type(self.initial) if not any(a == s for a, _ in self.moves))


class CaseStatus(StrEnum):
    """Whether a case is still on the journey."""

    OPEN = "open"
    CLOSED = "closed"


class TodoStatus(StrEnum):
    """A to-do is open until someone records its outcome."""

    OPEN = "open"
    DONE = "done"


class DeadlineStatus(StrEnum):
    """A deadline runs until its to-do is done (met or missed) or its obligation period closes."""

    OPEN = "open"
    MET = "met"
    MISSED = "missed"


class AlarmState(StrEnum):
    """A reminder or escalation step: each fires at most once."""

    PENDING = "pending"
    SUSPENDED = "suspended"  # the deadline's clock is stopped by a pause
    FIRED = "fired"
    SKIPPED = "skipped"  # a reminder reached after its deadline passed: the escalation says it better
    CANCELLED = "cancelled"  # the to-do was done (or the obligation period closed) first
    SUPERSEDED = "superseded"  # the deadline moved; its new revision has alarm rows of its own


class StepState(StrEnum):
    """An outcome recorded on a case, waiting for a flow (or the use case) to move the case on."""

    PENDING = "pending"
    APPLIED = "applied"
    PARKED = "parked"  # failed MAX_STEP_FAILURES times: waits for operations (`activation tick --retry-parked`)


class DeliveryState(StrEnum):
    """A notification to one receiver."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # refused for good or out of attempts; `activation notifications retry` revives it


class Verdict(StrEnum):
    """How a deadline is judged on the dashboard, in reports and after completion."""

    MET = "met"
    MISSED = "missed"
    EXCUSED = "excused"  # missed while a pause overlapped it, or the citizen did not show
    OPEN = "open"


CASE = Lifecycle.declare("case", CaseStatus.OPEN, [((CaseStatus.OPEN,), CaseStatus.CLOSED)])
TODO = Lifecycle.declare("to-do", TodoStatus.OPEN, [((TodoStatus.OPEN,), TodoStatus.DONE)])
DEADLINE = Lifecycle.declare(
    "deadline",
    DeadlineStatus.OPEN,
    [((DeadlineStatus.OPEN,), DeadlineStatus.MET), ((DeadlineStatus.OPEN,), DeadlineStatus.MISSED)],
)
_WAITING = (AlarmState.PENDING, AlarmState.SUSPENDED)
ALARM = Lifecycle.declare(
    "alarm",
    AlarmState.PENDING,
    [
        ((AlarmState.PENDING,), AlarmState.FIRED),
        ((AlarmState.PENDING,), AlarmState.SKIPPED),
        ((AlarmState.PENDING,), AlarmState.SUSPENDED),
        (_WAITING, AlarmState.CANCELLED),
        (_WAITING, AlarmState.SUPERSEDED),
    ],
)
STEP = Lifecycle.declare(
    "step",
    StepState.PENDING,
    [
        ((StepState.PENDING,), StepState.APPLIED),
        ((StepState.PENDING,), StepState.PARKED),
        ((StepState.PARKED,), StepState.PENDING),
    ],
)
DELIVERY = Lifecycle.declare(
    "delivery",
    DeliveryState.PENDING,
    [
        ((DeliveryState.PENDING,), DeliveryState.DELIVERED),
        ((DeliveryState.PENDING,), DeliveryState.DEAD),
        ((DeliveryState.DEAD,), DeliveryState.PENDING),
    ],
)

MAX_STEP_FAILURES = 3  # after this many failed attempts a step is parked for operations


def completed_in_time(due_at: datetime, paused_since: datetime | None, completed_at: datetime) -> bool:
    """Tell whether a to-do done at `completed_at` meets its deadline.

    A to-do done while its clock is stopped by a pause is in time by definition (README, Pauses).
    """
    return paused_since is not None or completed_at <= due_at


def closing_status(due_at: datetime, paused_since: datetime | None, completed_at: datetime) -> DeadlineStatus:
    """Return the status a deadline closes with when its to-do is done at `completed_at`."""
    return DeadlineStatus.MET if completed_in_time(due_at, paused_since, completed_at) else DeadlineStatus.MISSED


def is_overdue(status: str, due_at: datetime, paused_since: datetime | None, now: datetime) -> bool:
    """Tell whether something open is past its due time; a stopped clock is never overdue."""
    return status == TodoStatus.OPEN and paused_since is None and due_at < now


def firing_state(kind: str, deadline_due_at: datetime, now: datetime) -> AlarmState:
    """Return what a due alarm becomes when the sweep reaches it at `now`.

    A reminder whose deadline has already passed (the system was down, a replay) is skipped rather
    than sent: the escalation says it better.
    """
    return AlarmState.SKIPPED if kind == "reminder" and deadline_due_at <= now else AlarmState.FIRED


def step_state(applied: bool, failures: int) -> StepState:
    """Return a step's state from whether it was applied and how often it failed."""
    if applied:
        return StepState.APPLIED
    return StepState.PARKED if failures >= MAX_STEP_FAILURES else StepState.PENDING


def verdict(
    status: str, due_at: datetime, paused_since: datetime | None, now: datetime, excused: bool
) -> Verdict | None:
    """Judge a deadline at `now`: met, missed, excused or open (None: closed otherwise, not counted).

    `excused` says the case had a pause overlapping the deadline's window or the citizen did not
    show; a miss then is not the municipality's.
    """
    if status == DeadlineStatus.MET:
        return Verdict.MET
    if status == DeadlineStatus.MISSED or is_overdue(status, due_at, paused_since, now):
        return Verdict.EXCUSED if excused else Verdict.MISSED
    if status == DeadlineStatus.OPEN:
        return Verdict.OPEN
    return None
