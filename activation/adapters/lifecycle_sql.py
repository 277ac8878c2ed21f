"""The lifecycle's verdicts as SQL expressions, for statements that judge many rows at once.

Each function mirrors one predicate of activation/lifecycle.py; tests/test_lifecycle.py evaluates
both on the same rows, on SQLite and PostgreSQL, and fails when they disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, literal, or_
from sqlalchemy.sql import ColumnElement

from activation.lifecycle import (
    ALARM,
    MAX_STEP_FAILURES,
    AlarmState,
    DeadlineStatus,
    StepState,
    TodoStatus,
    Verdict,
)

Column = ColumnElement[Any]


def waiting_alarm_states() -> list[str]:
    """Return the alarm states a cancellation or a new revision may end (pending and suspended)."""
    assert ALARM.sources(AlarmState.CANCELLED) == ALARM.sources(AlarmState.SUPERSEDED)
    return [s.value for s in ALARM.sources(AlarmState.CANCELLED)]


def closing_status(due_at: Column, paused_since: Column, completed_at: datetime) -> Column:
    """Mirror `lifecycle.closing_status`: met when done by the due time or while the clock is stopped."""
    return case(
        (or_(due_at >= completed_at, paused_since.is_not(None)), literal(DeadlineStatus.MET.value)),
        else_=literal(DeadlineStatus.MISSED.value),
    )


def is_overdue(status: Column, due_at: Column, paused_since: Column, now: datetime) -> Column:
    """Mirror `lifecycle.is_overdue`: open, past due, clock running."""
    return and_(status == TodoStatus.OPEN.value, paused_since.is_(None), due_at < now)


def firing_state(kind: Column, deadline_due_at: Column, now: datetime) -> Column:
    """Mirror `lifecycle.firing_state`: a reminder reached after its deadline is skipped, the rest fire."""
    return case(
        (and_(kind == "reminder", deadline_due_at <= now), literal(AlarmState.SKIPPED.value)),
        else_=literal(AlarmState.FIRED.value),
    )


def step_state(applied_at: Column, failures: Column) -> Column:
    """Mirror `lifecycle.step_state`: applied, parked after MAX_STEP_FAILURES, else pending."""
    return case(
        (applied_at.is_not(None), literal(StepState.APPLIED.value)),
        (failures >= MAX_STEP_FAILURES, literal(StepState.PARKED.value)),
        else_=literal(StepState.PENDING.value),
    )


def is_parked(applied_at: Column, failures: Column) -> Column:
    """Tell in SQL whether a step waits for operations."""
    return and_(applied_at.is_(None), failures >= MAX_STEP_FAILURES)


def is_pending(applied_at: Column, failures: Column) -> Column:
    """Tell in SQL whether a step waits to be applied."""
    return and_(applied_at.is_(None), failures < MAX_STEP_FAILURES)


def verdict(status: Column, due_at: Column, paused_since: Column, now: datetime, excused: Column) -> Column:
    """Mirror `lifecycle.verdict` (NULL for a deadline closed otherwise)."""
    missed = or_(status == DeadlineStatus.MISSED.value, is_overdue(status, due_at, paused_since, now))
    return case(
        (status == DeadlineStatus.MET.value, literal(Verdict.MET.value)),
        (and_(missed, excused), literal(Verdict.EXCUSED.value)),
        (missed, literal(Verdict.MISSED.value)),
        (status == DeadlineStatus.OPEN.value, literal(Verdict.OPEN.value)),
        else_=None,
    )
