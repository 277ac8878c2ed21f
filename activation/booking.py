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


BOOKED = "meeting_booked"  # the invitation (and each update of it) with its .ics REQUEST
CANCELLED = "meeting_cancelled"  # the cancellation with its .ics CANCEL
MEETING_LETTERS = (BOOKED, CANCELLED)


@dataclass(frozen=True)
class Booked:
    """A meeting booked for a to-do, and the invitation queued for the citizen."""

    todo_id: str
    starts_at: datetime
    letter_id: str
    after_deadline: bool
    sequence: int = 0  # the .ics SEQUENCE: 0 for the first invitation, one more for each update


@dataclass(frozen=True)
class Cancelled:
    """A booked meeting called off, and the cancellation queued for the citizen."""

    todo_id: str
    starts_at: datetime
    letter_id: str
    sequence: int


def current_booking(history: Sequence[LetterRequest]) -> LetterRequest | None:
    """Return the invitation that stands: the latest, unless a cancellation came after it."""
    return history[-1] if history and history[-1].form == BOOKED else None


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

    A rebooking sends an update of the same calendar event (same UID, SEQUENCE one higher, RFC 5546
    3.2.2); the same time, length and place again sends nothing new. With `actor`, their audit line
    is written in the same transaction.
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
        history = tx.meeting_letters(todo_id)
        standing = current_booking(history)
        place = place or municipality.name
        if standing is not None and _same_time(standing.context, starts_at, minutes, place):
            # A form sent twice: the citizen already has this invitation.
            sequence = int(standing.context.get("sequence", 0))
            return Booked(todo_id, starts_at, standing.id, starts_at > todo.due_at, sequence)
        sequence = len(history)  # every letter before this one was a version of the same event
        letter_id = f"{todo_id}:booked:{sequence}"
        context = {
            "case_id": case.id,
            "municipality": municipality.name,
            "team": municipality.teams[case.team].name,
            "timezone": municipality.timezone,
            "caseworker": case.caseworker,
            "starts_at": starts_at.isoformat(),
            "minutes": minutes,
            "place": place,
            "uid": todo_id,  # one calendar event per meeting to-do, however often it is rebooked
            "sequence": sequence,
            "stamped_at": now.isoformat(),
        }
        letter = LetterRequest(letter_id, case.id, todo_id, BOOKED, municipality.language, context)
        tx.add_letters([letter], now)
        if actor is not None:
            detail = f"{todo_id} at {starts_at.isoformat()} ({minutes} min)"
            tx.record_access([actor.line("book_meeting", case, detail)], now)
    return Booked(todo_id, starts_at, letter_id, starts_at > todo.due_at, sequence)


def cancel_meeting(store: Store, todo_id: str, now: datetime, actor: Actor | None = None) -> Cancelled:
    """Call off a meeting to-do's booked time; the citizen gets a cancellation that removes it from their calendar.

    The .ics is METHOD:CANCEL with STATUS:CANCELLED, the same UID and the next SEQUENCE (RFC 5546 3.2.5).
    The to-do stays open: book it again when a new time is agreed.
    """
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        if todo is None:
            raise NotFoundError(f"unknown to-do {todo_id!r}", {"todo_id": "unknown"})
        history = tx.meeting_letters(todo_id)
        standing = current_booking(history)
        if standing is None:
            raise ConflictError(f"to-do {todo_id} has no booked meeting to cancel")
        starts_at = datetime.fromisoformat(str(standing.context["starts_at"]))
        if starts_at <= now:
            raise ConflictError(f"the meeting of to-do {todo_id} has begun; record it as held or missed")
        sequence = len(history)
        letter_id = f"{todo_id}:cancelled:{sequence}"
        context = {**standing.context, "uid": todo_id, "sequence": sequence, "stamped_at": now.isoformat()}
        letter = LetterRequest(letter_id, standing.case_id, todo_id, CANCELLED, standing.language, context)
        tx.add_letters([letter], now)
        if actor is not None:
            case = tx.cases([todo.case_id])[todo.case_id]
            tx.record_access([actor.line("cancel_meeting", case, f"{todo_id} at {starts_at.isoformat()}")], now)
    return Cancelled(todo_id, starts_at, letter_id, sequence)


def _same_time(context: dict[str, object], starts_at: datetime, minutes: int, place: str) -> bool:
    try:
        booked = datetime.fromisoformat(str(context["starts_at"]))
    except (KeyError, ValueError):
        return False
    return booked == starts_at and context.get("minutes") == minutes and context.get("place") == place


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
