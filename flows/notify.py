"""Deliver notifications: new outbox events fanned out to receivers, then due deliveries sent in batches."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import resolve_now, run_name
from tasks.notify import dispatch_notifications, run_pass, send_notifications


@flow(
    name="deliver-notifications",
    flow_run_name=lambda: run_name("deliver notifications"),
    retries=1,
    retry_delay_seconds=5,
)
async def deliver_notifications(
    now: datetime | None = None, batch_size: int = 50, max_messages: int = 2000
) -> dict[str, int]:
    """Dispatch new events and send at most max_messages due deliveries; safe to run twice or concurrently."""
    at = resolve_now(now)
    return run_pass(
        lambda limit: dispatch_notifications(at, limit),
        lambda limit: send_notifications(at, limit),
        max_messages,
        batch_size,
    )
