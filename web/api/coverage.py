"""Caseload coverage targets through the API: exempt a case (its team), read the shares per month (managers).

The same use case as the case page and `activation exempt` (activation/coverage.py); the figures are
those of the console's coverage page and `activation coverage`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from activation import coverage
from activation.access import User
from activation.adapters.coverage_sql import target_coverage
from activation.adapters.db import reading
from activation.errors import ForbiddenError
from web.api.case_actions import REFUSED, WorkableCase
from web.api.common import ERRORS, PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.app import clock, require, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)


class ExemptionIn(BaseModel):
    """A case exempted from a coverage target by a concrete assessment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"target": "job_ready_offer", "reason": "finds_job_themselves", "note": "Har selv job fra 1/6"}
            ]
        },
    )

    target: str = Field(min_length=1, max_length=64, description="config: coverage_targets.<key>")
    reason: str = Field(min_length=1, max_length=64, description="config: exemption_reasons.<key>")
    note: str | None = Field(default=None, max_length=coverage.NOTE_MAX, description="the assessment in a sentence")


class ExemptionOut(BaseModel):
    """The exemption as recorded."""

    case_id: str
    target: str
    reason: str
    recorded_by: str
    recorded_at: str
    repeated: bool = Field(description="the same exemption was recorded before; nothing changed")


class CoverageMonthOut(BaseModel):
    """One month of a coverage target (activation/coverage.py says how it is counted)."""

    month: str = Field(examples=["2027-05"])
    forecast: bool = Field(description="the current month: pending cases may still meet the obligation")
    target: float
    cases: int
    met: int
    pending: int
    exempt: int
    over_cap: int
    allowed: int
    counted: int
    share: float | None
    reachable: float | None
    reached: bool | None


class CoverageOut(BaseModel):
    """Every coverage target of the manager's municipality, month by month."""

    targets: dict[str, list[CoverageMonthOut]]


@router.post(
    "/cases/{case_id}/exemptions",
    tags=["cases"],
    summary="Exempt a case from a coverage target",
    operation_id="recordExemption",
    response_model=ExemptionOut,
    status_code=201,
    responses={
        201: {"description": "Recorded and audited.", "headers": REPLAYED},
        200: {"model": ExemptionOut, "description": "The same exemption was recorded before; nothing changed."},
        **REFUSED,
    },
)
def record_exemption(
    request: Request,
    response: Response,
    body: ExemptionIn,
    user: ApiUser,
    case: WorkableCase,
    idempotency_key: IdempotencyKey = None,
) -> ExemptionOut:
    """Exempt a case from a caseload coverage target with a configured reason (at most one per case and target).

    The coverage counts exemptions up to the target's allowed share, in the order they were recorded.
    """
    rt = runtime(request)
    now = clock(request).now()
    result = coverage.record_exemption_for(
        rt.store, rt.rules, user, case.id, body.target, body.reason, now, "api", body.note
    )
    if result.repeated:
        response.status_code = 200
    e = result.exemption
    return ExemptionOut(
        case_id=e.case_id,
        target=e.target,
        reason=e.reason,
        recorded_by=e.recorded_by,
        recorded_at=e.recorded_at.isoformat(),
        repeated=result.repeated,
    )


def manager_user(request: Request, user: ApiUser) -> User:
    """Return the bearer user if they manage a municipality; otherwise 403."""
    found = require(request, "manager")
    if not found.municipality:
        raise ForbiddenError("Only a municipality's managers read its coverage.")
    return found


@router.get(
    "/coverage",
    tags=["console"],
    summary="Coverage targets per month",
    operation_id="coverageTargets",
    response_model=CoverageOut,
    responses={**ERRORS},
)
def coverage_targets(
    request: Request,
    user: Annotated[User, Depends(manager_user)],
    months: Annotated[int, Query(ge=1, le=24, description="calendar months up to and including this one")] = 6,
) -> CoverageOut:
    """Return each coverage target's share per month, exemptions counted, the current month as a forecast."""
    rt = runtime(request)
    now = clock(request).now()
    m = rt.rules.as_of(now).municipality(str(user.municipality))  # the rules in force today
    with reading(rt.engine) as conn:
        found = {
            key: target_coverage(conn, m, key, now, months, coverage.target_since(rt.rules, m.code, key, now))
            for key in m.coverage_targets
        }
    return CoverageOut(
        targets={k: [CoverageMonthOut.model_validate(r.figures()) for r in rows] for k, rows in found.items()}
    )
