"""The team lead's view: the team's overdue work first, caseload per caseworker, and assigning the queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation import assigning, worklists
from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.errors import HTTP_STATUS, InputError
from web.app import accounts, check_csrf, clock, page, require, runtime
from web.i18n import _
from web.inbox import choice_of, list_context
from web.problems import problem_text

router = APIRouter(include_in_schema=False)


def _caseworkers(request: Request, lead: User) -> list[User]:
    return [u for u in accounts(request).users(lead.municipality, "caseworker") if u.team == lead.team]


def _team_page(request: Request, lead: User, status_code: int = 200, error: str | None = None) -> Response:
    rt = runtime(request)
    choice = choice_of(request)
    caseworkers = _caseworkers(request, lead)
    windows = worklists.due_windows(clock(request).now(), rt.rules.municipality(lead.municipality or "").timezone)
    with rt.store.reads() as reads:
        view = worklists.team_view(reads, rt.rules, lead, [u.username for u in caseworkers], choice, windows)
    q = request.query_params
    done = None
    if q.get("assigned", "").isdigit():
        alerts = q.get("alerts", "")
        done = {"cases": int(q["assigned"]), "to": q.get("to", ""), "alerts": int(alerts) if alerts.isdigit() else 0}
    return page(
        request,
        "team.html.j2",
        status_code,
        view=view,
        caseworkers=caseworkers,
        names={u.username: u.display_name for u in caseworkers},
        error=error,
        done=done,
        **list_context(request, lead, choice),
    )


@router.get("/team", response_class=HTMLResponse)
def team(request: Request) -> Response:
    """Show the team's overdue to-dos and obligations, each caseworker's load and the team queue."""
    return _team_page(request, require(request, "team_lead"))


def _problem(exc: InputError) -> str:
    fields: dict[str, Any] = exc.fields or {}
    if fields.get("todo_ids") == "empty":
        return _("Choose at least one to-do from the team queue.")
    if fields.get("todo_ids") == "too many":
        return _("At most %(n)s to-dos at once.", n=assigning.MAX_AT_ONCE)
    if fields.get("todo_ids") == "done":
        return _("A to-do you chose was done meanwhile. Nothing was assigned; choose again.")
    if "caseworker" in fields:
        return _("Choose a caseworker of the team.")
    return problem_text(str(exc))


@router.post("/team/assign", response_class=HTMLResponse)
async def assign(request: Request) -> Response:
    """Give the cases of the chosen queue to-dos to one caseworker; each change counts for continuity."""
    lead = require(request, "team_lead")
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    todo_ids = [str(v) for v in form.getlist("todo")]
    name = str(form.get("caseworker") or "").strip().lower()
    rt = runtime(request)
    now = clock(request).now()
    staff = accounts(request).user(name) if name else None
    try:
        done = assigning.assign_todos(rt.store, rt.rules, lead, todo_ids, staff, name, now)
    except InputError as exc:
        if exc.kind in ("not_found", "forbidden"):
            raise  # answered like a missing page, and audited as refused (web/app.py)
        return _team_page(request, lead, HTTP_STATUS[exc.kind], _problem(exc))
    accounts(request).audit(
        [AuditEntry(lead.username, lead.role, "reassign", a.case_id, lead.municipality, "web",
                    f"{a.previous or 'team queue'} -> {a.caseworker} (bulk, {len(done)} cases)") for a in done],
        now,
    )  # fmt: skip
    alerts = sum(1 for a in done if a.alerted)
    return RedirectResponse(f"/team?assigned={len(done)}&to={name}&alerts={alerts}#queue", 303)
