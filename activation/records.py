"""What a caseworker records when completing a to-do: the assessment, the plan, a follow-up, the exit.

Each record is validated field by field before anything is written, so a form can show the error
next to the field and keep what was typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class CapacityBand(StrEnum):
    """Activity capacity (aktivitetsförmåga) as a band of a 40-hour week (004 L1918-1924, L1951-1957)."""

    UP_TO_25 = "1-25"
    UP_TO_50 = "26-50"
    UP_TO_75 = "51-75"
    UP_TO_100 = "76-100"

    @property
    def hours_per_week(self) -> int:
        """Return the hours a week the band allows: 10, 20, 30 or 40."""
        return {"1-25": 10, "26-50": 20, "51-75": 30, "76-100": 40}[self.value]


class Barrier(StrEnum):
    """Barriers to work as scored in Linköping's 2018 survey (004 L2358-2362)."""

    PHYSICAL_HEALTH = "physical_health"
    MENTAL_HEALTH = "mental_health"
    MOTIVATION = "motivation"
    HOUSING = "housing"
    FAMILY = "family"
    LEGAL = "legal"
    LIFESTYLE = "lifestyle"
    DEBTS = "debts"
    LANGUAGE = "language"
    OTHER = "other"


class LadderStep(StrEnum):
    """The progression ladder (Funktionstrappan, 004 L2138-2229), lowest first."""

    BASIC_NEEDS = "basic_needs"
    PLANNING_STRUCTURE = "planning_structure"
    DAY_ACTIVITY = "day_activity"
    WORK_REHABILITATION = "work_rehabilitation"
    WORK_WITH_SUPPORT = "work_with_support"
    SELF_SUPPORT = "self_support"


class ExitReason(StrEnum):
    """Why a citizen leaves the activation journey."""

    JOB = "job"
    EDUCATION = "education"
    FLEXJOB = "flexjob"
    DISABILITY_PENSION = "disability_pension"
    OTHER_BENEFIT = "other_benefit"
    SELF_SUPPORT = "self_support"
    MOVED = "moved"
    DECEASED = "deceased"


# Dates a caseworker records lie in this span; a typo like 9999-12-31 would otherwise overflow the
# deadline arithmetic downstream, after the to-do was already completed.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
# Two dates of one record more than this apart are a typo in the year (2020 for 2026), not a plan:
# plans are followed up within months and placements are time-limited (SoL 4 kap. 4 §, LAB § 27).
MAX_SPAN = timedelta(days=3 * 365 + 1)

END_AFTER_START = "ends_on must be after starts_on"
FOLLOW_UP_AFTER_SIGNING = "follow_up_on must be after signed_on"
TOO_FAR_APART = "the dates are more than 3 years apart; check the year"
FAR_FROM_SIGNING = "the activity's dates are more than 3 years from signed_on; check the year"

# Pydantic's words ("Input should be a valid string") said as a caseworker would; the pages translate
# these (web/todo_forms.py), the API answers with them. Types not listed keep Pydantic's message.
SAID = {
    "string_type": "Write a value here.",
    "enum": "Choose one of the options.",
    "literal_error": "Choose one of the options.",
    "int_type": "Write a whole number.",
    "int_parsing": "Write a whole number.",
    "int_from_float": "Write a whole number.",
    "date_parsing": "Write the date as year-month-day, e.g. 2026-12-31.",
    "date_from_datetime_parsing": "Write the date as year-month-day, e.g. 2026-12-31.",
    "date_from_datetime_inexact": "Write the date as year-month-day, e.g. 2026-12-31.",
    "date_type": "Write a date here.",
    "extra_forbidden": "This field is not part of the form.",
}


class FieldProblem(ValueError):
    """A problem a check across fields found, laid on one field (dotted, e.g. 'activities.0')."""

    def __init__(self, field: str, problem: str):
        self.field = field
        super().__init__(problem)


def date_problem(starts: date, ends: date, span: timedelta = MAX_SPAN) -> str | None:
    """Return what is wrong with a start and an end date, or None: the end comes after, and not years after."""
    if ends <= starts:
        return END_AFTER_START
    if ends - starts > span:
        return TOO_FAR_APART
    return None


def plan_date_problems(
    signed_on: date | None, follow_up_on: date | None, rows: Sequence[tuple[date | None, date | None]]
) -> dict[str, str]:
    """Return the plan's date problems by field; a date that is None (missing, unreadable) is not judged."""
    problems: dict[str, str] = {}
    # LAB § 27 / SoL: the plan is followed up after it is signed, with dates the citizen can act on.
    if signed_on and follow_up_on:
        if follow_up_on <= signed_on:
            problems["follow_up_on"] = FOLLOW_UP_AFTER_SIGNING
        elif follow_up_on - signed_on > MAX_SPAN:
            problems["follow_up_on"] = TOO_FAR_APART
    for n, (starts, ends) in enumerate(rows):
        row = date_problem(starts, ends) if starts and ends else None
        if row is None and signed_on and any(day and abs(day - signed_on) > MAX_SPAN for day in (starts, ends)):
            row = FAR_FROM_SIGNING
        if row:
            problems[f"activities.{n}"] = row
    return problems


def _day(value: Any) -> date | None:
    # A date outside the plausible years is that field's own problem; judging it against the
    # others too would say the same mistake twice (year 9999: "out of range" and "years apart").
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except (TypeError, ValueError):
            return None
    return value if EARLIEST <= value <= LATEST else None


def date_problems(record: str, data: dict[str, Any]) -> dict[str, str]:
    """Return the problems across a record's date fields in raw data, for the dates that can be read.

    Pydantic checks a record's fields together only once each field is valid; a caseworker who got
    one field wrong should still learn at once that the follow-up comes before the signing.
    """
    if record == "placement":
        starts, ends = _day(data.get("starts_on")), _day(data.get("ends_on"))
        problem = date_problem(starts, ends) if starts and ends else None
        return {"ends_on": problem} if problem else {}
    if record == "plan":
        rows = [r for r in data.get("activities") or [] if isinstance(r, dict)]
        days = [(_day(r.get("starts_on")), _day(r.get("ends_on"))) for r in rows]
        return plan_date_problems(_day(data.get("signed_on")), _day(data.get("follow_up_on")), days)
    return {}


class Record(BaseModel):
    """A record kept with an outcome."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plausible_date(cls, value: Any) -> Any:
        if isinstance(value, date) and not EARLIEST <= value <= LATEST:
            raise ValueError(f"a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}, please")
        return value


class Assessment(Record):
    """The holistic assessment (helhedsvurdering / kartläggning)."""

    health: str | None = Field(None, max_length=2000)
    social_situation: str | None = Field(None, max_length=2000)
    education: str | None = Field(None, max_length=2000)
    work_history: str | None = Field(None, max_length=2000)
    barriers: list[Barrier] = Field(default_factory=list)
    capacity_band: CapacityBand
    group: str | None = Field(None, description="target group after the assessment, e.g. activity_ready")

    @property
    def hours_per_week(self) -> int:
        """Return the activity hours a week the capacity allows."""
        return self.capacity_band.hours_per_week


class Activity(Record):
    """One activity of the plan: what, from when to when, who is responsible."""

    what: str = Field(..., min_length=2, max_length=200)
    starts_on: date
    ends_on: date  # SoL 4 kap. 4 §: time-limited, with an end date the person knows
    responsible: str = Field(..., min_length=2, max_length=100)

    @model_validator(mode="after")
    def _dates(self) -> Activity:
        problem = date_problem(self.starts_on, self.ends_on)
        if problem:
            raise ValueError(problem)  # said on the activity's row: both of its dates may be the typo
        return self


class Plan(Record):
    """The individual plan (DK Min Plan, LAB § 27; SE genomförandeplan), signed with the citizen."""

    goal: str = Field(..., min_length=3, max_length=500)
    sub_goals: list[str] = Field(default_factory=list)
    activities: list[Activity] = Field(..., min_length=1)
    follow_up_on: date
    signed_on: date
    intervention: str | None = Field(None, description="the placement planned, from the intervention catalogue")

    @field_validator("sub_goals")
    @classmethod
    def _sub_goals(cls, value: list[str]) -> list[str]:
        if any(not goal.strip() for goal in value):
            raise ValueError("sub-goals cannot be empty")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Plan:
        rows = [(a.starts_on, a.ends_on) for a in self.activities]
        for field, problem in plan_date_problems(self.signed_on, self.follow_up_on, rows).items():
            raise FieldProblem(field, problem)
        return self


class Placement(Record):
    """A placement that starts: which intervention, with whom, from when to when."""

    intervention: str = Field(..., description="a type from the municipality's intervention catalogue")
    provider: str = Field(..., min_length=2, max_length=200, description="employer or provider")
    starts_on: date
    ends_on: date  # SoL 4 kap. 4 §: time-limited, with an end date the person knows
    hours_per_week: int | None = Field(None, ge=1, le=40)

    @model_validator(mode="after")
    def _dates(self) -> Placement:
        problem = date_problem(self.starts_on, self.ends_on)
        if problem:
            raise FieldProblem("ends_on", problem)
        return self


class FollowUp(Record):
    """A follow-up meeting: the step reached on the progression ladder, and how life is going."""

    ladder_step: LadderStep
    life_mastery: dict[str, int] = Field(default_factory=dict, description="indicator -> 1..10")
    note: str | None = Field(None, max_length=2000)

    @field_validator("life_mastery")
    @classmethod
    def _scores(cls, value: dict[str, int]) -> dict[str, int]:
        for name, score in value.items():
            if not 1 <= score <= 10:
                raise ValueError(f"{name}: scores run from 1 to 10")
        return value


class ExitRecord(Record):
    """The exit: why, and from when."""

    reason: ExitReason
    note: str | None = Field(None, max_length=2000)


RECORDS: dict[str, type[Record]] = {
    "assessment": Assessment,
    "plan": Plan,
    "placement": Placement,
    "follow_up": FollowUp,
    "exit": ExitRecord,
}


class RecordError(ValueError):
    """A record with bad fields; `fields` maps each field to its problem."""

    def __init__(self, record: str, fields: dict[str, str]):
        self.record = record
        self.fields = fields
        super().__init__(f"{record}: " + "; ".join(f"{k}: {v}" for k, v in fields.items()))


def validate(record: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a record's fields; return them normalised for storage (JSON-safe)."""
    model = RECORDS[record]
    try:
        parsed = model.model_validate(data or {})
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for e in exc.errors():
            where, problem = _problem(e)
            fields.setdefault(where or record, problem)
        for where, problem in date_problems(record, data or {}).items():
            fields.setdefault(where, problem)
        raise RecordError(record, fields) from None
    return parsed.model_dump(mode="json")


def _problem(error: Any) -> tuple[str, str]:
    """Return where a Pydantic error belongs (dotted field) and what it says, in a caseworker's words."""
    where = [str(p) for p in error["loc"]]
    found = (error.get("ctx") or {}).get("error")
    if isinstance(found, FieldProblem):
        return ".".join([*where, found.field]), str(found)
    if error["type"] == "date_type" and error.get("input") not in (None, ""):
        return ".".join(where), SAID["date_parsing"]
    return ".".join(where), SAID.get(error["type"], error["msg"].removeprefix("Value error, "))
