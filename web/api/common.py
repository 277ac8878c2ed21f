"""What every API operation shares: error answers, the bearer user, idempotency keys, the route class."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from activation.access import User
from activation.adapters.accounts import AuditEntry
from activation.calendar import CalendarError
from activation.config import ConfigError
from activation.errors import HTTP_STATUS, InputError
from activation.journey import JourneyError
from activation.model import Case
from web.app import NotSignedIn, accounts, clock, denied, require

API_ROLES = ("caseworker", "team_lead", "manager")
KEY_MAX = 128
PREFIX = "/api/v1"


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
    # The use case said what kind of problem it is (input, not found, forbidden, conflict).
    return _problem(HTTP_STATUS[exc.kind], str(exc), exc.fields)


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
    """Run the operation; turn a use case's refusal into the status its kind names, with fields."""
    try:
        return await handler(request)
    except RequestValidationError as exc:
        return _validation_problem(exc)
    except InputError as exc:
        denied(request, exc)
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


def _audit(request: Request, user: User, action: str, case: Case, now: datetime, detail: str | None = None) -> None:
    accounts(request).audit(
        [AuditEntry(user.username, user.role, action, case.id, case.municipality, "api", detail)], now
    )
