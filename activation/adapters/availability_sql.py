"""Caseworkers' meeting hours, absences and booked meetings in the database (issue 15)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from activation.adapters import tables as t
from activation.adapters.sql_rows import SqlPart
from activation.availability import WEEKDAYS, Absence, Availability, StaffMember, parse_hours
from activation.booking import BOOKED, MEETING_LETTERS

a = t.caseworker_availability.c
x = t.caseworker_absences.c


class AvailabilitySql(SqlPart):
    """The Availabilities role."""

    def staff_member(self, username: str) -> StaffMember | None:
        """Return an active member of staff's role, municipality and team, or None."""
        u = t.users.c
        row = self.conn.execute(
            select(u.username, u.role, u.municipality, u.team).where(u.username == username, u.active)
        ).first()
        return StaffMember(row.username, row.role, row.municipality, row.team) if row else None

    def team_caseworkers(self, municipality: str, team: str) -> list[str]:
        """Return the active caseworkers of a team, by username."""
        u = t.users.c
        query = select(u.username).where(
            u.municipality == municipality, u.team == team, u.role == "caseworker", u.active
        )
        return list(self.conn.execute(query.order_by(u.username)).scalars())

    def availabilities(self, usernames: Sequence[str], since: date) -> dict[str, Availability]:
        """Return the availability of each of these caseworkers that has one, with absences ending from `since` on."""
        if not usernames:
            return {}
        away: dict[str, list[Absence]] = {}
        absences = select(t.caseworker_absences).where(x.username.in_(usernames), x.last_day >= since)
        for r in self.conn.execute(absences.order_by(x.first_day, x.id)):
            away.setdefault(r.username, []).append(Absence(r.kind, r.first_day, r.last_day, r.id))
        rows = self.conn.execute(select(t.caseworker_availability).where(a.username.in_(usernames)))
        return {r.username: _availability(r, tuple(away.get(r.username, ()))) for r in rows}

    def save_availability(self, availability: Availability, municipality: str, by: str, now: datetime) -> None:
        """Save a caseworker's meeting hours, slot length and cap, replacing the earlier ones."""
        self.conn.execute(delete(t.caseworker_availability).where(a.username == availability.username))
        self.conn.execute(
            t.caseworker_availability.insert(),
            {
                "username": availability.username,
                "municipality": municipality,
                "hours": {str(d): str(h) for d, h in availability.hours.items()},
                "slot_minutes": availability.slot_minutes,
                "max_per_day": availability.max_per_day,
                "updated_by": by,
                "updated_at": now,
            },
        )

    def add_absence(self, username: str, absence: Absence, by: str, now: datetime) -> int:
        """Record an absence and return its id."""
        row = {"username": username, "kind": absence.kind, "first_day": absence.first, "last_day": absence.last}
        done = self.conn.execute(t.caseworker_absences.insert(), {**row, "recorded_by": by, "recorded_at": now})
        return int(done.inserted_primary_key[0])  # type: ignore[index]

    def remove_absence(self, username: str, absence_id: int) -> bool:
        """Remove one of a caseworker's absences; tell whether there was one."""
        done = self.conn.execute(delete(t.caseworker_absences).where(x.username == username, x.id == absence_id))
        return bool(done.rowcount)

    def booked_meetings(
        self, usernames: Sequence[str], after: datetime, but: str = ""
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Return the booked times of these caseworkers' open meeting to-dos ending after `after`, but one to-do's."""
        if not usernames:
            return {}
        rows = self.conn.execute(
            select(t.todos.c.assignee, t.letters.c.todo_id, t.letters.c.form, t.letters.c.context)
            .join(t.todos, t.todos.c.id == t.letters.c.todo_id)
            .where(
                t.todos.c.assignee.in_(usernames),
                t.todos.c.status == "open",
                t.todos.c.id != but,
                t.letters.c.form.in_(MEETING_LETTERS),
            )
            .order_by(t.letters.c.created_at, t.letters.c.id)
        )
        latest: dict[str, tuple[str, Any]] = {}
        for r in rows:  # oldest first: a rebooking replaces the time before it, a cancellation removes it
            if r.form == BOOKED:
                latest[r.todo_id] = (r.assignee, r.context)
            else:
                latest.pop(r.todo_id, None)
        found: dict[str, list[tuple[datetime, datetime]]] = {}
        for assignee, context in latest.values():
            starts = datetime.fromisoformat(str(context["starts_at"]))
            ends = starts + timedelta(minutes=int(context.get("minutes", 60)))
            if ends > after:
                found.setdefault(assignee, []).append((starts, ends))
        return found


def _availability(r: Any, absences: tuple[Absence, ...]) -> Availability:
    hours = parse_hours({WEEKDAYS[int(d)]: text for d, text in r.hours.items()})
    return Availability(r.username, hours, r.slot_minutes, r.max_per_day, absences)
