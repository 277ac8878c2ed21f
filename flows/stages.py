"""One flow per stage of the journey: each applies the outcomes recorded in its stage, in batches.

`activation serve` deploys them beside intake and the sweep, so operations see in Prefect's UI which
stage's work runs, fails or backs up. Their side effects (to-dos, deadlines, letters) are in tasks/.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import move_cases, resolve_now, run_name


@flow(name="first-meeting", flow_run_name=lambda: run_name("first meeting"), retries=1, retry_delay_seconds=5)
async def first_meeting(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply first meetings held, missed (rebooking) or withdrawn."""
    return move_cases(["first_meeting"], resolve_now(now), batch_size)


@flow(name="assessment", flow_run_name=lambda: run_name("assessment"), retries=1, retry_delay_seconds=5)
async def assessment(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply completed assessments: the plan to-do, and a new target group's obligations."""
    return move_cases(["assessment"], resolve_now(now), batch_size)


@flow(name="plan", flow_run_name=lambda: run_name("plan"), retries=1, retry_delay_seconds=5)
async def plan(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply signed plans: the placement-start to-do with its catalogue deadline, the plan letter."""
    return move_cases(["plan"], resolve_now(now), batch_size)


@flow(name="placement", flow_run_name=lambda: run_name("placement"), retries=1, retry_delay_seconds=5)
async def placement(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply started placements: the follow-up to-do and the wrap-up beside it."""
    return move_cases(["placement"], resolve_now(now), batch_size)


@flow(name="follow-up", flow_run_name=lambda: run_name("follow-up"), retries=1, retry_delay_seconds=5)
async def follow_up(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply follow-up meetings: the next follow-up, a changed plan or the exit."""
    return move_cases(["follow_up"], resolve_now(now), batch_size)


@flow(name="exit", flow_run_name=lambda: run_name("exit"), retries=1, retry_delay_seconds=5)
async def exit_stage(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply exits: the obligations end and the after-exit check is planned."""
    return move_cases(["exit"], resolve_now(now), batch_size)


@flow(name="after-exit-check", flow_run_name=lambda: run_name("after-exit check"), retries=1, retry_delay_seconds=5)
async def after_exit_check(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply after-exit checks: close the case, or reopen it at the assessment (re-entry)."""
    return move_cases(["after_exit_check"], resolve_now(now), batch_size)


STAGE_FLOWS = {
    "first_meeting": first_meeting,
    "assessment": assessment,
    "plan": plan,
    "placement": placement,
    "follow_up": follow_up,
    "exit": exit_stage,
    "after_exit_check": after_exit_check,
}
