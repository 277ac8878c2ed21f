"""The records a case leaves behind: cases, journey steps, to-dos, deadlines, alarms, letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from activation.lifecycle import closing_status, is_overdue


@dataclass(frozen=True)
class Case:
    """A citizen's case, known to flows and logs only by its pseudonymous id."""

    id: str
    municipality: str
    citizen_ref: str  # the municipality's own reference; never logged, never a flow parameter
    team: str
    caseworker: str | None
    stage: str
    stage_entered_at: datetime
    status: str = "open"
    group: str = ""  # the target group whose obligations apply (config: groups)
    obligations_since: datetime | None = None  # when the current run of obligations began
    opened_at: datetime | None = None  # when the case was opened (a `keep` rule version grandfathers it)

    @property
    def assignee(self) -> str:
        """Return who gets caseworker to-dos: the responsible caseworker, else the team queue."""
        return self.caseworker or team_queue(self.team)


def team_queue(team: str) -> str:
    """Name the shared queue of a team."""
    return f"queue:{team}"


def recipient_for(role: str, assignee: str, case: Case) -> str:
    """Return who an alarm notifies: reminders the to-do's holder, escalations up the team's ladder."""
    if role == "caseworker":
        return assignee
    if role == "manager":
        return f"manager:{case.municipality}"
    return f"{role}:{case.team}"


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


@dataclass(frozen=True)
class Step:
    """An outcome recorded on a case, waiting for a flow to move the case on."""

    id: int
    case_id: str
    seq: int
    from_stage: str
    outcome: str
    occurred_at: datetime
    todo_id: str | None = None
    failures: int = 0
    last_error: str | None = None
    data: dict[str, Any] | None = None  # the record filled in with the outcome (activation/records.py)


@dataclass(frozen=True)
class TodoRecord:
    """A caseworker to-do as created by a journey step."""

    id: str
    case_id: str
    step_id: int
    kind: str
    title: str
    stage: str
    role: str
    assignee: str
    team: str
    outcomes: tuple[str, ...]
    due_at: datetime
    created_at: datetime
    side: bool = False  # beside the journey: completing it does not move the case (e.g. a wrap-up)


@dataclass(frozen=True)
class DeadlineRecord:
    """A durable deadline row with the rule and config version that produced it."""

    id: str
    case_id: str
    todo_id: str | None  # None for an obligation period (a meeting or offer cadence)
    rule_key: str
    config_version: str
    calendar: str
    start_event: str
    started_at: datetime
    due_at: datetime
    explanation: str


@dataclass(frozen=True)
class AlarmRecord:
    """One reminder or escalation step; its id makes it exist at most once."""

    id: str
    deadline_id: str
    case_id: str
    kind: str
    step: int
    offset: str
    notify_role: str
    recipient: str
    fires_at: datetime
    deadline_due_at: datetime


@dataclass(frozen=True)
class LetterRequest:
    """A letter or form to render from forms/ for a to-do."""

    id: str
    case_id: str
    todo_id: str
    form: str
    language: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SideWork:
    """A to-do with its deadline and alarms."""

    todo: TodoRecord
    deadline: DeadlineRecord
    alarms: tuple[AlarmRecord, ...]


@dataclass(frozen=True)
class Progress:
    """Everything one applied step writes, in one transaction."""

    step_id: int
    case_id: str
    new_stage: str
    stage_entered_at: datetime
    closed: bool
    new_group: str | None = None  # the assessment moved the case to another target group
    todo: TodoRecord | None = None
    deadline: DeadlineRecord | None = None
    alarms: tuple[AlarmRecord, ...] = ()
    letters: tuple[LetterRequest, ...] = ()
    also: tuple[SideWork, ...] = ()  # to-dos beside the journey's own (a placement's wrap-up)
    placement: dict[str, Any] | None = None  # a placement that starts (occupancy of the catalogue)


@dataclass(frozen=True)
class TodoView:
    """A to-do as the inbox shows it."""

    id: str
    case_id: str
    municipality: str
    kind: str
    title: str
    stage: str
    assignee: str
    team: str
    status: str
    outcomes: tuple[str, ...]
    outcome: str | None
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    deadline_id: str | None
    rule_key: str | None
    config_version: str | None
    explanation: str | None
    paused_since: datetime | None = None
    side: bool = False
    step_id: int = 0  # the journey step that created it
    repeated: bool = False  # this answer repeats an earlier completion with the same outcome: nothing changed

    def verdict(self) -> str | None:
        """Return how the to-do's deadline closed (met or missed), or None while it is open."""
        if self.completed_at is None:
            return None
        return closing_status(self.due_at, self.paused_since, self.completed_at).value

    def overdue(self, now: datetime) -> bool:
        """Tell whether the to-do is open past its due time (a paused clock is never overdue)."""
        return is_overdue(self.status, self.due_at, self.paused_since, now)


@dataclass(frozen=True)
class FiredAlarm:
    """An alarm the sweep fired (or would fire, in a dry run)."""

    id: str
    case_id: str
    kind: str
    step: int
    notify_role: str
    recipient: str
    fires_at: datetime
    deadline_due_at: datetime
    rule_key: str


@dataclass
class SweepReport:
    """What one sweep did."""

    fired_reminders: int = 0
    fired_escalations: int = 0
    skipped_reminders: int = 0  # due reminders whose deadline had already passed
    batches: int = 0
    fired: list[FiredAlarm] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Count alarms fired."""
        return self.fired_reminders + self.fired_escalations


@dataclass(frozen=True)
class Pause:
    """A period when a citizen's deadlines stop counting, on a legal ground."""

    id: str
    case_id: str
    basis: str
    starts_at: datetime
    ends_at: datetime | None  # None while the end is not known
    note: str | None = None
    recorded_by: str = "caseworker"

    def active_at(self, moment: datetime) -> bool:
        """Tell whether the pause covers a moment."""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)

    def overlaps(self, starts_at: datetime, ends_at: datetime | None) -> bool:
        """Tell whether another period overlaps this pause."""
        mine_end = self.ends_at or datetime.max.replace(tzinfo=starts_at.tzinfo)
        other_end = ends_at or datetime.max.replace(tzinfo=starts_at.tzinfo)
        return starts_at < mine_end and self.starts_at < other_end


@dataclass(frozen=True)
class OpenDeadline:
    """A deadline still running (or stopped by a pause)."""

    id: str
    case_id: str
    todo_id: str | None
    rule_key: str
    started_at: datetime
    due_at: datetime
    revision: int
    paused_since: datetime | None
    assignee: str = ""


@dataclass(frozen=True)
class DeadlineRevision:
    """A change to a deadline, kept as history; due_after None means the clock stopped."""

    deadline_id: str
    revision: int
    due_before: datetime
    due_after: datetime | None
    reason: str
    alarms: tuple[AlarmRecord, ...] = ()
    paused_since: datetime | None = None  # set when the revision stops the clock
    config_version: str | None = None  # set when a new rule version recomputed the deadline


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log: who did what to which case, when and through what."""

    username: str
    role: str
    action: str
    case_id: str | None
    municipality: str | None
    via: str
    detail: str | None = None


@dataclass(frozen=True)
class Exemption:
    """A case exempted from a coverage target: the reason, by whom and when."""

    case_id: str
    municipality: str
    target: str
    reason: str
    recorded_by: str
    recorded_at: datetime
    note: str | None = None


@dataclass(frozen=True)
class WeekPlan:
    """A case's planned activities for one week (work duty, LAB kap. 16 a), against the hours required."""

    case_id: str
    week_start: date  # a Monday
    required_hours: float
    activities: tuple[tuple[str, float], ...]  # (activity, hours)
    recorded_by: str
    recorded_at: datetime

    @property
    def planned_hours(self) -> float:
        """Return the hours planned in all."""
        return sum(hours for _, hours in self.activities)


@dataclass(frozen=True)
class Actor:
    """Who acts on a case and through what ("web", "api", "cli"): the use case writes their audit line."""

    username: str
    role: str
    via: str

    def line(self, action: str, case: Case, detail: str) -> AuditEntry:
        """Return the audit line of one action of theirs on a case (written in the action's transaction)."""
        return AuditEntry(self.username[:64], self.role, action, case.id, case.municipality, self.via, detail[:500])
