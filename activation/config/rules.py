"""Rule models: calendars, deadlines, cadences, target groups, interventions, pauses, teams."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any, Literal

import holidays
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

from activation import journey
from activation.calendar import DAY_UNITS, WEEKDAYS, DayHours, Window
from activation.durations import Duration, DurationError


def _positive_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        parsed = value
    else:
        try:
            parsed = Duration.parse(str(value))
        except DurationError as exc:
            raise ValueError(str(exc)) from None
    if parsed.amount <= 0:
        raise ValueError(f"{value!r}: a duration must be positive")
    return parsed


PositiveDuration = Annotated[Duration, PlainValidator(_positive_duration), PlainSerializer(str)]


def _window(value: Any) -> Window:
    return value if isinstance(value, Window) else Window.parse(str(value))


OpeningWindow = Annotated[Window, PlainValidator(_window), PlainSerializer(str)]


def _day_hours(value: Any) -> DayHours:
    return value if isinstance(value, DayHours) else DayHours.parse(str(value))


# "08:00-15:30", or several opening periods a day: "08:00-12:00,13:00-15:30" (a lunch break).
OpeningHours = Annotated[DayHours, PlainValidator(_day_hours), PlainSerializer(str)]


def _clock(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 12:00 as a number of minutes (720)
        value = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a clock time like '12:00'") from None


ClockTime = Annotated[time, PlainValidator(_clock), PlainSerializer(lambda t: f"{t:%H:%M}")]


def _date_text(value: Any) -> Any:
    # YAML reads an unquoted 2026-06-19 as a date; accept it as the text it was meant to be.
    return value.isoformat() if isinstance(value, date) else value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalendarRules(Strict):
    """Public holidays, own closing days and opening hours of an office."""

    holidays: str | None = Field(None, description="country code for public holidays, e.g. DK, SE")
    # The `holidays` package's categories for the country: SE "de_facto" adds midsommarafton,
    # julafton and nyårsafton, which are not public holidays but days offices close.
    holiday_categories: list[str] = Field(default_factory=lambda: ["public"])
    opening_hours: dict[str, OpeningHours]
    closing_days: list[Annotated[str, BeforeValidator(_date_text)]] = Field(
        default_factory=list, description="YYYY-MM-DD or MM-DD (yearly)"
    )
    early_closing: dict[Annotated[str, BeforeValidator(_date_text)], ClockTime] = Field(
        default_factory=dict, description="YYYY-MM-DD or MM-DD (yearly) -> the closing time that day"
    )

    @model_validator(mode="after")
    def _check(self) -> CalendarRules:
        for day in self.opening_hours:
            if day not in WEEKDAYS:
                raise ValueError(f"opening_hours: unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        for text in self.closing_days:
            _parse_closing_day(text)
        for text in self.early_closing:
            _parse_closing_day(text, "early_closing")
        if self.holidays:
            try:
                supported = holidays.country_holidays(self.holidays).supported_categories
            except NotImplementedError:
                raise ValueError(f"holidays: {self.holidays!r} is not a country the holidays package knows") from None
            unknown = [c for c in self.holiday_categories if c not in supported]
            if unknown:
                raise ValueError(
                    f"holiday_categories: {', '.join(unknown)} not offered for {self.holidays}; "
                    f"categories: {', '.join(sorted(supported))}"
                )
        return self


def _parse_closing_day(text: str, key: str = "closing_days") -> date | tuple[int, int]:
    try:
        if len(text) == 5:  # MM-DD, every year
            month, day = (int(x) for x in text.split("-"))
            date(2024, month, day)  # a leap year accepts 02-29
            return (month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not YYYY-MM-DD or MM-DD") from None


class EscalationStep(Strict):
    """Whom to notify, how long after a missed deadline."""

    after: PositiveDuration
    notify: str

    @model_validator(mode="after")
    def _role(self) -> EscalationStep:
        if self.notify not in journey.ROLES:
            raise ValueError(f"notify: unknown role {self.notify!r}; roles are {', '.join(journey.ROLES)}")
        return self


class DeadlineRule(Strict):
    """How long a to-do may take, and who hears about it before and after."""

    due: PositiveDuration
    remind_before: list[PositiveDuration] = Field(default_factory=list)
    escalate_after: list[EscalationStep] = Field(default_factory=list)
    calendar: str = "office"
    extend_when_closed: bool = True
    # Days, weeks, months: due at the end of the last day (23:59:59), as administrative practice counts.
    end_of_day: bool = False
    source: str = Field(..., min_length=3, description="where the rule comes from (law, local decision)")
    local_choice: bool = False  # True where the sources give no number and we chose one
    # After a pause the clock resumes with the time that was left, unless the rule restarts it:
    # LAB § 91a, an offer at the latest one month after the reasonable ground ends.
    restart_after_pause: PositiveDuration | None = None
    restart_source: str | None = None

    @model_validator(mode="after")
    def _order(self) -> DeadlineRule:
        for i, before in enumerate(self.remind_before):
            if before.nominal_hours >= self.due.nominal_hours:
                raise ValueError(
                    f"remind_before[{i}]: a reminder {before} before a {self.due} deadline would fire"
                    " before the deadline starts (or after it); make it shorter than the deadline"
                )
        if self.end_of_day and self.due.unit not in DAY_UNITS:
            raise ValueError(f"end_of_day: only for days, weeks and months, not {self.due.unit.value}")
        if self.restart_after_pause and not self.restart_source:
            raise ValueError("restart_source: required with restart_after_pause (cite the rule)")
        previous = 0.0
        for i, step in enumerate(self.escalate_after):
            if step.after.nominal_hours <= previous:
                raise ValueError(f"escalate_after[{i}]: escalation steps must come later one after another")
            previous = step.after.nominal_hours
        return self


class CadenceRule(DeadlineRule):
    """An obligation that recurs: `at_least` events in any rolling `due` window.

    With at_least 1 it is a maximum gap: the next meeting or offer within `due` of the last one
    (the first within `first_due` of the application, if given). With `window: first_period` it is
    counted once per run instead: `at_least` events within the first `due` of the run (LAB § 31
    stk. 3: 4 job conversations in the first 6 months), restarting with the run. Each period is a
    deadline row with reminders and an escalation ladder like any other.
    """

    event: str
    at_least: int = Field(1, ge=1)
    window: Literal["rolling", "first_period"] = "rolling"
    first_due: PositiveDuration | None = None
    on_change_due: PositiveDuration | None = None  # the first event after a change of target group
    label: str

    @model_validator(mode="after")
    def _event(self) -> CadenceRule:
        if self.event not in journey.EVENTS:
            raise ValueError(f"event: unknown event {self.event!r}; events are {', '.join(journey.EVENTS)}")
        if self.first_due and self.at_least > 1:
            raise ValueError("first_due: only for a maximum gap (at_least 1)")
        if self.window == "first_period":
            # The first period is `due` from the start of the run: a second "first" length would contradict it.
            for name in ("first_due", "on_change_due"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name}: not with window first_period (its length is `due`, from the run's start)"
                    )
        for i, before in enumerate(self.remind_before):
            for name, first in (("first_due", self.first_due), ("on_change_due", self.on_change_due)):
                if first and before.nominal_hours >= first.nominal_hours:
                    raise ValueError(f"remind_before[{i}]: a reminder {before} is not shorter than {name} {first}")
        return self


class Group(Strict):
    """A target group (e.g. activity-ready on kontanthjælp) with its own obligations."""

    name: str
    source: str = Field(..., min_length=3)
    cadences: dict[str, CadenceRule] = Field(default_factory=dict)


class Intervention(DeadlineRule):
    """A placement type of the intervention catalogue: how soon it must start, how many places."""

    name: str
    capacity: int | None = Field(None, ge=0, description="places; None: not limited")
    max_length: PositiveDuration | None = None  # the longest a placement may run (e.g. LAB § 75 a: 6 weeks)
    max_length_source: str | None = None
    min_length: PositiveDuration | None = None  # the shortest (e.g. LAB § 31 b: at least 6 months)
    min_length_source: str | None = None


class PauseBasis(Strict):
    """A legal ground on which a citizen's deadlines stop counting."""

    source: str = Field(..., min_length=3)


class ContinuityAlert(Strict):
    """Alert when a case changes caseworker too often (a change lowers job chances, Rosholm 2018)."""

    max_changes: int = Field(..., ge=0)
    within: PositiveDuration
    notify: str = "team_lead"
    source: str = Field(..., min_length=3)
    local_choice: bool = False

    @model_validator(mode="after")
    def _role(self) -> ContinuityAlert:
        if self.notify not in journey.ROLES:
            raise ValueError(f"notify: unknown role {self.notify!r}; roles are {', '.join(journey.ROLES)}")
        return self


class StageSettings(Strict):
    """A municipality's choices for one stage."""

    todo_role: str | None = None  # who gets the stage's to-do (default: the journey's role)


class Team(Strict):
    """A caseworker team with its own queue."""

    name: str
