"""The API's request and answer models for acting on a case: book, pause, resume, record an event, start, withdraw."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from activation.case_events import NOTE_MAX
from web.api.models import CODE, CaseSummary, PauseOut, Todo

NOTE = Field(
    default=None, max_length=NOTE_MAX, description="a short note for colleagues (no health details)", examples=["CV"]
)


class BookIn(BaseModel):
    """When and where a meeting to-do is held."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"starts_at": "2026-11-24T10:00:00+01:00", "minutes": 45, "place": "Rum 2"}]},
    )

    starts_at: AwareDatetime = Field(
        description="when it starts, with a time zone: inside the office's opening hours, still to come",
        examples=["2026-11-24T10:00:00+01:00"],
    )
    minutes: int = Field(default=60, ge=15, le=240, description="how long it lasts", examples=[45])
    place: str = Field(default="", max_length=200, description="where; the municipality if left empty")


class BookedOut(BaseModel):
    """The meeting booked and the invitation (with an .ics calendar file) queued for the citizen."""

    todo_id: str = Field(examples=["c-7k2m9qxa.0"])
    case_id: str = Field(examples=["c-7k2m9qxa"])
    starts_at: datetime
    minutes: int = Field(examples=[45])
    letter_id: str = Field(description="the invitation, rendered by the next letters run")
    after_deadline: bool = Field(description="the meeting is after the to-do's deadline: it will count as missed")


class CancelledOut(BaseModel):
    """The booked meeting called off and the cancellation (with an .ics CANCEL) queued for the citizen."""

    todo_id: str = Field(examples=["c-7k2m9qxa.0"])
    case_id: str = Field(examples=["c-7k2m9qxa"])
    starts_at: datetime = Field(description="the time that was booked")
    letter_id: str = Field(description="the cancellation, rendered by the next letters run")
    sequence: int = Field(description="the .ics SEQUENCE of the cancellation", examples=[1])


class PauseIn(BaseModel):
    """A legal ground that stops the case's clocks, from a start to an end (or until resumed)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"basis": "sickness", "starts_at": "2026-11-23T08:00:00+01:00"},
                {
                    "basis": "maternity_leave",
                    "starts_at": "2026-11-23T08:00:00+01:00",
                    "ends_at": "2027-03-01T00:00:00+01:00",
                },
            ]
        },
    )

    basis: str = Field(
        pattern=CODE, max_length=32, description="a pause basis of the municipality's rules", examples=["sickness"]
    )
    starts_at: AwareDatetime | None = Field(
        default=None, description="when the ground began (not in the future); now if left out"
    )
    ends_at: AwareDatetime | None = Field(
        default=None,
        description="when it ends, if known (the deadlines move at once); else the clocks stop until resumed",
    )
    note: str | None = NOTE


class ResumeIn(BaseModel):
    """The end of an open-ended pause."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ended_at": "2026-12-01T09:00:00+01:00"}]}
    )

    pause_id: str | None = Field(
        default=None,
        max_length=48,
        description="the pause; the case's open-ended one if left out",
        examples=["p-4m8kq2zd"],
    )
    ended_at: AwareDatetime | None = Field(
        default=None, description="when the ground ended (not in the future); now if left out"
    )


class DeadlineMove(BaseModel):
    """What a pause or its end did to one deadline."""

    deadline_id: str
    due_before: datetime
    due_after: datetime | None = Field(default=None, description="none while its clock is stopped")
    reason: str


class PausedOut(BaseModel):
    """The pause as recorded, and the deadlines it stopped or moved."""

    pause: PauseOut
    deadlines: list[DeadlineMove]


class EventIn(BaseModel):
    """A job conversation or an offer that happened outside the journey's stages."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "meeting", "occurred_at": "2026-11-23T08:30:00+01:00", "note": "CV and job search"},
                {"kind": "offer", "occurred_at": "2026-11-23T08:30:00+01:00", "key": "case-system-4711"},
                {"kind": "meeting", "contact_form": "phone", "held_by": "cw-02"},
            ]
        },
    )

    kind: Literal["meeting", "job_conversation", "offer"] = Field(  # activation/case_events.py KINDS
        description="meeting (a job conversation or follow-up meeting; job_conversation is the same) or offer",
        examples=["meeting"],
    )
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened (not in the future); now if left out"
    )
    note: str | None = NOTE
    key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
        description="an id of the client's choosing: the same key again records nothing new. Without one, the same"
        " kind at the same moment on the same case is the same event",
        examples=["case-system-4711"],
    )
    contact_form: Literal["in_person", "phone", "video", "digital"] | None = Field(  # case_events.CONTACT_FORMS
        default=None, description="how it was held: in_person (when left out), phone, video or digital"
    )
    held_by: str | None = Field(
        default=None,
        max_length=128,
        description="who held it: a user of the case's municipality who works cases; the caller when left out",
        examples=["cw-02"],
    )


class PeriodClosed(BaseModel):
    """An obligation period the event closed."""

    deadline_id: str
    status: str = Field(description="met when the event came by the due time (or while paused), else missed")


class PeriodOpened(BaseModel):
    """The obligation period that starts from the event."""

    deadline_id: str
    rule_key: str = Field(examples=["ekonomiskt_bistand.follow_up_meetings"])
    due_at: datetime


class EventOut(BaseModel):
    """The event as recorded and what it did to the obligation periods."""

    id: str = Field(examples=["c-7k2m9qxa/meeting/20261123T073000"])
    case_id: str = Field(examples=["c-7k2m9qxa"])
    kind: str = Field(examples=["meeting"])
    occurred_at: datetime
    contact_form: str | None = Field(examples=["phone"], description="in_person, phone, video or digital")
    held_by: str | None = Field(examples=["cw-02"], description="who held it")
    repeated: bool = Field(description="recorded before: nothing changed this time")
    closed: list[PeriodClosed]
    opened: list[PeriodOpened]


class StartIn(BaseModel):
    """What to start beside the journey."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"what": "health_information"}]})

    what: Literal["health_information", "coordinated_plan"] = Field(
        description="health_information (a consent to-do first, then the certificate) or coordinated_plan"
        " (DK rehabilitation plan, LAB § 30 a; SE SIP)"
    )


class WithdrawIn(BaseModel):
    """The confirmation that the citizen has withdrawn: the case closes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"confirm": True}]})

    confirm: Literal[True] = Field(description="must be true: a withdrawal closes the case and cannot be undone here")


class WithdrawnOut(BaseModel):
    """The journey to-do completed as withdrawn, and the closed case."""

    todo: Todo
    case: CaseSummary
