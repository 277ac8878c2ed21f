"""The API's request and answer models: applications, to-dos, cases, deadlines and pauses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from activation import access
from activation.model import Case, TodoView

# Codes of municipalities, teams and target groups as the rules name them.
CODE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# A reference as the municipality writes it: printable, not blank, no control characters.
CITIZEN_REF = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"


class ApplicationIn(BaseModel):
    """An application for social assistance that starts the activation journey."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "municipality": "karlskrona",
                    "citizen_ref": "KK-2026-00412",
                    "received_at": "2026-11-23T09:00:00+01:00",
                }
            ]
        },
    )

    municipality: str = Field(
        pattern=CODE, max_length=64, description="the municipality's code in the rules", examples=["karlskrona"]
    )
    citizen_ref: str = Field(
        min_length=1,
        max_length=128,
        pattern=CITIZEN_REF,
        description="the municipality's own reference for the citizen; the same reference twice opens one case",
        examples=["KK-2026-00412"],
    )
    team: str | None = Field(
        default=None, pattern=CODE, max_length=64, description="team code; the municipality's default team if left out"
    )
    caseworker: str | None = Field(
        default=None,
        pattern=access.USERNAME.pattern,
        max_length=64,
        description="username of the responsible caseworker in that team; the team queue if left out",
        examples=["cw-01"],
    )
    group: str | None = Field(
        default=None,
        pattern=CODE,
        max_length=48,
        description="target group code; the municipality's default if left out",
    )
    received_at: AwareDatetime | None = Field(
        default=None,
        description="when the application came in, with a time zone (not in the future, not before 2000); now if"
        " left out",
        examples=["2026-11-23T09:00:00+01:00"],
    )


class Recorded(BaseModel):
    """The case an application opened (or the one already open for that citizen)."""

    case_id: str = Field(description="the pseudonymous case id", examples=["c-7k2m9qxa"])
    created: bool = Field(description="false when the citizen already had a case here", examples=[True])
    municipality: str = Field(examples=["karlskrona"])


class Todo(BaseModel):
    """A to-do: what to do for a case, by when, and the outcomes it accepts."""

    id: str = Field(examples=["c-7k2m9qxa.0"])
    case_id: str = Field(examples=["c-7k2m9qxa"])
    municipality: str = Field(examples=["karlskrona"])
    kind: str = Field(examples=["first_meeting"])
    title: str = Field(examples=["Hold the first meeting"])
    stage: str = Field(examples=["first_meeting"])
    assignee: str = Field(description="a caseworker's username, or a queue such as 'queue:arbetsmarknad'")
    team: str = Field(examples=["arbetsmarknad"])
    status: str = Field(description="open or done", examples=["open"])
    outcomes: list[str] = Field(description="the outcomes completing it accepts", examples=[["held", "no_show"]])
    outcome: str | None = Field(default=None, description="the outcome it was completed with")
    due_at: datetime = Field(description="when it is due (UTC)")
    overdue: bool = Field(description="open past its due time with its clock running")
    paused_since: datetime | None = Field(default=None, description="set while a pause stops its deadline's clock")
    created_at: datetime
    completed_at: datetime | None = None
    rule_key: str | None = Field(default=None, description="the rule that set the deadline", examples=["first_meeting"])
    explanation: str | None = Field(
        default=None, description="why it is due then: the rule, its source and the calendar"
    )
    side: bool = Field(description="beside the journey (e.g. health information); does not move the case")

    @classmethod
    def of(cls, todo: TodoView, now: datetime) -> Todo:
        """Describe a to-do as the API shows it."""
        return cls(
            id=todo.id,
            case_id=todo.case_id,
            municipality=todo.municipality,
            kind=todo.kind,
            title=todo.title,
            stage=todo.stage,
            assignee=todo.assignee,
            team=todo.team,
            status=todo.status,
            outcomes=list(todo.outcomes),
            outcome=todo.outcome,
            due_at=todo.due_at,
            overdue=todo.overdue(now),
            paused_since=todo.paused_since,
            created_at=todo.created_at,
            completed_at=todo.completed_at,
            rule_key=todo.rule_key,
            explanation=todo.explanation,
            side=todo.side,
        )


class TodoList(BaseModel):
    """To-dos, soonest due first."""

    items: list[Todo]
    count: int = Field(description="how many items this answer holds (at most the limit)", examples=[1])


class CompleteIn(BaseModel):
    """The outcome of a to-do and, where the outcome needs one, its record."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"outcome": "held"},
                {"outcome": "completed", "data": {"capacity_band": "26-50", "barriers": ["housing"]}},
            ]
        },
    )

    outcome: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="one of the to-do's outcomes", examples=["held"]
    )
    data: dict[str, Any] | None = Field(
        default=None,
        description="the record the outcome needs (assessment, plan, placement, follow_up or exit), as the forms"
        " define it; leave out for an outcome without one",
    )


class CaseSummary(BaseModel):
    """A case at a glance."""

    id: str = Field(examples=["c-7k2m9qxa"])
    municipality: str = Field(examples=["karlskrona"])
    citizen_ref: str = Field(description="the municipality's own reference for the citizen")
    team: str = Field(examples=["arbetsmarknad"])
    caseworker: str | None = Field(default=None, description="the responsible caseworker; none while in the team queue")
    stage: str = Field(examples=["first_meeting"])
    stage_entered_at: datetime
    status: str = Field(examples=["open"])
    group: str = Field(description="the target group whose obligations apply", examples=["activity_ready"])

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        """Describe a case as the API shows it."""
        return cls(
            id=case.id,
            municipality=case.municipality,
            citizen_ref=case.citizen_ref,
            team=case.team,
            caseworker=case.caseworker,
            stage=case.stage,
            stage_entered_at=case.stage_entered_at,
            status=case.status,
            group=case.group,
        )


class Completed(BaseModel):
    """The completed to-do and where its case stands now."""

    todo: Todo
    case: CaseSummary
    open_todos: list[Todo] = Field(description="the case's open to-dos after it moved on")


class DeadlineChange(BaseModel):
    """A revision of a deadline: a pause moved it or stopped its clock."""

    revision: int
    changed_at: datetime
    due_before: datetime
    due_after: datetime | None = Field(
        default=None, description="none while the clock is stopped by an open-ended pause"
    )
    reason: str


class Deadline(BaseModel):
    """An open deadline and why it falls when it does."""

    id: str
    todo_id: str | None = Field(default=None, description="the to-do it belongs to; none for an obligation's deadline")
    rule_key: str = Field(examples=["first_meeting"])
    start_event: str = Field(examples=["application received"])
    started_at: datetime
    due_at: datetime
    calendar: str
    config_version: str
    paused_since: datetime | None = None
    explanation: str = Field(description="the rule, its legal source and the calendar arithmetic")
    history: list[DeadlineChange]


class PauseOut(BaseModel):
    """A period when the citizen's deadlines stop counting."""

    id: str
    basis: str = Field(examples=["sickness"])
    starts_at: datetime
    ends_at: datetime | None = Field(default=None, description="none while the end is not known")
    active: bool = Field(description="covers the moment of this answer")


class CaseOut(BaseModel):
    """A case: its summary, open to-dos, open deadlines with their explanation, and pauses."""

    case: CaseSummary
    open_todos: list[Todo]
    open_deadlines: list[Deadline]
    pauses: list[PauseOut]
