"""The read side: what pages, reports and the CLI show, as typed views, and the port that reads them.

Each view has the fields of the rows it shows, in the order the CLI's `--json` prints them; the
reads write nothing and are not part of a unit of work (activation/adapters/sql_reads.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from activation.lifecycle import is_overdue


@dataclass(frozen=True)
class CaseLine:
    """A case as stored: where it is on the journey and who holds it."""

    id: str
    municipality: str
    citizen_ref: str
    team: str
    caseworker: str | None
    stage: str
    stage_entered_at: datetime
    status: str
    created_at: datetime
    target_group: str
    obligations_since: datetime | None


@dataclass(frozen=True)
class StepLine:
    """An outcome recorded on a case, and whether a flow has applied it."""

    id: int
    case_id: str
    seq: int
    from_stage: str
    outcome: str
    todo_id: str | None
    occurred_at: datetime
    recorded_by: str
    applied_at: datetime | None
    failures: int
    last_error: str | None
    data: dict[str, Any] | None  # the record filled in with the outcome (activation/records.py)


@dataclass(frozen=True)
class TodoLine:
    """A to-do as stored, open or done."""

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
    status: str
    outcome: str | None
    due_at: datetime
    created_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    side: bool


@dataclass(frozen=True)
class DeadlineChangeLine:
    """One revision of a deadline: a pause stopped or moved it, or a rule version recomputed it."""

    id: int
    deadline_id: str
    revision: int
    changed_at: datetime
    due_before: datetime
    due_after: datetime | None  # None: the clock stopped
    reason: str


@dataclass(frozen=True)
class AlarmLine:
    """A reminder or escalation step of a deadline and its state."""

    id: str
    deadline_id: str
    kind: str
    step: int
    offset_label: str
    recipient: str
    fires_at: datetime
    state: str
    fired_at: datetime | None


@dataclass(frozen=True)
class CaseDeadline:
    """A deadline of a case with why it falls then, its revisions and its alarms."""

    id: str
    case_id: str
    todo_id: str | None
    rule_key: str
    config_version: str
    calendar: str
    start_event: str
    started_at: datetime
    due_at: datetime
    status: str
    closed_at: datetime | None
    explanation: str
    revision: int
    paused_since: datetime | None
    history: tuple[DeadlineChangeLine, ...]
    alarms: tuple[AlarmLine, ...]


@dataclass(frozen=True)
class PauseLine:
    """A pause of a case as recorded."""

    id: str
    case_id: str
    basis: str
    starts_at: datetime
    ends_at: datetime | None
    note: str | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class CaseworkerChangeLine:
    """A caseworker made responsible for a case (previous None: taken from the team queue)."""

    id: int
    case_id: str
    previous: str | None
    caseworker: str
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True)
class NotificationLine:
    """A reminder, escalation or alert sent about a case."""

    id: str
    case_id: str
    kind: str
    step: int
    notify_role: str
    recipient: str
    rule_key: str
    deadline_due_at: datetime
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class LetterLine:
    """A letter queued for a case, and whether it is rendered yet."""

    id: str
    form: str
    language: str
    created_at: datetime
    rendered_at: datetime | None


@dataclass(frozen=True)
class CaseDetail:
    """Everything about one case: steps, to-dos, deadlines with history and alarms, pauses, who was told."""

    case: CaseLine
    steps: tuple[StepLine, ...]
    todos: tuple[TodoLine, ...]
    deadlines: tuple[CaseDeadline, ...]
    pauses: tuple[PauseLine, ...]
    caseworker_changes: tuple[CaseworkerChangeLine, ...]
    notifications: tuple[NotificationLine, ...]
    letters: tuple[LetterLine, ...]


@dataclass(frozen=True)
class DeadlineLine:
    """An open deadline in a list: a to-do's or an obligation period's (todo_id None)."""

    id: str
    case_id: str
    municipality: str
    team: str
    todo_id: str | None
    rule_key: str
    due_at: datetime
    paused_since: datetime | None
    config_version: str
    explanation: str


@dataclass(frozen=True)
class RuleChangeRecord:
    """A rule version applied to a municipality's running cases, with the preview's figures as applied."""

    municipality: str
    version: str
    stamp: str
    applied_at: datetime
    applied_by: str
    moved: int
    summary: dict[str, Any]  # ChangePreview.summary(): free-form figures, shown as they were


@dataclass(frozen=True)
class OpenDeadlineOfRule:
    """An open deadline a new rule version may move, with what moving it needs to know."""

    id: str
    case_id: str
    rule_key: str
    config_version: str
    start_event: str
    started_at: datetime
    due_at: datetime
    revision: int
    paused_since: datetime | None
    assignee: str | None  # None for an obligation period: its alarms go to the case's holder
    stage: str | None
    team: str
    caseworker: str | None
    opened_at: datetime
    fired_steps: frozenset[str]  # alarm steps already fired or skipped, e.g. {"r1", "e1"}


# -- the inbox, the team view and search (issue 12) --------------------------------------------

SORTS = ("due", "case", "stage")  # every list: by this, then soonest due first


@dataclass(frozen=True)
class WorkFilter:
    """Which open work a list shows (whose, which stage, kind and target group, due when) and which page of it."""

    municipality: str
    team: str | None = None
    holders: tuple[str, ...] | None = None  # to-dos these hold (a caseworker, queue:<team>); None: anyone's
    stage: str | None = None
    kind: str | None = None  # a to-do's kind, or an obligation's cadence (offer, follow_up_meetings, ...)
    group: str | None = None  # the case's target group
    due_from: datetime | None = None  # due at or after this; a window leaves out stopped clocks
    due_before: datetime | None = None  # due before this
    sort: str = "due"
    offset: int = 0
    limit: int = 25
    # No other municipality has a team of this code: the to-dos' team and queue names alone say whose
    # they are, so counting them needs no look at each to-do's case (activation/worklists.py decides).
    team_unique: bool = False


@dataclass(frozen=True)
class DueWindows:
    """The moments the inbox counts from: now, the end of today and the end of this week, local time."""

    now: datetime
    day_end: datetime
    week_end: datetime


@dataclass(frozen=True)
class WorkLine:
    """An open to-do or obligation period in a list, with the citizen's reference of its case."""

    id: str  # the to-do's id, or the obligation period's deadline id
    case_id: str
    citizen_ref: str
    municipality: str
    team: str
    todo_id: str | None  # None: an obligation period (a meeting or offer the target group is owed)
    kind: str  # the to-do's kind; an obligation's rule key '<group>.<cadence>'
    title: str
    stage: str  # the to-do's stage; for an obligation the case's
    holder: str  # the to-do's assignee; for an obligation the case's caseworker, else the team queue
    group: str
    due_at: datetime
    paused_since: datetime | None

    def overdue(self, now: datetime) -> bool:
        """Tell whether it is past due with its clock running."""
        return is_overdue("open", self.due_at, self.paused_since, now)


@dataclass(frozen=True)
class WorkCounts:
    """How many open items a filter matches; of them overdue, due later today and due later this week."""

    total: int
    overdue: int
    today: int
    week: int


@dataclass(frozen=True)
class CaseloadLine:
    """One holder's load in a team (caseworker None: the team queue)."""

    caseworker: str | None
    open_cases: int
    open_todos: int
    overdue_todos: int
    overdue_obligations: int


class Reads(Protocol):
    """The reads pages, reports and the CLI need; they write nothing."""

    def case_detail(self, case_id: str) -> CaseDetail | None:
        """Return everything about one case: steps, to-dos, deadlines with history and alarms, pauses."""
        ...

    def list_deadlines(
        self,
        case_id: str | None = None,
        municipality: str | None = None,
        overdue_at: datetime | None = None,
        obligations_only: bool = False,
        limit: int = 200,
    ) -> list[DeadlineLine]:
        """Return open deadlines, to-dos' and obligations', soonest due first."""
        ...

    def rule_changes(self, municipality: str) -> list[RuleChangeRecord]:
        """Return the rule versions applied to a municipality's running cases, newest first."""
        ...

    def occupancy(self, municipality: str, on: date) -> dict[str, int]:
        """Return how many placements of each intervention are running on a day."""
        ...

    def work_todos(self, query: WorkFilter) -> list[WorkLine]:
        """Return one page of open to-dos matching the filter, in its order."""
        ...

    def count_todos(self, query: WorkFilter, windows: DueWindows) -> WorkCounts:
        """Count the open to-dos matching the filter, and how many are overdue, due today, due this week."""
        ...

    def work_obligations(self, query: WorkFilter) -> list[WorkLine]:
        """Return one page of open obligation periods of open cases matching the filter, in its order."""
        ...

    def count_obligations(self, query: WorkFilter, windows: DueWindows) -> WorkCounts:
        """Count the open obligation periods matching the filter, and how many are overdue, due today, this week."""
        ...

    def case_holders(self, municipality: str, team: str) -> list[str]:
        """Return who holds an open case of the team (not the queue), in username order."""
        ...

    def caseload(
        self, municipality: str, team: str, caseworkers: Sequence[str], now: datetime, team_unique: bool = False
    ) -> dict[str | None, tuple[int, int, int, int]]:
        """Return open cases, open and overdue to-dos and overdue obligations of the queue (None) and these people."""
        ...

    def find_cases(
        self, municipality: str | None, case_ids: Sequence[str], citizen_ref: str | None, limit: int = 10
    ) -> list[CaseLine]:
        """Return the cases with one of these ids, or (in the municipality) with this citizen reference."""
        ...
