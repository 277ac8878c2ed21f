"""Intake: turn recorded applications into first-meeting to-dos with deadlines, reminders and letters."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import move_cases, resolve_now, run_name


@flow(name="intake", flow_run_name=lambda: run_name("intake"), retries=1, retry_delay_seconds=5)
async def intake(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Move every new application to the first-meeting stage and send the invitation letters."""
    return move_cases(["application"], resolve_now(now), batch_size)
