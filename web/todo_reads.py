"""Reads the to-do page needs that the domain's ports do not offer: why it is due, its booking, its record.

The case page reads everything about a case (`Reads.case_detail`); the to-do page needs three rows
of it, read here in one connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from activation.adapters import tables as t
from activation.booking import BOOKED, MEETING_LETTERS
from activation.model import TodoView

BOOKED_LETTER = BOOKED  # the invitation activation/booking.py queues for a booked meeting


@dataclass(frozen=True)
class Booking:
    """A meeting booked for a to-do: when, how long, where."""

    starts_at: datetime
    minutes: int
    place: str


@dataclass(frozen=True)
class Why:
    """What a to-do's deadline counts from, on which calendar, under which rule (glossary.Terms.why)."""

    rule_key: str
    config_version: str
    calendar: str
    start_event: str
    started_at: datetime


@dataclass(frozen=True)
class TodoFacts:
    """What the to-do page shows beside the to-do itself."""

    why: Why | None
    booking: Booking | None
    record: dict[str, Any] | None  # what was recorded with the outcome, once the to-do is done


def todo_facts(conn: Connection, todo: TodoView, meeting: bool) -> TodoFacts:
    """Read why a to-do is due, the meeting booked for it (meetings only) and what was recorded with it."""
    why = None
    if todo.deadline_id:
        d = t.deadlines.c
        row = conn.execute(
            select(d.rule_key, d.config_version, d.calendar, d.start_event, d.started_at).where(
                d.id == todo.deadline_id
            )
        ).first()
        why = Why(row.rule_key, row.config_version, row.calendar, row.start_event, row.started_at) if row else None
    record = None
    if todo.status != "open":
        record = conn.execute(
            select(t.steps.c.data).where(t.steps.c.todo_id == todo.id).order_by(t.steps.c.id.desc()).limit(1)
        ).scalar()
    return TodoFacts(why, _booking(conn, todo.id) if meeting else None, record)


def _booking(conn: Connection, todo_id: str) -> Booking | None:
    # The latest booking counts: a rebooking queues a new invitation with the new time, a cancellation none.
    row = conn.execute(
        select(t.letters.c.form, t.letters.c.context)
        .where(t.letters.c.todo_id == todo_id, t.letters.c.form.in_(MEETING_LETTERS))
        .order_by(t.letters.c.created_at.desc(), t.letters.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.form != BOOKED_LETTER:
        return None
    context = row.context
    starts_at = datetime.fromisoformat(context["starts_at"])
    return Booking(starts_at, int(context.get("minutes", 60)), str(context.get("place", "")))
