"""Move cases on after a caseworker recorded an outcome (first meeting held, no-show, ...)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from activation.journey import stage_names
from flows.common import move_cases, resolve_now, run_name

# Every stage after the application; intake handles that one.
CASEWORKER_STAGES = [s for s in stage_names() if s != "application"]


@flow(name="advance", flow_run_name=lambda: run_name("advance"), retries=1, retry_delay_seconds=5)
async def advance(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Apply recorded outcomes: create the next stage's to-do with its deadline, alarms and letter."""
    return move_cases(CASEWORKER_STAGES, resolve_now(now), batch_size)
