"""Reads the to-do page needs that the domain's ports do not offer: the meeting booked for a to-do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from activation.adapters import tables as t

BOOKED_LETTER = "meeting_booked"  # the invitation activation/booking.py queues for a booked meeting


@dataclass(frozen=True)
class Booking:
    """A meeting booked for a to-do: when, how long, where."""

    starts_at: datetime
    minutes: int
    place: str


def booking_of(conn: Connection, todo_id: str) -> Booking | None:
    """Return the latest meeting booked for a to-do (a rebooking replaces the earlier time), if any."""
    row = conn.execute(
        select(t.letters.c.context)
        .where(t.letters.c.todo_id == todo_id, t.letters.c.form == BOOKED_LETTER)
        .order_by(t.letters.c.created_at.desc(), t.letters.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    context = row.context
    starts_at = datetime.fromisoformat(context["starts_at"])
    return Booking(starts_at, int(context.get("minutes", 60)), str(context.get("place", "")))
