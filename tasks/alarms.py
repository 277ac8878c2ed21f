"""Fire due reminders and escalations: one set-based batch per task run."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task

from activation import services
from activation.runtime import get_runtime


def _fire(kind: str, now: datetime, batch_size: int) -> dict[str, int]:
    rt = get_runtime()
    report = services.sweep(rt.store, now, batch_size, max_batches=1, kind=kind)
    fired = report.fired_escalations if kind == "escalation" else report.fired_reminders
    if fired or report.skipped_reminders:
        get_run_logger().info(
            "fired %d %s(s)%s; e.g. %s",
            fired,
            kind,
            f", skipped {report.skipped_reminders} reminder(s) past their deadline" if report.skipped_reminders else "",
            ", ".join(f"{a.case_id}->{a.notify_role}" for a in report.fired[:10]),
        )
    return {"fired": fired, "skipped": report.skipped_reminders, "claimed": fired + report.skipped_reminders}


@task(name="escalate", task_run_name="escalate overdue to-dos", retries=3, retry_delay_seconds=[1, 5, 15])
def escalate(now: datetime, batch_size: int) -> dict[str, int]:
    """Notify team leads and managers of missed deadlines, each escalation step exactly once."""
    return _fire("escalation", now, batch_size)


@task(name="send-reminders", task_run_name="send reminders", retries=3, retry_delay_seconds=[1, 5, 15])
def send_reminders(now: datetime, batch_size: int) -> dict[str, int]:
    """Remind assignees of deadlines coming up, each reminder exactly once."""
    return _fire("reminder", now, batch_size)
