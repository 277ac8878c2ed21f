"""POST /applications: record an application, opening one case per citizen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response

from activation import access, services
from activation.errors import InputError
from web.api.common import CONFLICT, ERRORS, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.api.models import ApplicationIn, Recorded
from web.app import accounts, clock, runtime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # an application older than this is a typo, not a case
CLOCK_SKEW = timedelta(minutes=5)

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)


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

    The case's first to-do (the first meeting), its deadline, reminders and invitation are created in
    the same transaction: the to-do is in `GET /todos` when this answers. A citizen whose case you may
    not see is answered 404, like any other thing that is not yours.
    """
    rt = runtime(request)
    now = clock(request).now()
    received_at = body.received_at or now
    if not EARLIEST <= received_at <= now + CLOCK_SKEW:
        problem = "the application must have come in between 2000 and now"
        raise InputError(f"received_at: {problem}", {"received_at": problem})
    rules_here = (
        rt.rules.municipality(body.municipality) if access.may_record_application(user, body.municipality) else None
    )
    team = body.team or (rules_here.default_team if rules_here else "")
    if body.caseworker is not None and rules_here is not None:
        holder = accounts(request).user(body.caseworker)
        if (
            holder is None
            or holder.role != "caseworker"
            or (holder.municipality, holder.team) != (rules_here.code, team)
        ):
            problem = f"{body.caseworker!r} is not a caseworker in team {team} of {rules_here.code}"
            raise InputError(f"caseworker: {problem}", {"caseworker": problem})
    # The case, its first to-do, deadline, alarms and invitation are written in one transaction.
    opened = services.open_case(
        rt.store, rt.rules, body.municipality, body.citizen_ref, received_at, now,
        body.team, body.caseworker, body.group, by=user, via="api",
    )  # fmt: skip
    case = opened.case  # its audit line was written with it
    if not opened.created:
        response.status_code = 200
    return Recorded(case_id=case.id, created=opened.created, municipality=case.municipality)
