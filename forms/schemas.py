"""What each form needs; a bad context is refused field by field before anything is rendered."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from activation.records import FOLLOW_UP_AFTER_SIGNING, date_problem


class FormContext(BaseModel):
    """Fields every letter has."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(..., pattern=r"^c-[a-z0-9]{4,16}$", description="pseudonymous case id")
    municipality: str = Field(..., min_length=2)
    team: str = Field(..., min_length=2)
    timezone: str = "Europe/Stockholm"
    # The act the letter cites, from the rules of the case (never hard-coded in a template).
    legal_basis: str | None = Field(None, max_length=120)


class MeetingInvitation(FormContext):
    """An invitation to the first (or rebooked) meeting with a caseworker."""

    caseworker: str | None = None
    meeting_by: datetime
    rebooking: bool = False

    @field_validator("meeting_by")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("meeting_by needs a time zone")
        return value


SCHEMAS: dict[str, type[FormContext]] = {
    "meeting_invitation": MeetingInvitation,
}


class PlanActivity(BaseModel):
    """One line of the plan letter."""

    what: str
    starts_on: date
    ends_on: date
    responsible: str

    @model_validator(mode="after")
    def _dates(self) -> PlanActivity:
        # The letter says what the record said; a record checked by activation/records.py passes.
        problem = date_problem(self.starts_on, self.ends_on)
        if problem:
            raise ValueError(problem)
        return self


class PlanLetter(FormContext):
    """The signed individual plan, sent to the citizen (LAB § 27; SoL 4 kap. 4 §: end dates known)."""

    goal: str = Field(..., min_length=3)
    sub_goals: list[str] = Field(default_factory=list)
    activities: list[PlanActivity] = Field(..., min_length=1)
    follow_up_on: date
    signed_on: date

    @model_validator(mode="after")
    def _follow_up(self) -> PlanLetter:
        if self.follow_up_on <= self.signed_on:
            raise ValueError(FOLLOW_UP_AFTER_SIGNING)
        return self


SCHEMAS["plan_letter"] = PlanLetter


class AssessmentLetter(FormContext):
    """What the assessment found, sent to the citizen."""

    capacity_band: str
    barriers: list[str] = Field(default_factory=list)
    health: str | None = None
    social_situation: str | None = None
    education: str | None = None
    work_history: str | None = None


class PlacementAgreement(FormContext):
    """The placement agreed: provider, dates (SoL 4 kap. 4 §: an end date the citizen knows), hours."""

    intervention: str
    provider: str
    starts_on: date
    ends_on: date
    hours_per_week: int | None = None

    @model_validator(mode="after")
    def _dates(self) -> PlacementAgreement:
        problem = date_problem(self.starts_on, self.ends_on)
        if problem:
            raise ValueError(problem)
        return self


class FollowUpNote(FormContext):
    """A follow-up meeting's note: the step on the progression ladder."""

    ladder_step: str
    life_mastery: dict[str, int] = Field(default_factory=dict)
    note: str | None = None


class ExitSummary(FormContext):
    """The exit: why, and the check to come."""

    reason: str
    note: str | None = None


SCHEMAS.update(
    {
        "assessment_letter": AssessmentLetter,
        "placement_agreement": PlacementAgreement,
        "follow_up_note": FollowUpNote,
        "exit_summary": ExitSummary,
    }
)


class MeetingBooked(FormContext):
    """A booked meeting: the invitation, with an .ics file the citizen can put in a calendar."""

    caseworker: str | None = None
    starts_at: datetime
    minutes: int = Field(60, ge=15, le=240)
    place: str = Field(..., min_length=2)
    uid: str = Field(..., min_length=3)
    sequence: int = Field(0, ge=0)  # the .ics SEQUENCE: one more for each update of the same meeting
    stamped_at: datetime | None = None  # when the invitation was made (DTSTAMP); older letters lack it

    @field_validator("starts_at")
    @classmethod
    def _aware_start(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("starts_at needs a time zone")
        return value


class MeetingCancelled(MeetingBooked):
    """A booked meeting called off: the letter, with an .ics file that removes it from the calendar."""


SCHEMAS["meeting_booked"] = MeetingBooked
SCHEMAS["meeting_cancelled"] = MeetingCancelled


class NotificationEmail(FormContext):
    """The e-mail a receiver gets about an event: its kind, case id and times, never the citizen."""

    team: str | None = None  # type: ignore[assignment]  # an event is the municipality's, not a team's
    event: str
    id: str | None = None
    occurred_at: datetime | None = None
    rule_key: str | None = None
    notify_role: str | None = None
    step: int | None = None
    deadline_due_at: datetime | None = None
    form: str | None = None


SCHEMAS["notification_email"] = NotificationEmail
CALENDAR_FORMS = {"meeting_booked", "meeting_cancelled"}  # forms that come with an .ics attachment
