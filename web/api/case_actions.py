"""Acting on a case through the API: book a meeting, pause and resume, record an event, start, withdraw.

The same use cases as the case page and the CLI (activation/case_actions.py). Who may act is decided
before the body is read: another team's case or to-do answers 404 (audited as denied), a case only
seen (a manager) 403, whatever the body holds. Every operation is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from activation import case_actions as actions
from activation.adapters.accounts import Accounts
from activation.model import Case, TodoView
from activation.pauses import PauseResult
from web.api.case_models import (
    BookedOut,
    BookIn,
    CancelledOut,
    DeadlineMove,
    EventIn,
    EventOut,
    PausedOut,
    PauseIn,
    PeriodClosed,
    PeriodOpened,
    ResumeIn,
    StartIn,
    WithdrawIn,
    WithdrawnOut,
)
from web.api.common import ERRORS, NOT_FOUND, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.api.models import CaseSummary, PauseOut, Todo
from web.app import clock, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)

CASE_ID = Path(max_length=32, description="the case id", examples=["c-7k2m9qxa"])
TODO_ID = Path(max_length=48, description="the meeting to-do's id", examples=["c-7k2m9qxa.0"])
REFUSED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    403: {
        "model": ERRORS[403]["model"],
        "description": "The role does not act on cases (a manager reads them), or the to-do is held by someone else.",
    },
    **NOT_FOUND,
    409: {
        "model": ERRORS[403]["model"],
        "description": "The case is not in a state that allows it (closed, already paused then, already under way),"
        " or the Idempotency-Key was used with a different request.",
    },
}


def _workable_case(request: Request, case_id: Annotated[str, CASE_ID], user: ApiUser) -> Case:
    """Return the case the user may act on; checked before the body is read."""
    return actions.case_to_act_on(runtime(request).store, user, case_id)


def _workable_todo(request: Request, todo_id: Annotated[str, TODO_ID], user: ApiUser) -> tuple[TodoView, Case]:
    """Return the to-do the user may work, with its case; checked before the body is read."""
    return actions.todo_to_work(runtime(request).store, user, todo_id)


WorkableCase = Annotated[Case, Depends(_workable_case)]
WorkableTodo = Annotated[tuple[TodoView, Case], Depends(_workable_todo)]


def _paused(result: PauseResult, now: datetime) -> PausedOut:
    p = result.pause
    return PausedOut(
        pause=PauseOut(id=p.id, basis=p.basis, starts_at=p.starts_at, ends_at=p.ends_at, active=p.active_at(now)),
        deadlines=[
            DeadlineMove(deadline_id=r.deadline_id, due_before=r.due_before, due_after=r.due_after, reason=r.reason)
            for r in result.revisions
        ],
    )


@router.post(
    "/todos/{todo_id}/book",
    tags=["cases"],
    summary="Book a meeting",
    operation_id="bookMeeting",
    response_model=BookedOut,
    responses={200: {"headers": REPLAYED}, **REFUSED},
)
def book_meeting(
    request: Request, body: BookIn, user: ApiUser, found: WorkableTodo, idempotency_key: IdempotencyKey = None
) -> BookedOut:
    """Book (or rebook) a meeting to-do's time inside the office's opening hours.

    The citizen gets an invitation with an .ics calendar file (rendered by the next letters run).
    """
    todo, _case = found
    rt = runtime(request)
    now = clock(request).now()
    booked, case = actions.book_for(
        rt.store, rt.rules, user, todo.id, body.starts_at, now, body.minutes, body.place, via="api"
    )
    return BookedOut(
        todo_id=booked.todo_id,
        case_id=case.id,
        starts_at=booked.starts_at,
        minutes=body.minutes,
        letter_id=booked.letter_id,
        after_deadline=booked.after_deadline,
    )


@router.post(
    "/todos/{todo_id}/book/cancel",
    tags=["cases"],
    summary="Cancel a booked meeting",
    operation_id="cancelMeeting",
    response_model=CancelledOut,
    responses={200: {"headers": REPLAYED}, **REFUSED},
)
def cancel_meeting(
    request: Request, user: ApiUser, found: WorkableTodo, idempotency_key: IdempotencyKey = None
) -> CancelledOut:
    """Call off a meeting to-do's booked time; the to-do stays open to be booked again.

    The citizen gets a cancellation with an .ics file (METHOD:CANCEL, the invitation's UID, the next
    SEQUENCE) that removes the meeting from their calendar. No booked meeting, or one already begun: 409.
    """
    todo, _case = found
    rt = runtime(request)
    cancelled, case = actions.cancel_booking_for(rt.store, user, todo.id, clock(request).now(), via="api")
    return CancelledOut(
        todo_id=cancelled.todo_id,
        case_id=case.id,
        starts_at=cancelled.starts_at,
        letter_id=cancelled.letter_id,
        sequence=cancelled.sequence,
    )


@router.post(
    "/cases/{case_id}/pauses",
    tags=["cases"],
    summary="Pause a case's clocks",
    operation_id="pauseCase",
    response_model=PausedOut,
    status_code=201,
    responses={201: {"headers": REPLAYED}, **REFUSED},
)
def pause_case(
    request: Request, body: PauseIn, user: ApiUser, case: WorkableCase, idempotency_key: IdempotencyKey = None
) -> PausedOut:
    """Pause the case's deadlines on a legal ground (the municipality's pause bases).

    With a known end the deadlines move at once; without one their clocks stop until the pause is resumed.
    Overlapping pauses are refused (409).
    """
    rt = runtime(request)
    now = clock(request).now()
    starts_at = body.starts_at or now
    result, case = actions.pause_for(
        rt.store, rt.rules, user, case.id, body.basis, starts_at, body.ends_at, now, body.note, via="api"
    )
    return _paused(result, now)


@router.post(
    "/cases/{case_id}/resume",
    tags=["cases"],
    summary="End a case's pause",
    operation_id="resumeCase",
    response_model=PausedOut,
    responses={200: {"headers": REPLAYED}, **REFUSED},
)
def resume_case(
    request: Request, body: ResumeIn, user: ApiUser, case: WorkableCase, idempotency_key: IdempotencyKey = None
) -> PausedOut:
    """End an open-ended pause: stopped deadlines resume with the time that was left, or restart by their rule."""
    rt = runtime(request)
    now = clock(request).now()
    ended_at = body.ended_at or now
    result, case = actions.resume_for(rt.store, rt.rules, user, case.id, body.pause_id, ended_at, now, via="api")
    return _paused(result, now)


@router.post(
    "/cases/{case_id}/events",
    tags=["cases"],
    summary="Record a job conversation or an offer",
    operation_id="recordEvent",
    response_model=EventOut,
    status_code=201,
    responses={
        201: {"description": "Recorded; the obligations count it.", "headers": REPLAYED},
        200: {"model": EventOut, "description": "The same event was recorded before; nothing changed."},
        **REFUSED,
    },
)
def record_event(
    request: Request,
    response: Response,
    body: EventIn,
    user: ApiUser,
    case: WorkableCase,
    idempotency_key: IdempotencyKey = None,
) -> EventOut:
    """Record a job conversation or an offer that happened outside the journey's stages.

    The target group's obligations count it as they count a stage's meeting or offer: the open period
    closes (met if the event came by its due time) and the next one opens. The same event twice (the same
    `key`, or without one the same kind at the same moment) is recorded once.
    """
    rt = runtime(request)
    now = clock(request).now()
    when = body.occurred_at or now
    held_by = (body.held_by or "").strip().lower() or None
    holder = Accounts(rt.engine).user(held_by) if held_by else None
    recorded, case = actions.record_event_for(
        rt.store, rt.rules, user, case.id, body.kind, when, now, body.note, body.key,
        body.contact_form, held_by, holder, via="api",
    )  # fmt: skip
    if recorded.repeated:
        response.status_code = 200
    e = recorded.event
    return EventOut(
        id=e.id,
        case_id=e.case_id,
        kind=e.kind,
        occurred_at=e.occurred_at,
        contact_form=e.contact_form,
        held_by=e.held_by,
        repeated=recorded.repeated,
        closed=[PeriodClosed(deadline_id=i, status=s) for i, s in recorded.closed],
        opened=[PeriodOpened(deadline_id=i, rule_key=k, due_at=d) for i, k, d in recorded.opened],
    )


@router.post(
    "/cases/{case_id}/start",
    tags=["cases"],
    summary="Start health information or a coordinated plan",
    operation_id="startBeside",
    response_model=Todo,
    status_code=201,
    responses={201: {"headers": REPLAYED}, **REFUSED},
)
def start_beside(
    request: Request, body: StartIn, user: ApiUser, case: WorkableCase, idempotency_key: IdempotencyKey = None
) -> Todo:
    """Start a to-do beside the journey: health information (the citizen's consent first) or a coordinated plan."""
    rt = runtime(request)
    now = clock(request).now()
    todo = actions.start_for(rt.store, rt.rules, user, case.id, body.what, now, via="api")
    return Todo.of(todo, now)


@router.post(
    "/cases/{case_id}/withdraw",
    tags=["cases"],
    summary="Withdraw a case",
    operation_id="withdrawCase",
    response_model=WithdrawnOut,
    responses={200: {"headers": REPLAYED}, **REFUSED},
)
def withdraw_case(
    request: Request, body: WithdrawIn, user: ApiUser, case: WorkableCase, idempotency_key: IdempotencyKey = None
) -> WithdrawnOut:
    """Withdraw a case (`{"confirm": true}`): its journey to-do is completed as withdrawn and the case closes.

    Allowed in the stages whose to-do takes the outcome `withdrawn` (first meeting to placement); else 409.
    """
    rt = runtime(request)
    now = clock(request).now()
    done, closed = actions.withdraw_for(rt.store, rt.rules, user, case.id, now, via="api")
    return WithdrawnOut(todo=Todo.of(done, now), case=CaseSummary.of(closed))
