"""Search: a case by its exact case id or the citizen's exact reference, within the user's access, audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from activation import finding
from activation.adapters.accounts import AuditEntry
from web.app import accounts, clock, page, record_denied, require, runtime

router = APIRouter(include_in_schema=False)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    """Find a case by its exact case id or citizen reference; anything outside access reads as not found."""
    user = require(request, "caseworker", "team_lead", "manager")
    text = q.strip()[: finding.LONGEST + 1]
    found = None
    if text:
        with runtime(request).store.reads() as reads:
            found = finding.find_case(reads, user, text)
        one = found.cases[0].id if len(found.cases) == 1 else None
        # Every search is audited; the detail says how it went, never what was typed (a citizen's number).
        accounts(request).audit(
            [AuditEntry(user.username, user.role, "search", one, user.municipality, "web", found.audit_detail)],
            clock(request).now(),
        )
        for case in found.refused:
            record_denied(request, "searched for a case outside the user's access", case.id, case.municipality)
    return page(request, "search.html.j2", q=text, found=found)
