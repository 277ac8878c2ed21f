"""Acting on a case from its page: book a meeting, pause and resume, record an event, start, withdraw.

Each form posts to a route that calls the same use case as the CLI and the API
(activation/case_actions.py): the access rules, the validation and the writing are theirs. A refusal
a caseworker can fix is shown beside its field with everything typed kept; one about access (another
team's case, a manager) is answered 404 or 403 by the application's handlers and audited there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation import access, journey, meeting_hours
from activation import case_actions as actions
from activation.access import User
from activation.adapters.coverage_sql import case_exemptions
from activation.adapters.db import reading
from activation.case_events import CONTACT_FORMS
from activation.errors import HTTP_STATUS, InputError
from activation.model import Case
from activation.reads import CaseDetail
from web import case_queries
from web.app import accounts, check_csrf, clock, page, require, runtime
from web.case_texts import MINUTES, NOTE_MAX, BadTime, field_errors, local_input, message, moment, withdrawal_stages
from web.i18n import _

router = APIRouter(include_in_schema=False)
ACTORS = ("caseworker", "team_lead")  # who acts on a case (activation/access.py may_work_case)


def _tz(request: Request, case: Case) -> str:
    return runtime(request).rules.municipality(case.municipality).timezone


def _workable_case(request: Request, user: User, case_id: str) -> Case:
    return actions.case_to_act_on(runtime(request).store, user, case_id)


def _refusal(
    exc: InputError, shown: tuple[str, ...] = (), renamed: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str | None]:
    """Return the status, the errors beside the form's fields, else the sentence above it; re-raise access refusals."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc
    errors = {(renamed or {}).get(k, k): v for k, v in field_errors(exc).items()}
    errors = {k: v for k, v in errors.items() if k in shown}
    return HTTP_STATUS[exc.kind], errors, None if errors else message(exc)


def case_page_context(request: Request, user: User, case: Case, detail: CaseDetail) -> dict[str, Any]:
    """Return what the case page shows of bookings, recorded events and the actions the user may take."""
    rt = runtime(request)
    with reading(rt.engine) as conn:
        booked = case_queries.bookings(conn, case.id)
        events = case_queries.events(conn, case.id)
        exemptions = case_exemptions(conn, case.id)
    may_act = access.may_work_case(user, case)
    rules_here = rt.rules.as_of(clock(request).now()).municipality(case.municipality)
    targets, reasons = rules_here.coverage_targets, rules_here.exemption_reasons
    with rt.store.transaction() as tx:
        withdrawable = actions.withdrawable(tx, case) if may_act else None
    return {
        "may_act": may_act and case.status == "open",
        "bookings": booked,
        "meeting_kinds": journey.meeting_kinds(),
        "events": events,
        "may_withdraw": withdrawable is not None,
        "periods_closed": [d for d in detail.deadlines if d.todo_id is None and d.status in ("met", "missed")],
        "starters": tuple(journey.STARTERS),
        "exemptions": [
            (
                e,
                targets[e.target].label if e.target in targets else e.target,
                reasons[e.reason].label if e.reason in reasons else e.reason,
            )
            for e in exemptions
        ],
        "may_exempt": any(t.max_exempt and t.group == case.group for t in targets.values()),
        "work_duty": rules_here.work_duty is not None,
    }


# -- booking a meeting ---------------------------------------------------------------------------


def _minutes(value: Any) -> int:
    try:
        return int(str(value or 60))
    except ValueError:
        return 60


def _book_page(
    request: Request,
    user: User,
    todo_id: str,
    minutes: int,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    rt = runtime(request)
    now = clock(request).now()
    todo, case = actions.todo_to_work(rt.store, user, todo_id)
    if todo.kind not in journey.meeting_kinds() or todo.status != "open":
        message = _("This to-do is no longer an open meeting.")
        return page(request, "error.html.j2", 409, title=_("Cannot do that"), message=message)
    with reading(rt.engine) as conn:
        taken = case_queries.taken(conn, todo.assignee, todo.id, now)
        current = case_queries.bookings(conn, case.id).get(todo.id)
    length = minutes if 15 <= minutes <= 240 else 60
    choices = actions.meeting_choices(rt.store, rt.rules, user, todo_id, now, length, taken)
    # The earliest free slot in the caseworkers' meeting hours inside the deadline (issue 15).
    proposed = meeting_hours.proposed_slot(rt.store, rt.rules, user, todo_id, now)
    proposed_value = proposed.starts_at.isoformat() if proposed else ""
    tz = _tz(request, case)
    return page(
        request,
        "case_book.html.j2",
        status_code,
        todo=todo,
        case=case,
        choices=choices,
        minutes=length,
        lengths=MINUTES if length in MINUTES else (*MINUTES, length),
        current=current,
        tz=tz,
        slot_values=[s.isoformat() for s in choices.slots],
        proposed=proposed,
        proposed_value=proposed_value,
        errors=errors or {},
        values=values or {"place": current.place if current else "", "slot": proposed_value},
        problem=problem,
    )


@router.get("/todos/{todo_id}/book", response_class=HTMLResponse)
def book_page(request: Request, todo_id: str, minutes: str = "60") -> Response:
    """Show free times for a meeting to-do inside the office's opening hours, before its deadline."""
    user = require(request, *ACTORS)
    return _book_page(request, user, todo_id, _minutes(minutes))


@router.post("/todos/{todo_id}/book", response_class=HTMLResponse)
def book(
    request: Request,
    todo_id: str,
    csrf: str = Form(""),
    slot: str = Form(""),
    starts_at: str = Form(""),
    minutes: str = Form("60"),
    place: str = Form(""),
) -> Response:
    """Book (or rebook) the meeting: the citizen gets an invitation with an .ics file."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    rt = runtime(request)
    todo, case = actions.todo_to_work(rt.store, user, todo_id)
    values = {"slot": slot, "starts_at": starts_at, "place": place}
    length = _minutes(minutes)
    try:
        chosen = moment(starts_at, _tz(request, case)) or moment(slot, _tz(request, case))
    except BadTime:
        return _book_page(request, user, todo_id, length, 422, {"starts_at": _("A date and time, please.")}, values)
    if chosen is None:
        return _book_page(request, user, todo_id, length, 422, {"slot": _("Choose a time, or type one.")}, values)
    now = clock(request).now()
    try:
        booked, case = actions.book_for(rt.store, rt.rules, user, todo_id, chosen, now, length, place, via="web")
    except InputError as exc:
        status, errors, problem = _refusal(exc, ("starts_at", "place", "minutes"))
        return _book_page(request, user, todo_id, length, status, errors, values, problem)
    late = "&late=1" if booked.after_deadline else ""
    return RedirectResponse(f"/cases/{case.id}?booked={todo.id}{late}", 303)


@router.post("/todos/{todo_id}/book/cancel", response_class=HTMLResponse)
def cancel_booking(request: Request, todo_id: str, csrf: str = Form("")) -> Response:
    """Call off the booked time: the citizen gets a cancellation whose calendar file removes it."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    rt = runtime(request)
    try:
        _cancelled, case = actions.cancel_booking_for(rt.store, user, todo_id, clock(request).now(), via="web")
    except InputError as exc:
        status, _errors, problem = _refusal(exc)
        return _book_page(request, user, todo_id, 60, status, problem=problem)
    return RedirectResponse(f"/cases/{case.id}?cancelled={todo_id}", 303)


# -- pausing and resuming --------------------------------------------------------------------------


def _pause_page(
    request: Request,
    user: User,
    case: Case,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    rt = runtime(request)
    municipality = rt.rules.municipality(case.municipality)
    with rt.store.transaction() as tx:
        pauses = tx.pauses(case.id)
    now = local_input(clock(request).now(), municipality.timezone)
    return page(
        request,
        "case_pause.html.j2",
        status_code,
        case=case,
        bases=list(municipality.pause_bases),
        pauses=pauses,
        open_ended=[p for p in pauses if p.ends_at is None],
        errors=errors or {},
        values=values or {"starts_at": now, "resumed_at": now},
        problem=problem,
        note_max=NOTE_MAX,
    )


@router.get("/cases/{case_id}/pause", response_class=HTMLResponse)
def pause_page(request: Request, case_id: str) -> Response:
    """Show the form to pause the case's clocks on a legal ground, and to end an open-ended pause."""
    user = require(request, *ACTORS)
    return _pause_page(request, user, _workable_case(request, user, case_id))


@router.post("/cases/{case_id}/pause", response_class=HTMLResponse)
def pause(
    request: Request,
    case_id: str,
    csrf: str = Form(""),
    basis: str = Form(""),
    starts_at: str = Form(""),
    ends_at: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Pause the case's deadlines on a legal ground, from a start to an end (or until resumed)."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    values = {"basis": basis, "starts_at": starts_at, "ends_at": ends_at, "note": note}
    errors: dict[str, str] = {}
    tz = _tz(request, case)
    if not basis:
        errors["basis"] = _("Choose one of the legal grounds.")
    start = end = None
    try:
        start = moment(starts_at, tz)
    except BadTime:
        errors["starts_at"] = _("A date and time, please.")
    if start is None and "starts_at" not in errors:
        errors["starts_at"] = _("When did the ground begin?")
    try:
        end = moment(ends_at, tz)
    except BadTime:
        errors["ends_at"] = _("A date and time, please.")
    if start and end and end <= start:
        errors["ends_at"] = _("The end must come after the start.")
    if len(note) > NOTE_MAX:
        errors["note"] = _("At most %(n)d characters.", n=NOTE_MAX)
    if errors or start is None:
        return _pause_page(request, user, case, 422, errors, values)
    rt = runtime(request)
    now = clock(request).now()
    try:
        result, case = actions.pause_for(
            rt.store, rt.rules, user, case_id, basis, start, end, now, note or None, via="web"
        )
    except InputError as exc:
        status, errors, problem = _refusal(exc, ("basis", "starts_at", "ends_at", "note"))
        return _pause_page(request, user, case, status, errors, values, problem)
    return RedirectResponse(f"/cases/{case.id}?paused={result.pause.id}", 303)


@router.post("/cases/{case_id}/resume", response_class=HTMLResponse)
def resume(
    request: Request, case_id: str, csrf: str = Form(""), pause_id: str = Form(""), resumed_at: str = Form("")
) -> Response:
    """End an open-ended pause: stopped deadlines resume with the time left, or restart by their rule."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    values = {"resumed_at": resumed_at, "pause_id": pause_id}
    try:
        end = moment(resumed_at, _tz(request, case))
    except BadTime:
        return _pause_page(request, user, case, 422, {"resumed_at": _("A date and time, please.")}, values)
    rt = runtime(request)
    now = clock(request).now()
    try:
        result, case = actions.resume_for(
            rt.store, rt.rules, user, case_id, pause_id or None, end or now, now, via="web"
        )
    except InputError as exc:
        status, errors, problem = _refusal(exc, ("resumed_at",), {"ends_at": "resumed_at"})
        return _pause_page(request, user, case, status, errors, values, problem)
    return RedirectResponse(f"/cases/{case.id}?resumed={result.pause.id}", 303)


# -- a job conversation or an offer outside the stages ----------------------------------------------


def _event_page(
    request: Request,
    case: Case,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    now = local_input(clock(request).now(), _tz(request, case))
    user = require(request, *ACTORS)
    return page(
        request,
        "case_event.html.j2",
        status_code,
        case=case,
        kinds=journey.EVENTS,
        forms=CONTACT_FORMS,
        colleagues=_colleagues(request, case),
        errors=errors or {},
        values=values or {"occurred_at": now, "contact_form": "in_person", "held_by": user.username},
        problem=problem,
        note_max=NOTE_MAX,
    )


def _colleagues(request: Request, case: Case) -> list[User]:
    """Return who may have held a conversation on the case: the municipality's staff who work cases."""
    return [u for u in accounts(request).users(case.municipality) if u.works_cases]


@router.get("/cases/{case_id}/event", response_class=HTMLResponse)
def event_page(request: Request, case_id: str) -> Response:
    """Show the form to record a job conversation or an offer that happened outside the stages."""
    user = require(request, *ACTORS)
    return _event_page(request, _workable_case(request, user, case_id))


@router.post("/cases/{case_id}/event", response_class=HTMLResponse)
def record_event(
    request: Request,
    case_id: str,
    csrf: str = Form(""),
    kind: str = Form(""),
    occurred_at: str = Form(""),
    note: str = Form(""),
    contact_form: str = Form(""),
    held_by: str = Form(""),
) -> Response:
    """Record the event, how and by whom it was held; the obligations count it (the same submission twice once)."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    values = {"kind": kind, "occurred_at": occurred_at, "note": note, "contact_form": contact_form, "held_by": held_by}
    if kind not in journey.EVENTS:
        return _event_page(request, case, 422, {"kind": _("Choose what happened.")}, values)
    if contact_form and contact_form not in CONTACT_FORMS:  # left out: in person, as the domain says
        return _event_page(request, case, 422, {"contact_form": _("Choose how it was held.")}, values)
    try:
        when = moment(occurred_at, _tz(request, case))
    except BadTime:
        return _event_page(request, case, 422, {"occurred_at": _("A date and time, please.")}, values)
    if when is None:
        return _event_page(request, case, 422, {"occurred_at": _("When did it happen?")}, values)
    rt = runtime(request)
    now = clock(request).now()
    try:
        holder = accounts(request).user(held_by) if held_by else None
        recorded, case = actions.record_event_for(
            rt.store, rt.rules, user, case_id, kind, when, now, note, None, contact_form, held_by or None, holder,
            via="web",
        )  # fmt: skip
    except InputError as exc:
        status, errors, problem = _refusal(exc, ("kind", "occurred_at", "note", "contact_form", "held_by"))
        return _event_page(request, case, status, errors, values, problem)
    return RedirectResponse(f"/cases/{case.id}?recorded={recorded.event.kind}", 303)


# -- health information, a coordinated plan ------------------------------------------------------


@router.post("/cases/{case_id}/start", response_class=HTMLResponse)
def start(request: Request, case_id: str, csrf: str = Form(""), what: str = Form("")) -> Response:
    """Start health information (the consent first) or a coordinated plan beside the journey."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    if what not in journey.STARTERS:
        title = _("Cannot do that")
        return page(request, "error.html.j2", 422, title=title, message=_("Choose what to start."))
    rt = runtime(request)
    now = clock(request).now()
    try:
        todo = actions.start_for(rt.store, rt.rules, user, case_id, what, now, via="web")
    except InputError as exc:
        status, _errors, problem = _refusal(exc)
        return page(request, "error.html.j2", status, title=_("Cannot do that"), message=problem)
    return RedirectResponse(f"/cases/{case.id}?started={todo.id}", 303)


# -- withdrawing a case, after a confirmation ---------------------------------------------------------


def _withdraw_page(
    request: Request, user: User, case: Case, status_code: int = 200, problem: str | None = None
) -> Response:
    with runtime(request).store.transaction() as tx:
        todo = actions.withdrawable(tx, case)
    if todo is None and problem is None:
        status_code = 409
        problem = _("The case cannot be withdrawn in this stage; it can in: %(stages)s.", stages=withdrawal_stages())
    return page(request, "case_withdraw.html.j2", status_code, case=case, todo=todo, problem=problem)


@router.get("/cases/{case_id}/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, case_id: str) -> Response:
    """Ask 'Are you sure?' before a withdrawal is recorded."""
    user = require(request, *ACTORS)
    return _withdraw_page(request, user, _workable_case(request, user, case_id))


@router.post("/cases/{case_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, case_id: str, csrf: str = Form(""), confirm: str = Form("")) -> Response:
    """Withdraw the case once confirmed: its journey to-do is completed as withdrawn and the case closes."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    if confirm != "yes":
        return _withdraw_page(request, user, case, 422, _("Nothing was recorded: confirm the withdrawal first."))
    rt = runtime(request)
    now = clock(request).now()
    try:
        _done, case = actions.withdraw_for(rt.store, rt.rules, user, case_id, now, via="web")
    except InputError as exc:
        status, _errors, problem = _refusal(exc)
        return _withdraw_page(request, user, case, status, problem)
    return RedirectResponse(f"/cases/{case.id}?withdrawn=1", 303)
