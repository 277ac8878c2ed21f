"""When a caseworker holds meetings: weekly meeting hours, slot length, a daily cap and absences.

The office's calendar (opening hours, holidays, closing days) applies on top: a meeting slot lies
inside both the caseworker's meeting hours and the office's opening periods of that day. Borås plans
4 meetings a day, 4 days a week per caseworker (issue 15); Jobcenter Planner keeps working hours and
bookable slots alike. Pure: no storage, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from activation.calendar import BusinessCalendar, DayHours
from activation.errors import InputError

ABSENCE_KINDS = ("holiday", "sickness", "course")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES = (15, 240)  # as a booked meeting (activation/booking.py)
MAX_PER_DAY = 50
SEARCH_DAYS = 366


@dataclass(frozen=True)
class Absence:
    """A caseworker away for whole days, first to last inclusive: holiday, sickness or a course."""

    kind: str
    first: date
    last: date
    id: int | None = None

    def covers(self, day: date) -> bool:
        """Tell whether the caseworker is away on this day."""
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Availability:
    """A caseworker's meeting hours per weekday (0 = Monday), slot length and meetings-a-day cap."""

    username: str
    hours: Mapping[int, DayHours]
    slot_minutes: int = 60
    max_per_day: int | None = None
    absences: tuple[Absence, ...] = field(default=())

    def away(self, day: date) -> bool:
        """Tell whether an absence covers the day."""
        return any(a.covers(day) for a in self.absences)


@dataclass(frozen=True)
class StaffMember:
    """Whose availability it is: their role, municipality and team."""

    username: str
    role: str
    municipality: str | None
    team: str | None


@dataclass(frozen=True)
class Slot:
    """A free meeting time of one caseworker."""

    username: str
    starts_at: datetime
    ends_at: datetime


def parse_hours(text: Mapping[str, str]) -> dict[int, DayHours]:
    """Read {"mon": "09:00-12:00,13:00-15:00", ...}; an unknown day or a bad window is an InputError."""
    hours: dict[int, DayHours] = {}
    for day, windows in text.items():
        if day not in WEEKDAYS:
            raise InputError(f"{day!r} is not a weekday; use {', '.join(WEEKDAYS)}", {"hours": f"unknown day {day}"})
        try:
            hours[WEEKDAYS.index(day)] = DayHours.parse(windows)
        except ValueError as exc:
            raise InputError(f"{day}: {exc}", {"hours": str(exc)}) from None
    return hours


def format_hours(hours: Mapping[int, DayHours]) -> dict[str, str]:
    """Write meeting hours as parse_hours reads them, Monday first."""
    return {WEEKDAYS[d]: str(hours[d]) for d in sorted(hours)}


def checked(username: str, hours: Mapping[int, DayHours], slot_minutes: int, max_per_day: int | None) -> Availability:
    """Return an availability whose slot length and cap are in range, or raise an InputError naming the field."""
    low, high = SLOT_MINUTES
    if not low <= slot_minutes <= high:
        raise InputError(f"a slot lasts from {low} to {high} minutes", {"slot_minutes": f"from {low} to {high}"})
    if max_per_day is not None and not 1 <= max_per_day <= MAX_PER_DAY:
        raise InputError(f"meetings a day: 1 to {MAX_PER_DAY}", {"max_per_day": f"1 to {MAX_PER_DAY}"})
    return Availability(username, dict(hours), slot_minutes, max_per_day)


def checked_absence(kind: str, first: date, last: date) -> Absence:
    """Return an absence of a known kind whose last day is not before its first."""
    if kind not in ABSENCE_KINDS:
        raise InputError(f"{kind!r} is not an absence; use {', '.join(ABSENCE_KINDS)}", {"kind": "unknown"})
    if last < first:
        raise InputError("an absence ends on or after its first day", {"last": "before the first day"})
    if (last - first).days > SEARCH_DAYS:
        raise InputError("an absence lasts at most a year; add another for longer", {"last": "over a year"})
    return Absence(kind, first, last)


def day_slots(who: Availability, office: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    """Return the day's meeting slots: the caseworker's hours cut to the office's opening periods."""
    mine = who.hours.get(day.weekday())
    if mine is None or who.away(day):
        return []
    length = timedelta(minutes=who.slot_minutes)
    found = []
    for w in mine.windows:
        start = datetime.combine(day, w.opens, tzinfo=office.tz)
        end = datetime.combine(day, w.closes, tzinfo=office.tz)
        for opens, closes in office.windows(day):
            begin, stop = max(start, opens), min(end, closes)
            t = begin
            while t + length <= stop:
                found.append((t, t + length))
                t += length
    return found


def earliest_free_slot(
    people: Sequence[Availability],
    office: BusinessCalendar,
    now: datetime,
    by: datetime,
    booked: Mapping[str, Sequence[tuple[datetime, datetime]]],
) -> Slot | None:
    """Return the earliest free slot starting after now and no later than `by`, the first person's first.

    `people` is in order of preference (the responsible caseworker, then the team): the first one with
    a free slot by the deadline gets the meeting, so a case stays with its caseworker where it can.
    A slot is free when no booked meeting of theirs overlaps it and their day's cap is not reached.
    """
    for who in people:
        slot = _earliest_of(who, office, now, by, booked.get(who.username, ()))
        if slot is not None:
            return slot
    return None


def _earliest_of(
    who: Availability,
    office: BusinessCalendar,
    now: datetime,
    by: datetime,
    taken: Sequence[tuple[datetime, datetime]],
) -> Slot | None:
    for day in _days(office, now, by):
        if who.max_per_day is not None:
            held = sum(1 for begin, _end in taken if office.local(begin).date() == day)
            if held >= who.max_per_day:
                continue
        for start, end in day_slots(who, office, day):
            if start <= now or start > by:
                continue
            if not any(start < e and b < end for b, e in taken):
                return Slot(who.username, start, end)
    return None


def _days(office: BusinessCalendar, now: datetime, by: datetime) -> Iterator[date]:
    first = office.local(now).date()
    last = min(office.local(by).date(), first + timedelta(days=SEARCH_DAYS))
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if office.is_open_day(day):
            yield day
