"""Reads the case actions need that the domain's ports do not offer: booked meetings and recorded events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from activation.adapters import tables as t
from activation.booking import BOOKED, MEETING_LETTERS  # the letters a booking queues; context: time, place


@dataclass(frozen=True)
class Booking:
    """The time booked for a meeting to-do, as its latest invitation says."""

    todo_id: str
    starts_at: datetime
    minutes: int
    place: str

    @property
    def ends_at(self) -> datetime:
        """Return when the meeting ends."""
        return self.starts_at + timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class EventLine:
    """A meeting held or an offer started, as the obligations count it: a stage's, or recorded outside them."""

    kind: str
    occurred_at: datetime
    outside_stages: bool
    note: str | None
    recorded_by: str | None
    contact_form: str | None = None  # in_person | phone | video | digital; None before issue 13 item 4
    held_by: str | None = None


def _latest(rows: Sequence[dict[str, object]]) -> dict[str, Booking]:
    found: dict[str, Booking] = {}
    for r in rows:  # oldest first: a rebooking replaces the booking before it, a cancellation removes it
        if r["form"] != BOOKED:
            found.pop(str(r["todo_id"]), None)
            continue
        context = r["context"]
        assert isinstance(context, dict)
        try:
            starts = datetime.fromisoformat(str(context["starts_at"]))
            found[str(r["todo_id"])] = Booking(
                str(r["todo_id"]), starts, int(context["minutes"]), str(context["place"])
            )
        except (KeyError, TypeError, ValueError):
            continue  # a letter of an older shape: no booking to show
    return found


def bookings(conn: Connection, case_id: str) -> dict[str, Booking]:
    """Return the latest booking of each of a case's to-dos that has one."""
    rows = conn.execute(
        select(t.letters.c.todo_id, t.letters.c.form, t.letters.c.context)
        .where(t.letters.c.case_id == case_id, t.letters.c.form.in_(MEETING_LETTERS))
        .order_by(t.letters.c.created_at, t.letters.c.id)
    ).mappings()
    return _latest([dict(r) for r in rows])


def taken(conn: Connection, assignee: str, but: str, after: datetime) -> list[tuple[datetime, datetime]]:
    """Return when the holder's other open meeting to-dos are booked (from `after` on): those times are not free."""
    rows = conn.execute(
        select(t.letters.c.todo_id, t.letters.c.form, t.letters.c.context)
        .join(t.todos, t.todos.c.id == t.letters.c.todo_id)
        .where(
            t.letters.c.form.in_(MEETING_LETTERS),
            t.todos.c.assignee == assignee,
            t.todos.c.status == "open",
            t.todos.c.id != but,
        )
        .order_by(t.letters.c.created_at, t.letters.c.id)
    ).mappings()
    return [(b.starts_at, b.ends_at) for b in _latest([dict(r) for r in rows]).values() if b.ends_at > after]


def events(conn: Connection, case_id: str) -> list[EventLine]:
    """Return a case's meetings and offers as the obligations count them, newest first."""
    e = t.case_events.c
    rows = conn.execute(
        select(
            e.kind,
            e.occurred_at,
            e.step_id,
            e.note,
            e.recorded_by,
            e.contact_form,
            e.held_by,
            t.steps.c.recorded_by.label("step_by"),
        )
        .outerjoin(t.steps, t.steps.c.id == e.step_id)
        .where(e.case_id == case_id)
        .order_by(e.occurred_at.desc(), e.id.desc())
    ).mappings()
    return [
        EventLine(
            r["kind"],
            r["occurred_at"],
            r["step_id"] is None,
            r["note"],
            r["recorded_by"] or r["step_by"],
            r["contact_form"],
            r["held_by"],
        )
        for r in rows
    ]
