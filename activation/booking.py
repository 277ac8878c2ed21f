"""Book the time of a meeting to-do: the citizen gets an invitation with an .ics file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from activation import journey
from activation.calendar import BusinessCalendar
from activation.config import Municipality, RuleBook
from activation.durations import Duration
from activation.errors import ConflictError, InputError, NotFoundError
from activation.lifecycle import TodoStatus
from activation.model import Actor, LetterRequest
from activation.ports import Store


@dataclass(frozen=True)
class SelfBookingWindow:
    """From when a meeting the citizen books themselves may be offered, and the rule behind it."""

    earliest: datetime
    min_notice: Duration
    source: str


def self_booking_window(municipality: Municipality, now: datetime) -> SelfBookingWindow | None:
    """Return the earliest start a self-booked meeting may be offered at, or None where no rule says so.

    STAR Q&A 20-02-2020: the booking deadline is at least 8 days, counted here in calendar days at
    the same local clock time (README "Self-booking window"); no slot before it is offered.
    """
    rule = municipality.self_booking
    if rule is None:
        return None
    earliest = municipality.calendar().add(now, rule.min_notice)
    return SelfBookingWindow(earliest, rule.min_notice, rule.source)


@dataclass(frozen=True)
class Booked:
    """A meeting booked for a to-do, and the invitation queued for the citizen."""

    todo_id: str
    starts_at: datetime
    letter_id: str
    after_deadline: bool


def book_meeting(
    store: Store,
    rules: RuleBook,
    todo_id: str,
    starts_at: datetime,
    now: datetime,
    minutes: int = 60,
    place: str = "",
    actor: Actor | None = None,
) -> Booked:
    """Book the time of a meeting to-do; the citizen gets an invitation with an .ics file.

    With `actor`, their audit line is written in the same transaction.
    """
    rules = rules.as_of(now)
    if not 15 <= minutes <= 240:
        raise InputError("a meeting lasts from 15 to 240 minutes", {"minutes": "from 15 to 240"})
    place = place.strip()
    # The invitation's form wants a place of 2+ characters (forms/schemas.py) on one line of the .ics.
    if place and (not 2 <= len(place) <= 200 or any(c < " " for c in place)):
        raise InputError("a place is 2-200 characters on one line", {"place": "2-200 characters on one line"})
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        if todo is None:
            raise NotFoundError(f"unknown to-do {todo_id!r}", {"todo_id": "unknown"})
        if todo.kind not in journey.meeting_kinds():
            raise InputError(f"to-do {todo_id} is not an open meeting ({todo.kind}, {todo.status})")
        if todo.status != TodoStatus.OPEN:
            raise ConflictError(f"to-do {todo_id} is not an open meeting ({todo.kind}, {todo.status})")
        if starts_at <= now:
            raise InputError("a meeting is booked for a time still to come", {"starts_at": "in the past"})
        case = tx.cases([todo.case_id])[todo.case_id]
        municipality = rules.municipality(case.municipality)
        office = municipality.calendar()
        ends_at = starts_at + timedelta(minutes=minutes)
        same_day = office.local(starts_at).date() == office.local(ends_at).date()
        if not (office.is_open(starts_at) and office.is_open(ends_at) and same_day):
            problem = f"the office is closed then; {office.describe()}"
            raise InputError(problem, {"starts_at": problem})
        letter_id = f"{todo_id}:booked:{office.local(starts_at):%Y%m%d%H%M}"
        context = {
            "case_id": case.id,
            "municipality": municipality.name,
            "team": municipality.teams[case.team].name,
            "timezone": municipality.timezone,
            "caseworker": case.caseworker,
            "starts_at": starts_at.isoformat(),
            "minutes": minutes,
            "place": place or municipality.name,
            "uid": letter_id,
        }
        letter = LetterRequest(letter_id, case.id, todo_id, "meeting_booked", municipality.language, context)
        tx.add_letters([letter], now)
        if actor is not None:
            detail = f"{todo_id} at {starts_at.isoformat()} ({minutes} min)"
            tx.record_access([actor.line("book_meeting", case, detail)], now)
    return Booked(todo_id, starts_at, letter_id, starts_at > todo.due_at)


SLOT_STEP = timedelta(minutes=30)  # meetings start on the hour or the half hour
SLOT_SEARCH_DAYS = 366


def free_slots(
    office: BusinessCalendar,
    minutes: int,
    now: datetime,
    before: datetime | None,
    taken: Sequence[tuple[datetime, datetime]] = (),
    count: int = 10,
    latest: bool = False,
) -> list[datetime]:
    """Return meeting times of this length inside opening hours, after now, starting by `before`, clear of taken.

    The soonest first; with `latest`, the ones nearest before `before` (a follow-up is held near its
    due date, not as soon as possible), still in time order.
    """
    length = timedelta(minutes=minutes)
    found: list[datetime] = []
    days = _days(office, now, before, latest)
    for day in days:
        # Each opening period of the day (a lunch break splits it; an early closing shortens it).
        fitting = [
            t
            for opens, closes in office.windows(day)
            for t in (opens + n * SLOT_STEP for n in range(int((closes - opens) / SLOT_STEP) + 1))
            if t > now
            and t + length <= closes
            and (before is None or t <= before)
            and not any(t < end and begin < t + length for begin, end in taken)
        ]
        found += reversed(fitting) if latest else fitting
        if len(found) >= count:
            break
    chosen = found[:count]
    return sorted(chosen)


def _days(office: BusinessCalendar, now: datetime, before: datetime | None, latest: bool) -> Iterator[date]:
    first = office.local(now).date()
    last = office.local(before).date() if before is not None else first + timedelta(days=SLOT_SEARCH_DAYS)
    last = min(last, first + timedelta(days=SLOT_SEARCH_DAYS))
    span = range((last - first).days + 1)
    for n in reversed(span) if latest else span:
        day = first + timedelta(days=n)
        if office.is_open_day(day):
            yield day
