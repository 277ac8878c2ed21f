"""Helpers shared by the flows."""

from __future__ import annotations

from datetime import UTC, datetime

from activation.ports import SystemClock
from tasks import create_todos, escalate, render_letters, send_reminders


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
        result = create_todos(from_stages, at, batch_size)
        for key in totals:
            totals[key] += int(result[key])
        # A short batch means the queue is empty; an all-failed batch would only spin (the failed
        # steps are released and retried by the next run, and parked after repeated failures).
        if result["claimed"] < batch_size or result["failed"] == result["claimed"]:
            break
    # Every pending letter, not only this run's: outcomes recorded in the web or the API queue
    # letters too, and nobody else renders them.
    totals["letters_rendered"] = render_letters(at, batch_size)["rendered"]
    return totals


def fire_due(at: datetime, batch_size: int) -> dict[str, int]:
    """Fire due escalations, then due reminders, batch after batch until none is left."""
    totals = {"escalations": 0, "reminders": 0, "skipped_reminders": 0, "batches": 0}
    # Escalations first: a missed deadline matters more than one coming up.
    for task_, key in ((escalate, "escalations"), (send_reminders, "reminders")):
        while True:
            result = task_(at, batch_size)
            totals[key] += result["fired"]
            totals["skipped_reminders"] += result["skipped"]
            totals["batches"] += 1
            if result["claimed"] < batch_size:
                break
    return totals
