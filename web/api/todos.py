"""GET /todos and POST /todos/{todo_id}/complete: list the to-dos a user may see and complete them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from activation import services
from activation.errors import InputError
from activation.ports import TodoFilter
from web.api.common import CONFLICT, ERRORS, NOT_FOUND, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey, _audit
from web.api.models import CaseSummary, Completed, CompleteIn, Todo, TodoList
from web.app import clock, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)


@router.get(
    "/todos",
    tags=["to-dos"],
    summary="List open to-dos",
    operation_id="listTodos",
    response_model=TodoList,
    responses=ERRORS,
)
def list_todos(
    request: Request,
    user: ApiUser,
    mine: Annotated[bool, Query(description="only mine (and, for a lead or manager, their role's)")] = False,
    overdue: Annotated[bool, Query(description="only those past their due time with the clock running")] = False,
    case_id: Annotated[
        str | None, Query(max_length=32, description="only this case's", examples=["c-7k2m9qxa"])
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 100,
) -> TodoList:
    """Return the open to-dos the user may see, soonest due first.

    A caseworker or team lead sees their team's, a manager their municipality's.
    """
    now = clock(request).now()
    team = user.team if user.role in ("caseworker", "team_lead") else None
    query = TodoFilter(
        case_id=case_id,
        municipality=user.municipality,
        team=team,
        assignees=user.inbox_owners if mine else None,
        overdue_at=now if overdue else None,
        limit=limit,
    )
    with runtime(request).store.transaction() as tx:
        todos = tx.list_todos(query)
    items = [Todo.of(x, now) for x in todos]
    return TodoList(items=items, count=len(items))


@router.post(
    "/todos/{todo_id}/complete",
    tags=["to-dos"],
    summary="Complete a to-do",
    operation_id="completeTodo",
    response_model=Completed,
    responses={200: {"headers": REPLAYED}, **ERRORS, **NOT_FOUND, **CONFLICT},
)
def complete_todo(
    request: Request,
    todo_id: Annotated[str, Path(max_length=48, description="the to-do's id", examples=["c-7k2m9qxa.0"])],
    body: CompleteIn,
    user: ApiUser,
    idempotency_key: IdempotencyKey = None,
) -> Completed:
    """Record a to-do's outcome (with its record, where the outcome needs one) and move the case on.

    The deadline is met or missed, pending reminders stop, and the next to-do is created at once.
    Completing a to-do again with the same outcome changes nothing.
    """
    rt = runtime(request)
    now = clock(request).now()
    try:
        done, case = services.complete_for(rt.store, rt.rules, user, todo_id, body.outcome, now, body.data)
    except InputError as exc:
        if exc.kind != "input" or "outcome" in exc.fields:
            raise  # answered by its kind (404, 403, 409) or about the outcome itself
        # The record's fields sit under `data` in the request.
        fields = {f"data.{k}": v for k, v in exc.fields.items()} or {"data": str(exc)}
        raise InputError(str(exc), fields) from None
    with rt.store.transaction() as tx:
        moved = tx.cases([case.id])[case.id]
        open_todos = tx.list_todos(TodoFilter(case_id=case.id, limit=500))
    _audit(request, user, "complete_todo", case, now, f"{done.id} {done.kind} -> {body.outcome}")
    return Completed(
        todo=Todo.of(done, now), case=CaseSummary.of(moved), open_todos=[Todo.of(x, now) for x in open_todos]
    )
