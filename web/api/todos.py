"""GET /todos, POST /todos/{todo_id}/complete and POST /todos/assign: list, complete and assign to-dos."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from activation import access, assigning, services
from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.errors import InputError
from activation.ports import TodoFilter
from web.api.common import CONFLICT, ERRORS, NOT_FOUND, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.api.models import CaseSummary, Completed, CompleteIn, Todo, TodoList
from web.app import accounts, clock, require, runtime

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
        done, case = services.complete_for(rt.store, rt.rules, user, todo_id, body.outcome, now, body.data, via="api")
    except InputError as exc:
        if exc.kind != "input" or "outcome" in exc.fields:
            raise  # answered by its kind (404, 403, 409) or about the outcome itself
        # The record's fields sit under `data` in the request.
        fields = {f"data.{k}": v for k, v in exc.fields.items()} or {"data": str(exc)}
        raise InputError(str(exc), fields) from None
    with rt.store.transaction() as tx:
        moved = tx.cases([case.id])[case.id]
        open_todos = tx.list_todos(TodoFilter(case_id=case.id, limit=500))
    return Completed(
        todo=Todo.of(done, now), case=CaseSummary.of(moved), open_todos=[Todo.of(x, now) for x in open_todos]
    )


# -- assigning several to-dos at once (issue 12): the team view's bulk assign, for integrations ----


def lead_user(request: Request, user: ApiUser) -> User:
    """Return the bearer user if they lead a team; otherwise 403 before the body is looked at."""
    return require(request, "team_lead")


class AssignIn(BaseModel):
    """The to-dos whose cases go to one caseworker of the team."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"todo_ids": ["c-7k2m9qxa.0", "c-3hq8wz2b.0"], "caseworker": "cw-02"}]},
    )

    todo_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=48)]] = Field(
        min_length=1,
        max_length=assigning.MAX_AT_ONCE,
        description="open to-dos of the lead's team (the team queue's, say); several of one case assign it once",
        examples=[["c-7k2m9qxa.0"]],
    )
    caseworker: str = Field(
        pattern=access.USERNAME.pattern,
        max_length=64,
        description="username of an active caseworker of the team, who becomes responsible for each case",
        examples=["cw-02"],
    )


class AssignedCase(BaseModel):
    """A case given to a caseworker, and what the continuity rule made of the change."""

    case_id: str = Field(examples=["c-7k2m9qxa"])
    caseworker: str = Field(examples=["cw-02"])
    previous: str | None = Field(default=None, description="the caseworker before; none when it came from the queue")
    todos_moved: int = Field(description="the case's open to-dos that moved to the caseworker", examples=[1])
    changes_in_window: int = Field(
        description="changes of caseworker within the continuity rule's window, this one included (a first"
        " caseworker is no change)",
        examples=[0],
    )
    alerted: bool = Field(description="too many changes: the continuity alert went to the team lead")


class AssignedCases(BaseModel):
    """The cases assigned, one per case however many of its to-dos were named."""

    items: list[AssignedCase]
    count: int = Field(examples=[1])


@router.post(
    "/todos/assign",
    tags=["to-dos"],
    summary="Assign several to-dos' cases to a caseworker",
    operation_id="assignTodos",
    response_model=AssignedCases,
    responses={200: {"headers": REPLAYED}, **ERRORS, **NOT_FOUND, **CONFLICT},
)
def assign_todos(
    request: Request,
    body: AssignIn,
    user: Annotated[User, Depends(lead_user)],
    idempotency_key: IdempotencyKey = None,
) -> AssignedCases:
    """Give the cases of several open to-dos to one caseworker of the team, all or nothing (team leads).

    The same use case as the team view's bulk assign and `activation assign`: a to-do follows its
    case, every change of caseworker is counted, and too many within the rule's window alert the
    team lead (continuity). A to-do outside the lead's team answers 404, one already done 409.
    """
    rt = runtime(request)
    now = clock(request).now()
    name = body.caseworker.strip().lower()
    done = assigning.assign_todos(rt.store, rt.rules, user, body.todo_ids, accounts(request).user(name), name, now)
    accounts(request).audit(
        [AuditEntry(user.username, user.role, "reassign", a.case_id, user.municipality, "api",
                    f"{a.previous or 'team queue'} -> {a.caseworker} (bulk, {len(done)} cases)") for a in done],
        now,
    )  # fmt: skip
    items = [AssignedCase(**vars(a)) for a in done]
    return AssignedCases(items=items, count=len(items))
