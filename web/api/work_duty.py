"""The work duty's week plans through the API: the same use case as the case page and `activation week-plan`."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from activation import work_duty
from activation.config import MAX_HOURS_A_WEEK
from web.api.case_actions import REFUSED, WorkableCase
from web.api.common import PREFIX, REPLAYED, ApiRoute, ApiUser, IdempotencyKey
from web.app import clock, runtime

router = APIRouter(prefix=PREFIX, route_class=ApiRoute)


class ActivityHours(BaseModel):
    """One activity of the week with its hours."""

    model_config = ConfigDict(extra="forbid")

    activity: str = Field(min_length=1, max_length=work_duty.ACTIVITY_MAX, examples=["Virksomhedspraktik"])
    hours: float = Field(gt=0, le=MAX_HOURS_A_WEEK, description="in half hours", examples=[20])


class WeekPlanIn(BaseModel):
    """A case's work-duty plan for one week (LAB kap. 16 a), replacing the week's earlier one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "week_start": "2026-12-07",
                    "activities": [{"activity": "Virksomhedspraktik", "hours": 20}, {"activity": "Dansk", "hours": 9}],
                }
            ]
        },
    )

    week_start: date = Field(description="the week's Monday")
    activities: list[ActivityHours] = Field(default_factory=list, max_length=work_duty.ACTIVITIES_MAX)
    required_hours: float | None = Field(
        default=None, ge=0, le=MAX_HOURS_A_WEEK, description="fewer than the rule's hours, by individual assessment"
    )


class WeekPlanOut(BaseModel):
    """The week plan as saved, the hours missing and the to-do that created (if it did now)."""

    case_id: str
    week_start: date
    required_hours: float
    planned_hours: float
    shortfall: float
    todo_id: str | None = Field(description="the caseworker's to-do for the week, when this save created it")


@router.post(
    "/cases/{case_id}/week-plans",
    tags=["cases"],
    summary="Save a work-duty week plan",
    operation_id="saveWeekPlan",
    response_model=WeekPlanOut,
    responses={200: {"headers": REPLAYED}, **REFUSED},
)
def save_week_plan(
    request: Request, body: WeekPlanIn, user: ApiUser, case: WorkableCase, idempotency_key: IdempotencyKey = None
) -> WeekPlanOut:
    """Save a case's planned activity hours for a week; a week short of the required hours gives one to-do.

    At most 37 hours a week (LAB kap. 16 a); the week's to-do is created once however often it is saved.
    """
    rt = runtime(request)
    activities = [(a.activity, a.hours) for a in body.activities]
    saved = work_duty.set_week_plan_for(
        rt.store, rt.rules, user, case.id, body.week_start, activities, clock(request).now(), "api", body.required_hours
    )
    p = saved.plan
    return WeekPlanOut(
        case_id=p.case_id,
        week_start=p.week_start,
        required_hours=p.required_hours,
        planned_hours=p.planned_hours,
        shortfall=saved.shortfall,
        todo_id=saved.todo_id,
    )
