"""Caseworker pages: sign-in, a case, reassigning cases (the inbox: web/inbox.py; a to-do: web/todo_page.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from activation import access, services
from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.errors import ForbiddenError, InputError
from activation.model import Case
from activation.reads import CaseDetail
from web import case_actions
from web.app import (
    SESSION_COOKIE,
    accounts,
    check_csrf,
    clock,
    page,
    record_denied,
    require,
    runtime,
    secure_cookies,
)
from web.i18n import _
from web.throttle import AddressThrottle

router = APIRouter(include_in_schema=False)

CASE_ROLES = ("caseworker", "team_lead", "manager")
HOME = {"caseworker": "/inbox", "team_lead": "/inbox", "manager": "/console", "operations": "/operations"}


def _safe_next(target: str | None, user: User) -> str:
    # Only a path on this site: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return HOME[user.role]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Send each role to its own start page."""
    user = require(request)
    return RedirectResponse(HOME[user.role], 303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    """Show the sign-in form."""
    return page(request, "sign_in.html.j2", next=next or "", error=None, username="")


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
) -> Response:
    """Check the password and start a session."""
    store = accounts(request)
    now = clock(request).now()
    if not _same_origin(request):
        # A sign-in form posted from another site (login CSRF) signs nobody in.
        record_denied(request, "sign-in posted from another site", who=username.strip().lower())
        raise HTTPException(403, _("Sign in from this site's own sign-in page."))
    throttle: AddressThrottle = request.app.state.throttle
    address = request.client.host if request.client else "-"
    if throttle.blocked(address, now):
        record_denied(request, "too many failed sign-ins from this address", who=username.strip().lower())
        wait = throttle.retry_after(address, now)
        refused = page(
            request,
            "sign_in.html.j2",
            429,
            next=next,
            error=_("Too many failed sign-ins from here; try again in %(n)d minutes.", n=max(1, wait // 60)),
            username=username,
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = store.check_password(username.strip().lower(), password, now)
    if user is None:
        throttle.failed(address, now)
        # One message for every failure: a wrong name, a wrong password and a locked account look alike.
        return page(
            request,
            "sign_in.html.j2",
            401,
            next=next,
            error=_("Wrong username or password, or the account is locked for a while after repeated failures."),
            username=username,
        )
    token, _csrf = store.start_session(user.username, now)
    store.audit([AuditEntry(user.username, user.role, "sign_in", None, user.municipality, "web")], now)
    response = RedirectResponse(_safe_next(next, user), 303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request), path="/"
    )
    return response


def _same_origin(request: Request) -> bool:
    # Browsers send Origin with every form POST; a client without one (a script) is judged by its password.
    origin = request.headers.get("origin")
    if origin == "null":
        # Our Referrer-Policy (no-referrer) makes a browser send "Origin: null" even from our own page;
        # then only the browser's own Sec-Fetch-Site, which no page can set, says where the post came from.
        return request.headers.get("sec-fetch-site") == "same-origin"
    return origin is None or urlparse(origin).netloc == request.headers.get("host")


@router.post("/sign-out")
def sign_out(request: Request, csrf: str = Form("")) -> Response:
    """End the session."""
    require(request)
    check_csrf(request, csrf)
    if token := request.cookies.get(SESSION_COOKIE):
        accounts(request).end_session(token)
    response = RedirectResponse("/sign-in", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _case(request: Request, user: User, case_id: str) -> Case:
    # Not found and not allowed look the same: a caseworker learns nothing about other teams' cases.
    with runtime(request).store.transaction() as tx:
        return access.visible_case(tx, user, case_id)


def _audit_view(request: Request, user: User, case: Case) -> None:
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "view_case", case.id, case.municipality, "web")], clock(request).now()
    )


def timeline(detail: CaseDetail) -> list[dict[str, Any]]:
    """Merge a case's steps, to-dos, deadlines, pauses, escalations and letters into one dated list."""
    items: list[dict[str, Any]] = []
    for s in detail.steps:
        items.append({"at": s.occurred_at, "kind": "step", "title": f"{s.from_stage}: {s.outcome}",
                      "by": s.recorded_by, "data": s.data, "step": s})  # fmt: skip
    for x in detail.todos:
        items.append({"at": x.created_at, "kind": "todo", "title": f"To-do: {x.title}", "by": x.assignee,
                      "todo": x})  # fmt: skip
    for p in detail.pauses:
        items.append({"at": p.starts_at, "kind": "pause", "title": f"Pause ({p.basis})", "pause": p,
                      "by": p.recorded_by})  # fmt: skip
    for n in detail.notifications:
        title = ("Escalation" if n.kind == "escalation" else n.kind.capitalize()) + f" to {n.recipient}"
        items.append({"at": n.created_at, "kind": n.kind, "title": title, "by": "system", "note": n})
    for letter in detail.letters:
        items.append({"at": letter.created_at, "kind": "letter", "title": f"Letter: {letter.form}",
                      "by": "system", "letter": letter})  # fmt: skip
    for c in detail.caseworker_changes:
        items.append({"at": c.changed_at, "kind": "caseworker", "by": c.changed_by, "change": c,
                      "title": f"Caseworker {c.previous or '(team queue)'} → {c.caseworker}"})  # fmt: skip
    return sorted(items, key=lambda i: i["at"], reverse=True)


def current_plan(detail: CaseDetail) -> dict[str, Any] | None:
    """Return the latest signed plan of a case."""
    plans = [s for s in detail.steps if s.from_stage == "plan" and s.outcome == "signed" and s.data]
    return plans[-1].data if plans else None


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str) -> Response:
    """Show a case: timeline, open to-dos, deadlines and why they are due then, pauses, the plan."""
    user = require(request, *CASE_ROLES)
    case = _case(request, user, case_id)
    with runtime(request).store.reads() as reads:
        detail = reads.case_detail(case_id)
    assert detail is not None
    _audit_view(request, user, case)
    caseworkers = (
        [u for u in accounts(request).users(case.municipality, "caseworker") if u.team == case.team]
        if access.may_reassign(user, case)
        else []
    )
    return page(
        request,
        "case.html.j2",
        case=case,
        detail=detail,
        timeline=timeline(detail),
        plan=current_plan(detail),
        open_todos=[x for x in detail.todos if x.status == "open"],
        open_deadlines=[d for d in detail.deadlines if d.status == "open"],
        caseworkers=caseworkers,
        may_reassign=access.may_reassign(user, case),
        changes=sum(1 for c in detail.caseworker_changes if c.previous),
        **case_actions.case_page_context(request, user, case, detail),
    )


@router.post("/cases/{case_id}/reassign")
def reassign(request: Request, case_id: str, caseworker: str = Form(""), csrf: str = Form("")) -> Response:
    """Give a case to another caseworker in the team (team leads); the change is counted."""
    user = require(request, "team_lead")
    check_csrf(request, csrf)
    case = _case(request, user, case_id)
    if not access.may_reassign(user, case):
        raise ForbiddenError("Only the team's lead can reassign its cases.")
    target = accounts(request).user(caseworker.strip())
    if target is None or target.role != "caseworker" or target.team != case.team:
        raise InputError(f"{caseworker!r} is not a caseworker in team {case.team}")
    rt = runtime(request)
    now = clock(request).now()
    result = services.assign_caseworker(rt.store, rt.rules, case.id, target.username, now, user.username)
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "reassign", case.id, case.municipality, "web",
                    f"{result.previous or 'team queue'} -> {target.username}")],
        now,
    )  # fmt: skip
    return RedirectResponse(f"/cases/{case.id}", 303)
