"""Caseworkers' meeting hours and the proposed slot through the API: the same use cases as `activation availability`.

A caseworker reads and sets their own, a team lead their team's caseworkers'; another team's
caseworker answers 404 and a teammate 403, both audited as denied.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from activation import meeting_hours
from activation.availability import ABSENCE_KINDS, MAX_PER_DAY, SLOT_MINUTES, format_hours
from web.api.case_actions import TODO_ID
from web.api.common import CONFLICT, ERRORS, NOT_FOUND, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.app import clock, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)

USERNAME = Path(max_length=64, description="the caseworker's username", examples=["cw-01"])
REFUSED: dict[int | str, dict[str, Any]] = {**ERRORS, **NOT_FOUND}


def _manageable(request: Request, username: Annotated[str, USERNAME], user: ApiUser) -> str:
    """Return the caseworker's username if the user manages their hours; checked before the body is read."""
    meeting_hours.meeting_hours(runtime(request).store, user, username, clock(request).now())
    return username


Username = Annotated[str, Depends(_manageable)]


class AvailabilityIn(BaseModel):
    """A caseworker's weekly meeting hours, slot length and daily cap, replacing the earlier ones."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"hours": {"mon": "09:00-12:00,13:00-16:00", "tue": "09:00-12:00"}, "slot_minutes": 60}]
        },
    )

    hours: dict[str, str] = Field(
        max_length=7, description="weekday (mon..sun) -> windows HH:MM-HH:MM, comma-separated, in order"
    )
    slot_minutes: int = Field(default=60, ge=SLOT_MINUTES[0], le=SLOT_MINUTES[1], description="minutes per slot")
    max_per_day: int | None = Field(default=None, ge=1, le=MAX_PER_DAY, description="meetings a day at most")


class AbsenceIn(BaseModel):
    """Whole days the caseworker holds no meetings, first to last inclusive."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "holiday", "first": "2026-12-21", "last": "2027-01-01"}]},
    )

    kind: Literal["holiday", "sickness", "course"] = Field(description=", ".join(ABSENCE_KINDS))
    first: date
    last: date | None = Field(default=None, description="default: the first day")


class AbsenceOut(BaseModel):
    """An absence as recorded."""

    id: int
    kind: str
    first: date
    last: date


class AvailabilityOut(BaseModel):
    """A caseworker's meeting hours (empty: none set, so no slot is proposed for them) and absences to come."""

    username: str = Field(examples=["cw-01"])
    hours: dict[str, str] = Field(examples=[{"mon": "09:00-12:00,13:00-16:00"}])
    slot_minutes: int | None = None
    max_per_day: int | None = None
    absences: list[AbsenceOut]


class SlotOut(BaseModel):
    """The earliest free slot inside the to-do's deadline, or null when none exists (the meeting is at risk)."""

    todo_id: str
    username: str | None = Field(description="whose slot: the responsible caseworker's, else a teammate's")
    starts_at: datetime | None
    ends_at: datetime | None


def _out(shown: meeting_hours.MeetingHours) -> AvailabilityOut:
    a = shown.availability
    return AvailabilityOut(
        username=shown.member.username,
        hours=format_hours(a.hours) if a else {},
        slot_minutes=a.slot_minutes if a else None,
        max_per_day=a.max_per_day if a else None,
        absences=[AbsenceOut(id=x.id or 0, kind=x.kind, first=x.first, last=x.last) for x in (a.absences if a else ())],
    )


@router.get(
    "/caseworkers/{username}/availability",
    tags=["availability"],
    summary="Read a caseworker's meeting hours",
    operation_id="getAvailability",
    response_model=AvailabilityOut,
    responses=REFUSED,
)
def get_availability(request: Request, username: Username, user: ApiUser) -> AvailabilityOut:
    """Return the caseworker's weekly meeting hours, slot length, daily cap and the absences still to come."""
    rt = runtime(request)
    return _out(meeting_hours.meeting_hours(rt.store, user, username, clock(request).now()))


@router.put(
    "/caseworkers/{username}/availability",
    tags=["availability"],
    summary="Set a caseworker's meeting hours",
    operation_id="setAvailability",
    response_model=AvailabilityOut,
    responses=REFUSED,
)
def put_availability(request: Request, body: AvailabilityIn, username: Username, user: ApiUser) -> AvailabilityOut:
    """Replace the caseworker's meeting hours, slot length and cap; the office's opening hours apply on top."""
    rt = runtime(request)
    now = clock(request).now()
    meeting_hours.set_meeting_hours(
        rt.store, user, username, body.hours, body.slot_minutes, body.max_per_day, now, by=user.username, via="api"
    )
    return _out(meeting_hours.meeting_hours(rt.store, user, username, now))


@router.post(
    "/caseworkers/{username}/absences",
    tags=["availability"],
    summary="Record an absence",
    operation_id="addAbsence",
    response_model=AbsenceOut,
    status_code=201,
    responses={201: {"headers": REPLAYED}, **REFUSED},
)
def post_absence(
    request: Request, body: AbsenceIn, username: Username, user: ApiUser, idempotency_key: IdempotencyKey = None
) -> AbsenceOut:
    """Record whole days the caseworker holds no meetings: no slot is proposed on them."""
    rt = runtime(request)
    added = meeting_hours.add_absence(
        rt.store, user, username, body.kind, body.first, body.last or body.first, clock(request).now(),
        by=user.username, via="api",
    )  # fmt: skip
    return AbsenceOut(id=added.id or 0, kind=added.kind, first=added.first, last=added.last)


@router.delete(
    "/caseworkers/{username}/absences/{absence_id}",
    tags=["availability"],
    summary="Remove an absence",
    operation_id="removeAbsence",
    status_code=204,
    responses=REFUSED,
)
def delete_absence(request: Request, username: Username, absence_id: int, user: ApiUser) -> Response:
    """Remove one of the caseworker's absences (404 when they have no such absence)."""
    rt = runtime(request)
    meeting_hours.remove_absence(rt.store, user, username, absence_id, clock(request).now(), via="api")
    return Response(status_code=204)


@router.get(
    "/todos/{todo_id}/proposed-slot",
    tags=["availability"],
    summary="Propose the earliest free slot inside a meeting's deadline",
    operation_id="proposeSlot",
    response_model=SlotOut,
    responses={**REFUSED, **CONFLICT},
)
def proposed_slot(request: Request, todo_id: Annotated[str, TODO_ID], user: ApiUser) -> SlotOut:
    """Return the earliest free slot of the to-do's caseworker (else the team's) that starts by its deadline.

    Respects their meeting hours, absences, daily cap, booked meetings and the office's opening hours.
    """
    rt = runtime(request)
    slot = meeting_hours.proposed_slot(rt.store, rt.rules, user, todo_id, clock(request).now())
    if slot is None:
        return SlotOut(todo_id=todo_id, username=None, starts_at=None, ends_at=None)
    return SlotOut(todo_id=todo_id, username=slot.username, starts_at=slot.starts_at, ends_at=slot.ends_at)
