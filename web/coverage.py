"""Caseload coverage targets in the browser: the manager's page per month, the caseworker's exemption form.

The same use case and figures as `activation exempt`, `activation coverage` and the API
(activation/coverage.py): a refusal a caseworker can fix is shown beside its field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activation import coverage
from activation.adapters.coverage_sql import target_coverage
from activation.adapters.db import reading
from activation.errors import InputError
from activation.model import Case
from web.app import check_csrf, clock, page, require, runtime
from web.case_actions import ACTORS, _refusal, _workable_case
from web.console import _manager, parse_months
from web.i18n import _

router = APIRouter(include_in_schema=False)


@router.get("/console/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, months: str | None = None) -> Response:
    """Show each coverage target's share per month, exemptions counted, and the current month's forecast."""
    _user, base = _manager(request)
    count, months_note = parse_months(months)
    now = clock(request).now()
    rt = runtime(request)
    m = rt.rules.as_of(now).municipality(base.code)  # the rules in force today
    with reading(rt.engine) as conn:
        targets = [
            (key, target, target_coverage(conn, m, key, now, count, coverage.target_since(rt.rules, m.code, key, now)))
            for key, target in m.coverage_targets.items()
        ]
    return page(
        request,
        "console_coverage.html.j2",
        title=_("Coverage targets"),
        municipality=m,
        targets=targets,
        reasons=m.exemption_reasons,
        months=count,
        months_note=months_note,
    )


def _exemption_page(
    request: Request,
    case: Case,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    m = runtime(request).rules.as_of(clock(request).now()).municipality(case.municipality)
    targets = {k: t for k, t in m.coverage_targets.items() if t.max_exempt and t.group == case.group}
    return page(
        request,
        "case_exemption.html.j2",
        status_code,
        title=_("Exempt from a coverage target"),
        case=case,
        targets=targets,
        reasons=m.exemption_reasons,
        errors=errors or {},
        values=values or {},
        problem=problem,
        note_max=coverage.NOTE_MAX,
    )


@router.get("/cases/{case_id}/exemption", response_class=HTMLResponse)
def exemption_page(request: Request, case_id: str) -> Response:
    """Show the form to exempt the case from a coverage target with a reason."""
    user = require(request, *ACTORS)
    return _exemption_page(request, _workable_case(request, user, case_id))


@router.post("/cases/{case_id}/exemption", response_class=HTMLResponse)
def record_exemption(
    request: Request,
    case_id: str,
    csrf: str = Form(""),
    target: str = Form(""),
    reason: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Record the exemption (audited); the coverage counts it up to the allowed share."""
    user = require(request, *ACTORS)
    check_csrf(request, csrf)
    case = _workable_case(request, user, case_id)
    values = {"target": target, "reason": reason, "note": note}
    missing: dict[str, Any] = {}
    if not target:
        missing["target"] = _("Choose the target.")
    if not reason:
        missing["reason"] = _("Choose the reason.")
    if missing:
        return _exemption_page(request, case, 422, missing, values)
    rt = runtime(request)
    try:
        coverage.record_exemption_for(
            rt.store, rt.rules, user, case.id, target, reason, clock(request).now(), "web", note
        )
    except InputError as exc:
        status, errors, problem = _refusal(exc, ("target", "reason", "note"))
        return _exemption_page(request, case, status, errors, values, problem)
    return RedirectResponse(f"/cases/{case.id}?exempted={target}", 303)
