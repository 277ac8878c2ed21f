"""Create caseworker to-dos, their deadlines and scheduled reminders for one batch of cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import get_run_logger, task

from activation import services
from activation.runtime import get_runtime


@task(name="create-todos", retries=3, retry_delay_seconds=[1, 5, 15])
def create_todos(from_stages: list[str] | None, now: datetime, batch_size: int) -> dict[str, Any]:
    """Move one batch of cases one step: to-do, deadline, reminders and escalation ladder in one transaction."""
    rt = get_runtime()
    result = services.advance_cases(rt.store, rt.rules, now, from_stages, batch_size)
    progress = result.progress
    logger = get_run_logger()
    for step, error in result.failed:
        # Pseudonymous case id and the rule problem only; never the citizen reference.
        logger.error("case %s: step %s (%s) not applied: %s", step.case_id, step.seq, step.outcome, error)
    summary: dict[str, Any] = {
        "claimed": result.claimed,
        "moved": result.moved,
        "failed": len(result.failed),
        "todos": sum(1 for p in progress if p.todo),
        "alarms": sum(len(p.alarms) for p in progress),
        "letters": sum(len(p.letters) for p in progress),
        "case_ids": sorted({p.case_id for p in progress}),  # pseudonymous ids only
    }
    if progress:
        case_ids = [p.case_id for p in progress]
        logger.info(
            "moved %d case(s) one step, created %d to-do(s) and %d alarm(s): %s",
            result.moved,
            summary["todos"],
            summary["alarms"],
            ", ".join(case_ids[:20]) + (" ..." if len(case_ids) > 20 else ""),
        )
    return summary
