"""The deadline sweep: fire due escalations and reminders in set-based batches, each exactly once."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import fire_due, resolve_now, run_name


@flow(name="deadline-sweep", flow_run_name=lambda: run_name("deadline sweep"), retries=1, retry_delay_seconds=5)
async def deadline_sweep(now: datetime | None = None, batch_size: int = 10_000) -> dict[str, int]:
    """Fire every alarm due at `now`; safe to run twice or concurrently (claims are exclusive)."""
    return fire_due(resolve_now(now), batch_size)
