"""The to-do page: what a to-do asks, why it is due then, and the form that completes it.

Only whoever may record the to-do gets the form; anyone else who may see it reads it, and a
caseworker can take it from the team queue first. Nothing typed is lost: a form with errors comes
back as it was, and a save that arrives after the session ran out (or from a stale page) is kept
as a draft for the to-do and its user until they sign in again (activation/adapters/drafts.py).
An outcome that closes the case asks to be confirmed before it is saved.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException

from activation import access, journey, services
from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.adapters.db import reading
from activation.adapters.drafts import Drafts
from activation.errors import HTTP_STATUS, InputError
from activation.model import Case, TodoView, team_queue
from web import todo_forms
from web.app import (
    SESSION_COOKIE,
    NotSignedIn,
    accounts,
    check_csrf,
    clock,
    page,
    record_denied,
    require,
    runtime,
    signed_in,
)
from web.i18n import N_, _
from web.todo_reads import todo_facts

router = APIRouter(include_in_schema=False)

CASE_ROLES = ("caseworker", "team_lead", "manager")
WORKERS = ("caseworker", "team_lead")  # the roles that record outcomes on the pages
# What the confirmation of an outcome that closes the case asks; other closing outcomes ask the general one.
CONFIRM = {"withdrawn": N_("Confirm: withdraw the case?")}
CONFIRM_ANY = N_("Confirm: close the case?")


def _todo(request: Request, user: User, todo_id: str) -> tuple[TodoView, Case]:
    with runtime(request).store.transaction() as tx:
        return access.visible_todo(tx, user, todo_id)


def _record_for(todo: TodoView) -> dict[str, str | None]:
    """Return, per outcome, the record its form needs (None: just the outcome)."""
    if todo.side:
        return dict.fromkeys(todo.outcomes)
    return {o: journey.transition(todo.stage, o).record for o in todo.outcomes}


def _closes_case(todo: TodoView, outcome: str) -> bool:
    """Tell whether an outcome ends the case: nothing comes after it, so it is confirmed first."""
    return not todo.side and journey.stage(journey.transition(todo.stage, outcome).to).terminal


def _works(user: User, case: Case, todo: TodoView) -> bool:
    """Tell whether the user gets the form: they hold the to-do (a lead: any of the team's)."""
    if todo.status != "open" or user.role not in WORKERS or not access.may_complete(user, case, todo.assignee):
        return False
    # A caseworker takes a queued to-do first, so nobody types into a form someone else may be filling in.
    return not (user.role == "caseworker" and todo.assignee == team_queue(case.team))


def _may_take(user: User, case: Case, todo: TodoView) -> bool:
    return user.role == "caseworker" and todo.status == "open" and todo.assignee == team_queue(case.team)


def _audit_view(request: Request, user: User, case: Case) -> None:
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "view_case", case.id, case.municipality, "web")], clock(request).now()
    )


def _todo_page(
    request: Request,
    user: User,
    todo: TodoView,
    case: Case,
    status_code: int = 200,
    *,
    fields: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    confirm: str | None = None,
    kept: bool = False,
) -> Response:
    """Render the to-do; fields: validation's problems by field (untranslated), shown beside each and on top."""
    rt = runtime(request)
    municipality = rt.rules.municipality(case.municipality)
    needs = _record_for(todo)
    records_needed = list(dict.fromkeys(r for r in needs.values() if r))
    forms = {r: todo_forms.fields_for(r, municipality) for r in records_needed}
    with reading(rt.engine) as conn:
        facts = todo_facts(conn, todo, todo.kind in journey.meeting_kinds())
    recorded = None
    if facts.record and todo.outcome and not todo.side:
        record = journey.transition(todo.stage, todo.outcome).record
        if record:
            recorded = (record, todo_forms.fields_for(record, municipality), todo_forms.values_of(facts.record))
    holder = accounts(request).user(todo.assignee) if ":" not in todo.assignee else None
    question = CONFIRM.get(confirm or "", CONFIRM_ANY)
    return page(
        request,
        "todo.html.j2",
        status_code,
        todo=todo,
        case=case,
        needs=needs,
        forms=forms,
        works=_works(user, case, todo),
        may_take=_may_take(user, case, todo),
        holder_name=holder.display_name if holder else None,
        errors=todo_forms.field_errors(fields or {}),
        problems=todo_forms.summary(fields or {}, forms, needs),
        values=values or {},
        message=message,
        confirm=confirm,
        confirm_question=_(question),
        kept=kept,
        why=facts.why,
        recorded=recorded,
        booking=facts.booking,
        bookable=todo.kind in journey.meeting_kinds() and todo.status == "open",
        municipality=municipality,
        activity_rows=range(todo_forms.ACTIVITY_ROWS),
    )


@router.get("/todos/{todo_id}", response_class=HTMLResponse)
def todo_page(request: Request, todo_id: str) -> Response:
    """Show a to-do: the form to whoever may record it (with a kept draft), read-only to everyone else."""
    user = require(request, *CASE_ROLES)
    todo, case = _todo(request, user, todo_id)
    _audit_view(request, user, case)
    values: dict[str, str] = {}
    kept = False
    if _works(user, case, todo):
        draft = Drafts(runtime(request).engine).draft(todo.id, user.username, clock(request).now())
        if draft:
            values, kept = todo_forms.typed("", ImmutableMultiDict(draft)), True
    return _todo_page(request, user, todo, case, values=values, kept=kept)


@router.post("/todos/{todo_id}", response_class=HTMLResponse)
async def complete(request: Request, todo_id: str) -> Response:
    """Complete a to-do with an outcome and its form; on an error show it beside the field, keep the input."""
    form = await request.form()
    return _complete(request, todo_id, form)


def _complete(request: Request, todo_id: str, form: Any) -> Response:
    user = signed_in(request)
    csrf = form.get("csrf")
    if user is None or not csrf or csrf != request.state.csrf:
        return _keep_draft(request, todo_id, form)
    user = require(request, *WORKERS)
    todo, case = _todo(request, user, todo_id)
    outcome = str(form.get("outcome") or "")
    values = todo_forms.typed("", form)
    needs = _record_for(todo)
    if outcome not in needs:
        return _todo_page(request, user, todo, case, 422, fields={"outcome": "Choose an outcome."}, values=values)
    if _closes_case(todo, outcome) and form.get("confirm") != outcome:
        # Closing a case cannot be undone from here: the same form comes back, asking to confirm.
        return _todo_page(request, user, todo, case, values=values, confirm=outcome)
    record = needs[outcome]
    data = todo_forms.parse(record, form) if record else None
    now = clock(request).now()
    rt = runtime(request)
    try:
        # The case moves on at once, so the caseworker sees the next to-do when the case page opens.
        done, _moved = services.complete_for(rt.store, rt.rules, user, todo_id, outcome, now, data, via="web")
    except InputError as exc:
        if exc.kind in ("not_found", "forbidden"):
            raise
        fields = exc.fields or {"outcome": str(exc)}
        return _todo_page(request, user, todo, case, HTTP_STATUS[exc.kind], fields=fields, values=values,
                          message=todo_forms.say(str(exc)))  # fmt: skip
    Drafts(rt.engine).discard(todo_id)  # the to-do is done: nobody's draft of it is wanted any more
    return RedirectResponse(f"/cases/{case.id}?done={done.id}", 303)


def _from_this_site(request: Request) -> bool:
    # Only a post our own page sent may leave a draft: another site's (or a script's) could plant text
    # in someone's form. Browsers send Origin with every form post, and Sec-Fetch-Site, which no page sets.
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlparse(origin).netloc == request.headers.get("host")
    return request.headers.get("sec-fetch-site") == "same-origin"


def _keep_draft(request: Request, todo_id: str, form: Any) -> Response:
    """Keep a save that cannot be taken (no live session, stale form) as a draft, then send the user on."""
    user = signed_in(request)
    token = request.cookies.get(SESSION_COOKIE)
    owner = user or (accounts(request).session_owner(token) if token else None)
    kept = owner is not None and _from_this_site(request) and _keep(request, owner, todo_id, form)
    if user is None:
        if not kept:
            raise NotSignedIn()
        return RedirectResponse(f"/sign-in?next={quote('/todos/' + todo_id)}", 303)
    if not kept:
        check_csrf(request, form.get("csrf"))  # refuses, and writes the refusal to the audit log
    record_denied(request, "the form's CSRF token is stale; what was typed is kept as a draft")
    return RedirectResponse(f"/todos/{quote(todo_id)}", 303)


def _keep(request: Request, owner: User, todo_id: str, form: Any) -> bool:
    if owner.role not in WORKERS:
        return False
    try:
        todo, case = _todo(request, owner, todo_id)
    except InputError:
        return False  # not theirs to see: nothing is kept, and the page they come back to says so
    fields = todo_forms.draft_fields([r for r in _record_for(todo).values() if r], form)
    if not _works(owner, case, todo) or not fields:
        return False
    Drafts(runtime(request).engine).keep(todo.id, owner.username, fields, clock(request).now())
    return True


@router.post("/todos/{todo_id}/discard-draft")
def discard_draft(request: Request, todo_id: str, csrf: str = Form("")) -> Response:
    """Throw away the work kept from an earlier save: the form opens empty again."""
    user = require(request, *WORKERS)
    check_csrf(request, csrf)
    todo, _case = _todo(request, user, todo_id)
    Drafts(runtime(request).engine).discard(todo.id, user.username)
    return RedirectResponse(f"/todos/{quote(todo.id)}", 303)


@router.post("/todos/{todo_id}/take")
def take(request: Request, todo_id: str, csrf: str = Form("")) -> Response:
    """Take a to-do from the team queue: its case becomes mine."""
    user = require(request, "caseworker")
    check_csrf(request, csrf)
    todo, case = _todo(request, user, todo_id)
    if todo.assignee != team_queue(case.team):
        raise HTTPException(409, _("That to-do is no longer in the team queue."))
    rt = runtime(request)
    now = clock(request).now()
    services.assign_caseworker(rt.store, rt.rules, case.id, user.username, now, user.username)
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "take_case", case.id, case.municipality, "web", todo.id)], now
    )
    return RedirectResponse(f"/todos/{todo_id}", 303)
