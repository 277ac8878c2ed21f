"""GET /cases/{case_id}: read one case, its open to-dos and deadlines and its pauses; every read is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.exceptions import HTTPException

from activation import access
from activation.access import User
from activation.model import Case
from activation.ports import TodoFilter
from web.api.common import ERRORS, NOT_FOUND, PREFIX, ApiRoute, ApiUser, _audit
from web.api.models import CaseOut, CaseSummary, Deadline, DeadlineChange, PauseOut, Todo
from web.app import clock, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)


def _visible_case(request: Request, user: User, case_id: str) -> Case:
    # Not found and not allowed look the same: nobody learns about other teams' cases.
    with runtime(request).store.transaction() as tx:
        return access.visible_case(tx, user, case_id)


@router.get(
    "/cases/{case_id}",
    tags=["cases"],
    summary="Read a case",
    operation_id="readCase",
    response_model=CaseOut,
    responses={**ERRORS, **NOT_FOUND},
)
def read_case(
    request: Request,
    case_id: Annotated[str, Path(max_length=32, description="the case id", examples=["c-7k2m9qxa"])],
    user: ApiUser,
) -> CaseOut:
    """Return a case with its open to-dos, open deadlines (and why they fall then) and pauses.

    Every read is written to the audit log.
    """
    case = _visible_case(request, user, case_id)
    now = clock(request).now()
    with runtime(request).store.reads() as reads:
        detail = reads.case_detail(case_id)
    with runtime(request).store.transaction() as tx:
        todos = tx.list_todos(TodoFilter(case_id=case_id, limit=500))
        pauses = tx.pauses(case_id)
    if detail is None:
        raise HTTPException(404, f"No case {case_id} visible to you.")
    _audit(request, user, "view_case", case, now)
    deadlines = [
        Deadline(
            id=d.id,
            todo_id=d.todo_id,
            rule_key=d.rule_key,
            start_event=d.start_event,
            started_at=d.started_at,
            due_at=d.due_at,
            calendar=d.calendar,
            config_version=d.config_version,
            paused_since=d.paused_since,
            explanation=d.explanation,
            history=[
                DeadlineChange(
                    revision=h.revision,
                    changed_at=h.changed_at,
                    due_before=h.due_before,
                    due_after=h.due_after,
                    reason=h.reason,
                )
                for h in d.history
            ],
        )
        for d in detail.deadlines
        if d.status == "open"
    ]
    return CaseOut(
        case=CaseSummary.of(case),
        open_todos=[Todo.of(x, now) for x in todos],
        open_deadlines=deadlines,
        pauses=[
            PauseOut(id=p.id, basis=p.basis, starts_at=p.starts_at, ends_at=p.ends_at, active=p.active_at(now))
            for p in pauses
        ],
    )
