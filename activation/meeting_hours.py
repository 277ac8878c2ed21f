"""Manage caseworkers' meeting hours and absences, and propose the earliest free slot for a meeting to-do.

A caseworker manages their own availability, a team lead their team's caseworkers'. Anyone outside
the caseworker's team (a manager too) finds no such caseworker (404, audited as denied by the entry
point); a teammate is forbidden (403). The CLI (operators) acts without a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from activation import access
from activation.access import User
from activation.availability import (
    Absence,
    Availability,
    Slot,
    StaffMember,
    checked,
    checked_absence,
    earliest_free_slot,
    parse_hours,
)
from activation.config import RuleBook
from activation.errors import AccessDenied, ConflictError, ForbiddenError, NotFoundError
from activation.model import AuditEntry
from activation.ports import AvailabilityWork, UnitOfWork

NOT_THEIRS = "Only the caseworker and their team lead manage their meeting hours."


@dataclass(frozen=True)
class MeetingHours:
    """A caseworker's availability as stored (None: none set yet, so no slot is proposed for them)."""

    member: StaffMember
    availability: Availability | None


def _member(tx: AvailabilityWork, user: User | None, username: str) -> StaffMember:
    member = tx.staff_member(username)
    if member is None or member.role != "caseworker":
        raise NotFoundError(f"unknown caseworker {username!r}", {"username": "unknown"})
    if user is None:
        return member
    if member.municipality != user.municipality or member.team != user.team:
        # Another team's caseworker answers as not found; the denial is audited in their municipality.
        raise AccessDenied(f"unknown caseworker {username!r}", {"username": "unknown"}, None, member.municipality)
    if user.username != member.username and user.role != "team_lead":
        raise ForbiddenError(NOT_THEIRS)
    return member


def _audit(tx: AvailabilityWork, user: User | None, via: str, member: StaffMember, what: str, now: datetime) -> None:
    if user is not None:
        line = AuditEntry(user.username[:64], user.role, what, None, member.municipality, via, member.username)
        tx.record_access([line], now)


def meeting_hours(store: UnitOfWork[AvailabilityWork], user: User | None, username: str, now: datetime) -> MeetingHours:
    """Return a caseworker's meeting hours, slot length, cap and absences still to come."""
    with store.transaction() as tx:
        member = _member(tx, user, username)
        return MeetingHours(member, tx.availabilities([username], now.date()).get(username))


def set_meeting_hours(
    store: UnitOfWork[AvailabilityWork],
    user: User | None,
    username: str,
    hours: Mapping[str, str],
    slot_minutes: int,
    max_per_day: int | None,
    now: datetime,
    *,
    by: str,
    via: str = "cli",
) -> Availability:
    """Set a caseworker's weekly meeting hours ({"mon": "09:00-12:00,13:00-15:00"}), slot length and daily cap."""
    availability = checked(username, parse_hours(hours), slot_minutes, max_per_day)
    with store.transaction() as tx:
        member = _member(tx, user, username)
        tx.save_availability(availability, str(member.municipality), by, now)
        _audit(tx, user, via, member, "set_meeting_hours", now)
        return tx.availabilities([username], now.date())[username]


def add_absence(
    store: UnitOfWork[AvailabilityWork],
    user: User | None,
    username: str,
    kind: str,
    first: date,
    last: date,
    now: datetime,
    *,
    by: str,
    via: str = "cli",
) -> Absence:
    """Record whole days a caseworker holds no meetings (holiday, sickness, course)."""
    absence = checked_absence(kind, first, last)
    with store.transaction() as tx:
        member = _member(tx, user, username)
        absence_id = tx.add_absence(username, absence, by, now)
        _audit(tx, user, via, member, "add_absence", now)
    return Absence(absence.kind, absence.first, absence.last, absence_id)


def remove_absence(
    store: UnitOfWork[AvailabilityWork],
    user: User | None,
    username: str,
    absence_id: int,
    now: datetime,
    *,
    via: str = "cli",
) -> None:
    """Remove one of a caseworker's absences (entered by mistake, or the course was cancelled)."""
    with store.transaction() as tx:
        member = _member(tx, user, username)
        if not tx.remove_absence(username, absence_id):
            raise NotFoundError(f"{username} has no absence {absence_id}", {"absence_id": "unknown"})
        _audit(tx, user, via, member, "remove_absence", now)


def proposed_slot(
    store: UnitOfWork[AvailabilityWork], rules: RuleBook, user: User | None, todo_id: str, now: datetime
) -> Slot | None:
    """Return the earliest free slot inside a meeting to-do's deadline: its caseworker's, else the team's.

    The responsible caseworker is the to-do's holder (else the case's caseworker); the team's other
    caseworkers follow by username. Only caseworkers with meeting hours set are asked. None: no free
    slot exists before the deadline (the meeting is at risk).
    """
    with store.transaction() as tx:
        if user is not None:
            todo, case = access.visible_todo(tx, user, todo_id)
        else:
            found_todo = tx.todo(todo_id)
            if found_todo is None:
                raise NotFoundError(f"unknown to-do {todo_id!r}", {"todo_id": "unknown"})
            todo, case = found_todo, tx.cases([found_todo.case_id])[found_todo.case_id]
        if todo.status != "open":
            raise ConflictError(f"to-do {todo_id} is not open")
        team = tx.team_caseworkers(case.municipality, case.team)
        first = [w for w in (todo.assignee, case.caseworker) if w in team][:1]
        order = first + [w for w in team if w not in first]
        hours = tx.availabilities(order, now.date())
        booked = tx.booked_meetings(order, now, but=todo_id)
    office = rules.as_of(now).municipality(case.municipality).calendar()
    return earliest_free_slot([hours[w] for w in order if w in hours], office, now, todo.due_at, booked)
