"""Helpers shared by the flows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from activation.ports import SystemClock
from tasks import create_todos, escalate, render_letters, send_reminders

# `activation tick` with no Prefect server up runs the flow code without Prefect (flows/tick.py):
# each task's own function, no task run, no retry, run loggers silenced.
_WITHOUT_PREFECT: ContextVar[bool] = ContextVar("without_prefect", default=False)


@contextmanager
def without_prefect() -> Iterator[None]:
    """Within this block the helpers below call the tasks' functions directly, not through Prefect."""
    from prefect.logging import disable_run_logger

    token = _WITHOUT_PREFECT.set(True)
    try:
        with disable_run_logger():
            yield
    finally:
        _WITHOUT_PREFECT.reset(token)


def _run(task_: Any, *args: Any) -> Any:
    return task_.fn(*args) if _WITHOUT_PREFECT.get() else task_(*args)


def resolve_now(now: datetime | None) -> datetime:
    """Return the given time (a replay) or the real clock; naive times are read as UTC."""
    if now is None:
        return SystemClock().now()
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def run_name(prefix: str) -> str:
    """Name a flow run after the flow and the wall-clock time, never after a person."""
    return f"{prefix} {datetime.now(UTC):%Y-%m-%d %H:%M:%S}"


def move_cases(from_stages: list[str], at: datetime, batch_size: int) -> dict[str, int]:
    """Run the create-to-dos task batch after batch until no pending step of these stages is left."""
    totals = {"moved": 0, "failed": 0, "todos": 0, "alarms": 0, "letters": 0}
    while True:
        result = _run(create_todos, from_stages, at, batch_size)
        for key in totals:
            totals[key] += int(result[key])
        # A short batch means the queue is empty; an all-failed batch would only spin (the failed
        # steps are released and retried by the next run, and parked after repeated failures).
        if result["claimed"] < batch_size or result["failed"] == result["claimed"]:
            break
    # Every pending letter, not only this run's: outcomes recorded in the web or the API queue
    # letters too, and nobody else renders them.
    totals["letters_rendered"] = _run(render_letters, at, batch_size)["rendered"]
    return totals


def fire_due(at: datetime, batch_size: int) -> dict[str, int]:
    """Fire due escalations, then due reminders, batch after batch until none is left."""
    totals = {"escalations": 0, "reminders": 0, "skipped_reminders": 0, "batches": 0}
    # Escalations first: a missed deadline matters more than one coming up.
    for task_, key in ((escalate, "escalations"), (send_reminders, "reminders")):
        while True:
            result = _run(task_, at, batch_size)
            totals[key] += result["fired"]
            totals["skipped_reminders"] += result["skipped"]
            totals["batches"] += 1
            if result["claimed"] < batch_size:
                break
    return totals
