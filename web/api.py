"""The REST API under /api/v1 for the municipality's own systems: record applications, work to-dos, read cases.

Authentication is `Authorization: Bearer <token>` only (`activation user token <username>` issues one);
cookies are ignored here, so there is no CSRF to guard against. Every POST takes an optional
`Idempotency-Key`: repeating a request with the same key and body replays the first answer.
Malformed input is answered with 422 and a `fields` map, never with a server error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from activation import access, services
from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.calendar import CalendarError
from activation.config import ConfigError
from activation.errors import InputError
from activation.journey import JourneyError
from activation.model import Case, TodoView
from activation.ports import TodoFilter
from web.app import NotSignedIn, accounts, clock, require, runtime

API_ROLES = ("caseworker", "team_lead", "manager")
KEY_MAX = 128
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # an application older than this is a typo, not a case
CLOCK_SKEW = timedelta(minutes=5)

# Codes of municipalities, teams and target groups as the rules name them.
CODE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# A reference as the municipality writes it: printable, not blank, no control characters.
CITIZEN_REF = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"


# -- answers --------------------------------------------------------------------------------------


class Problem(BaseModel):
    """What went wrong, in words."""

    detail: str = Field(description="what went wrong", examples=["No case c-7k2m9qxa in your team."])


class ValidationProblem(BaseModel):
    """Input that cannot be used, with the problem of each field."""

    detail: str = Field(description="all problems in one sentence", examples=["data.capacity_band: Field required"])
    fields: dict[str, str] = Field(
        description="field (dotted path into the body, or the query/path/header parameter) -> its problem",
        examples=[{"data.capacity_band": "Field required"}],
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No bearer token, or one that is not (or no longer) valid."},
    403: {"model": Problem, "description": "The user's role or municipality does not allow this."},
    422: {"model": ValidationProblem, "description": "Input that cannot be used; `fields` says what to fix."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "Not found, or not visible to this user (the same answer for both)."}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Problem,
        "description": "The Idempotency-Key was used before with a different request, or the to-do was already"
        " completed differently.",
    }
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "'true' when this is the stored answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _problem(status: int, detail: str, fields: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"detail": detail}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse(body, status)


def _validation_problem(exc: RequestValidationError) -> JSONResponse:
    fields: dict[str, str] = {}
    for error in exc.errors():
        fields.setdefault(_field(error.get("loc", ())), str(error.get("msg", "invalid")))
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items()) or "invalid request"
    return _problem(422, detail, fields)


def _input_problem(exc: InputError) -> JSONResponse:
    return _problem(422, str(exc), exc.fields)


# -- who is asking ----------------------------------------------------------------------------------

_UNKNOWN = object()
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    description="An API token issued to a member of staff (`activation user token <username>`).",
)


def _token_user(request: Request, token: str | None) -> User | None:
    """Return the user holding the bearer token (remembered for the request), ignoring cookies and SSO."""
    known = getattr(request.state, "api_user", _UNKNOWN)
    if known is _UNKNOWN:
        known = request.state.api_user = accounts(request).user_by_token(token) if token else None
    return known if isinstance(known, User) else None


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_user(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    """Return the user of the bearer token if their role works cases; otherwise 401 or 403."""
    user = _token_user(request, credentials.credentials if credentials else None)
    # The API believes only its token: a session cookie or the SSO header signs no one in here.
    request.state.user = user
    if user is None:
        raise NotSignedIn()
    return require(request, *API_ROLES)


ApiUser = Annotated[User, Depends(api_user)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=KEY_MAX,
        description="A key of the client's choosing (at most 128 characters). The same key with the same request"
        " replays the first answer (with `Idempotent-Replayed: true`); with a different request it is refused (409).",
        examples=["7f9c2ba4-e88f-11ee-a506-0242ac120002"],
    ),
]


# -- idempotency and error answers, around every API operation -------------------------------------


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return sha256 of method, path and the body as canonical JSON (keys sorted, no spaces)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def _replay(status_code: int, body: Any) -> JSONResponse:
    return JSONResponse(body, status_code, headers={"Idempotent-Replayed": "true"})


async def _answer(request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
    """Run the operation; turn bad input of any kind into 422 with fields."""
    try:
        return await handler(request)
    except RequestValidationError as exc:
        return _validation_problem(exc)
    except InputError as exc:
        return _input_problem(exc)
    except (ConfigError, JourneyError, CalendarError) as exc:
        return _problem(422, str(exc), {})


def _storable(status_code: int) -> bool:
    # A success and a refusal of the input are final answers; anything else may go differently next time.
    return 200 <= status_code < 300 or status_code == 422


async def _idempotent(request: Request, handler: Callable[[Request], Awaitable[Response]]) -> Response:
    key = request.headers.get("idempotency-key")
    if not key or len(key) > KEY_MAX:
        return await _answer(request, handler)  # a key too long is refused by the header's validation
    user = await run_in_threadpool(_token_user, request, _bearer_token(request))
    if user is None or not user.works_cases:
        return await _answer(request, handler)  # 401 or 403: nothing to remember
    print_ = fingerprint(request.method, request.url.path, await request.body())
    store = accounts(request)
    stored = await run_in_threadpool(store.stored_response, user.username, key)
    if stored is not None:
        if stored.fingerprint != print_:
            return _problem(409, "This Idempotency-Key was used with a different request; use a new key.")
        return _replay(stored.status_code, stored.body)
    response = await _answer(request, handler)
    if not _storable(response.status_code):
        return response
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, AttributeError):
        return response
    first = await run_in_threadpool(
        store.store_response, user.username, key, print_, response.status_code, body, clock(request).now()
    )
    if first.fingerprint != print_:
        return _problem(409, "This Idempotency-Key was used with a different request; use a new key.")
    if first.status_code != response.status_code or first.body != body:
        return _replay(first.status_code, first.body)  # a concurrent request with the key answered first
    return response


class ApiRoute(APIRoute):
    """An API operation: idempotency keys on POST, and 422 with `fields` for every kind of bad input."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            if request.method == "POST":
                return await _idempotent(request, handler)
            return await _answer(request, handler)

        return route


router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


# -- models -----------------------------------------------------------------------------------------


class ApplicationIn(BaseModel):
    """An application for social assistance that starts the activation journey."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "municipality": "karlskrona",
                    "citizen_ref": "KK-2026-00412",
                    "received_at": "2026-11-23T09:00:00+01:00",
                }
            ]
        },
    )

    municipality: str = Field(
        pattern=CODE, max_length=64, description="the municipality's code in the rules", examples=["karlskrona"]
    )
    citizen_ref: str = Field(
        min_length=1,
        max_length=128,
        pattern=CITIZEN_REF,
        description="the municipality's own reference for the citizen; the same reference twice opens one case",
        examples=["KK-2026-00412"],
    )
    team: str | None = Field(
        default=None, pattern=CODE, max_length=64, description="team code; the municipality's default team if left out"
    )
    caseworker: str | None = Field(
        default=None,
        pattern=access.USERNAME.pattern,
        max_length=64,
        description="username of the responsible caseworker in that team; the team queue if left out",
        examples=["cw-01"],
    )
    group: str | None = Field(
        default=None,
        pattern=CODE,
        max_length=48,
        description="target group code; the municipality's default if left out",
    )
    received_at: AwareDatetime | None = Field(
        default=None,
        description="when the application came in, with a time zone (not in the future, not before 2000); now if"
        " left out",
        examples=["2026-11-23T09:00:00+01:00"],
    )


class Recorded(BaseModel):
    """The case an application opened (or the one already open for that citizen)."""

    case_id: str = Field(description="the pseudonymous case id", examples=["c-7k2m9qxa"])
    created: bool = Field(description="false when the citizen already had a case here", examples=[True])
    municipality: str = Field(examples=["karlskrona"])


class Todo(BaseModel):
    """A to-do: what to do for a case, by when, and the outcomes it accepts."""

    id: str = Field(examples=["c-7k2m9qxa.0"])
    case_id: str = Field(examples=["c-7k2m9qxa"])
    municipality: str = Field(examples=["karlskrona"])
    kind: str = Field(examples=["first_meeting"])
    title: str = Field(examples=["Hold the first meeting"])
    stage: str = Field(examples=["first_meeting"])
    assignee: str = Field(description="a caseworker's username, or a queue such as 'queue:arbetsmarknad'")
    team: str = Field(examples=["arbetsmarknad"])
    status: str = Field(description="open or done", examples=["open"])
    outcomes: list[str] = Field(description="the outcomes completing it accepts", examples=[["held", "no_show"]])
    outcome: str | None = Field(default=None, description="the outcome it was completed with")
    due_at: datetime = Field(description="when it is due (UTC)")
    overdue: bool = Field(description="open past its due time with its clock running")
    paused_since: datetime | None = Field(default=None, description="set while a pause stops its deadline's clock")
    created_at: datetime
    completed_at: datetime | None = None
    rule_key: str | None = Field(default=None, description="the rule that set the deadline", examples=["first_meeting"])
    explanation: str | None = Field(
        default=None, description="why it is due then: the rule, its source and the calendar"
    )
    side: bool = Field(description="beside the journey (e.g. health information); does not move the case")

    @classmethod
    def of(cls, todo: TodoView, now: datetime) -> Todo:
        """Describe a to-do as the API shows it."""
        return cls(
            id=todo.id,
            case_id=todo.case_id,
            municipality=todo.municipality,
            kind=todo.kind,
            title=todo.title,
            stage=todo.stage,
            assignee=todo.assignee,
            team=todo.team,
            status=todo.status,
            outcomes=list(todo.outcomes),
            outcome=todo.outcome,
            due_at=todo.due_at,
            overdue=todo.overdue(now),
            paused_since=todo.paused_since,
            created_at=todo.created_at,
            completed_at=todo.completed_at,
            rule_key=todo.rule_key,
            explanation=todo.explanation,
            side=todo.side,
        )


class TodoList(BaseModel):
    """To-dos, soonest due first."""

    items: list[Todo]
    count: int = Field(description="how many items this answer holds (at most the limit)", examples=[1])


class CompleteIn(BaseModel):
    """The outcome of a to-do and, where the outcome needs one, its record."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"outcome": "held"},
                {"outcome": "completed", "data": {"capacity_band": "26-50", "barriers": ["housing"]}},
            ]
        },
    )

    outcome: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="one of the to-do's outcomes", examples=["held"]
    )
    data: dict[str, Any] | None = Field(
        default=None,
        description="the record the outcome needs (assessment, plan, placement, follow_up or exit), as the forms"
        " define it; leave out for an outcome without one",
    )


class CaseSummary(BaseModel):
    """A case at a glance."""

    id: str = Field(examples=["c-7k2m9qxa"])
    municipality: str = Field(examples=["karlskrona"])
    citizen_ref: str = Field(description="the municipality's own reference for the citizen")
    team: str = Field(examples=["arbetsmarknad"])
    caseworker: str | None = Field(default=None, description="the responsible caseworker; none while in the team queue")
    stage: str = Field(examples=["first_meeting"])
    stage_entered_at: datetime
    status: str = Field(examples=["open"])
    group: str = Field(description="the target group whose obligations apply", examples=["activity_ready"])

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        """Describe a case as the API shows it."""
        return cls(
            id=case.id,
            municipality=case.municipality,
            citizen_ref=case.citizen_ref,
            team=case.team,
            caseworker=case.caseworker,
            stage=case.stage,
            stage_entered_at=case.stage_entered_at,
            status=case.status,
            group=case.group,
        )


class Completed(BaseModel):
    """The completed to-do and where its case stands now."""

    todo: Todo
    case: CaseSummary
    open_todos: list[Todo] = Field(description="the case's open to-dos after it moved on")


class DeadlineChange(BaseModel):
    """A revision of a deadline: a pause moved it or stopped its clock."""

    revision: int
    changed_at: datetime
    due_before: datetime
    due_after: datetime | None = Field(
        default=None, description="none while the clock is stopped by an open-ended pause"
    )
    reason: str


class Deadline(BaseModel):
    """An open deadline and why it falls when it does."""

    id: str
    todo_id: str | None = Field(default=None, description="the to-do it belongs to; none for an obligation's deadline")
    rule_key: str = Field(examples=["first_meeting"])
    start_event: str = Field(examples=["application received"])
    started_at: datetime
    due_at: datetime
    calendar: str
    config_version: str
    paused_since: datetime | None = None
    explanation: str = Field(description="the rule, its legal source and the calendar arithmetic")
    history: list[DeadlineChange]


class PauseOut(BaseModel):
    """A period when the citizen's deadlines stop counting."""

    id: str
    basis: str = Field(examples=["sickness"])
    starts_at: datetime
    ends_at: datetime | None = Field(default=None, description="none while the end is not known")
    active: bool = Field(description="covers the moment of this answer")


class CaseOut(BaseModel):
    """A case: its summary, open to-dos, open deadlines with their explanation, and pauses."""

    case: CaseSummary
    open_todos: list[Todo]
    open_deadlines: list[Deadline]
    pauses: list[PauseOut]


# -- operations -------------------------------------------------------------------------------------


def _audit(request: Request, user: User, action: str, case: Case, now: datetime, detail: str | None = None) -> None:
    accounts(request).audit(
        [AuditEntry(user.username, user.role, action, case.id, case.municipality, "api", detail)], now
    )


def _visible_case(request: Request, user: User, case_id: str) -> Case:
    with runtime(request).store.transaction() as tx:
        case = tx.cases([case_id]).get(case_id)
    # Not found and not allowed look the same: nobody learns about other teams' cases.
    if case is None or not access.may_view_case(user, case):
        raise HTTPException(404, f"No case {case_id} visible to you.")
    return case


@router.post(
    "/applications",
    tags=["applications"],
    summary="Record an application",
    operation_id="recordApplication",
    response_model=Recorded,
    status_code=201,
    responses={
        201: {"description": "A case was opened.", "headers": REPLAYED},
        200: {"model": Recorded, "description": "The citizen already had a case here; that one is returned."},
        **ERRORS,
        **CONFLICT,
    },
)
def record_application(
    request: Request, response: Response, body: ApplicationIn, user: ApiUser, idempotency_key: IdempotencyKey = None
) -> Recorded:
    """Open a case for an application in the user's own municipality; the same citizen twice opens one case.

    The intake flow then books the first meeting and sends the invitation.
    """
    if not access.may_record_application(user, body.municipality):
        raise HTTPException(403, f"You do not work cases in {body.municipality}.")
    rt = runtime(request)
    now = clock(request).now()
    received_at = body.received_at or now
    if not EARLIEST <= received_at <= now + CLOCK_SKEW:
        problem = "the application must have come in between 2000 and now"
        raise InputError(f"received_at: {problem}", {"received_at": problem})
    rules_here = rt.rules.municipality(body.municipality)
    if body.team is not None and body.team not in rules_here.teams:
        problem = f"unknown team {body.team!r}; teams: {', '.join(rules_here.teams)}"
        raise InputError(f"team: {problem}", {"team": problem})
    if body.group is not None and body.group not in rules_here.groups:
        problem = f"unknown target group {body.group!r}; groups: {', '.join(rules_here.groups)}"
        raise InputError(f"group: {problem}", {"group": problem})
    team = body.team or rules_here.default_team
    if body.caseworker is not None:
        holder = accounts(request).user(body.caseworker)
        if (
            holder is None
            or holder.role != "caseworker"
            or (holder.municipality, holder.team) != (rules_here.code, team)
        ):
            problem = f"{body.caseworker!r} is not a caseworker in team {team} of {rules_here.code}"
            raise InputError(f"caseworker: {problem}", {"caseworker": problem})
    recorded = services.record_application(
        rt.store, rt.rules, body.municipality, body.citizen_ref, received_at, team, body.caseworker, group=body.group
    )
    with rt.store.transaction() as tx:
        case = tx.cases([recorded.case_id])[recorded.case_id]
    _audit(request, user, "record_application", case, now, "created" if recorded.created else "already open")
    if not recorded.created:
        response.status_code = 200
    return Recorded(case_id=recorded.case_id, created=recorded.created, municipality=recorded.municipality)


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
    with rt.store.transaction() as tx:
        todo = tx.todo(todo_id)
        case = tx.cases([todo.case_id]).get(todo.case_id) if todo else None
    if todo is None or case is None or not access.may_view_case(user, case):
        raise HTTPException(404, f"No to-do {todo_id} visible to you.")
    if not access.may_complete(user, case, todo.assignee):
        raise HTTPException(403, "This to-do belongs to someone else; ask your team lead to reassign it.")
    if todo.status != "open" and todo.outcome != body.outcome:
        raise HTTPException(409, f"To-do {todo_id} is already {todo.status} with outcome {todo.outcome!r}.")
    if body.outcome not in todo.outcomes:
        problem = f"choose one of {', '.join(todo.outcomes)}"
        raise InputError(f"outcome: {problem}", {"outcome": problem})
    now = clock(request).now()
    try:
        done = services.complete_and_move_on(
            rt.store, rt.rules, todo_id, body.outcome, now, user.username, body.data,
            take_from_queue=todo.status == "open" and user.role == "caseworker",
        )  # fmt: skip
    except InputError as exc:
        fields = {f"data.{k}": v for k, v in exc.fields.items()} or {"data": str(exc)}
        raise InputError(str(exc), fields) from None
    except RuntimeError:
        # Someone else completed it at the same moment.
        raise HTTPException(409, f"To-do {todo_id} was completed by someone else just now.") from None
    with rt.store.transaction() as tx:
        moved = tx.cases([case.id])[case.id]
        open_todos = tx.list_todos(TodoFilter(case_id=case.id, limit=500))
    _audit(request, user, "complete_todo", case, now, f"{done.id} {done.kind} -> {body.outcome}")
    return Completed(
        todo=Todo.of(done, now), case=CaseSummary.of(moved), open_todos=[Todo.of(x, now) for x in open_todos]
    )


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
    with runtime(request).store.transaction() as tx:
        detail = tx.case_detail(case_id)
        todos = tx.list_todos(TodoFilter(case_id=case_id, limit=500))
        pauses = tx.pauses(case_id)
    if detail is None:
        raise HTTPException(404, f"No case {case_id} visible to you.")
    _audit(request, user, "view_case", case, now)
    deadlines = [
        Deadline(
            id=d["id"],
            todo_id=d["todo_id"],
            rule_key=d["rule_key"],
            start_event=d["start_event"],
            started_at=d["started_at"],
            due_at=d["due_at"],
            calendar=d["calendar"],
            config_version=d["config_version"],
            paused_since=d["paused_since"],
            explanation=d["explanation"],
            history=[
                DeadlineChange(
                    revision=h["revision"],
                    changed_at=h["changed_at"],
                    due_before=h["due_before"],
                    due_after=h["due_after"],
                    reason=h["reason"],
                )
                for h in d["history"]
            ],
        )
        for d in detail["deadlines"]
        if d["status"] == "open"
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
