"""States are declared once, and the SQL store judges rows exactly as the Python predicates do."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, select

from activation import lifecycle
from activation.adapters import lifecycle_sql
from activation.adapters.db import make_engine
from activation.errors import ConflictError
from activation.lifecycle import ALARM, DEADLINE, STEP, TODO, AlarmState, DeadlineStatus, StepState, TodoStatus

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_done_todo_cannot_be_done_again() -> None:
    assert TODO.allows(TodoStatus.OPEN, TodoStatus.DONE)
    with pytest.raises(ConflictError, match="to-do t-1 is done; it cannot become done"):
        TODO.check(TodoStatus.DONE, TodoStatus.DONE, "t-1")


def test_a_deadline_closes_once_as_met_or_missed() -> None:
    assert DEADLINE.final == {DeadlineStatus.MET, DeadlineStatus.MISSED}
    assert not DEADLINE.allows(DeadlineStatus.MET, DeadlineStatus.MISSED)


def test_only_waiting_alarms_are_cancelled_or_superseded_and_a_fired_one_stays_fired() -> None:
    assert ALARM.sources(AlarmState.CANCELLED) == (AlarmState.PENDING, AlarmState.SUSPENDED)
    assert ALARM.sources(AlarmState.SUPERSEDED) == (AlarmState.PENDING, AlarmState.SUSPENDED)
    assert lifecycle_sql.waiting_alarm_states() == ["pending", "suspended"]
    assert AlarmState.FIRED in ALARM.final and AlarmState.SKIPPED in ALARM.final


def test_a_parked_step_can_be_given_another_try_but_an_applied_one_cannot() -> None:
    assert STEP.allows(StepState.PARKED, StepState.PENDING)
    assert not STEP.allows(StepState.APPLIED, StepState.PENDING)
    assert lifecycle.step_state(False, lifecycle.MAX_STEP_FAILURES) == StepState.PARKED
    assert lifecycle.step_state(False, lifecycle.MAX_STEP_FAILURES - 1) == StepState.PENDING


def test_a_todo_done_while_its_clock_is_stopped_counts_as_in_time() -> None:
    due = NOW - timedelta(days=3)
    assert lifecycle.closing_status(due, due - timedelta(days=1), NOW) == DeadlineStatus.MET
    assert lifecycle.closing_status(due, None, NOW) == DeadlineStatus.MISSED
    assert lifecycle.closing_status(NOW, None, NOW) == DeadlineStatus.MET  # on the minute is in time


def _rows() -> list[dict[str, object]]:
    offsets = (timedelta(hours=-1), timedelta(0), timedelta(hours=1))
    rows: list[dict[str, object]] = []
    grid = itertools.product(
        ("open", "met", "missed", "done"),
        offsets,
        (None, NOW - timedelta(hours=5)),
        ("reminder", "escalation"),
        (None, NOW),
        (0, lifecycle.MAX_STEP_FAILURES - 1, lifecycle.MAX_STEP_FAILURES, lifecycle.MAX_STEP_FAILURES + 1),
        (False, True),
    )
    for n, (status, offset, paused, kind, applied, failures, excused) in enumerate(grid):
        rows.append(
            {
                "id": n,
                "status": status,
                "due_at": NOW + offset,
                "paused_since": paused,
                "kind": kind,
                "applied_at": applied,
                "failures": failures,
                "excused": excused,
            }
        )
    return rows


def test_the_sql_case_expressions_agree_with_the_python_predicates_on_every_row(database_url: str) -> None:
    engine = make_engine(database_url)
    table = Table(
        "lifecycle_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("status", String(16)),
        Column("due_at", DateTime(timezone=True)),
        Column("paused_since", DateTime(timezone=True), nullable=True),
        Column("kind", String(16)),
        Column("applied_at", DateTime(timezone=True), nullable=True),
        Column("failures", Integer),
        Column("excused", Boolean),
    )
    rows = _rows()
    c = table.c
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), rows)
            judged = conn.execute(
                select(
                    c.id,
                    lifecycle_sql.closing_status(c.due_at, c.paused_since, NOW).label("closing"),
                    lifecycle_sql.is_overdue(c.status, c.due_at, c.paused_since, NOW).label("overdue"),
                    lifecycle_sql.firing_state(c.kind, c.due_at, NOW).label("firing"),
                    lifecycle_sql.step_state(c.applied_at, c.failures).label("step"),
                    lifecycle_sql.is_parked(c.applied_at, c.failures).label("parked"),
                    lifecycle_sql.is_pending(c.applied_at, c.failures).label("pending"),
                    lifecycle_sql.verdict(c.status, c.due_at, c.paused_since, NOW, c.excused).label("verdict"),
                ).order_by(c.id)
            ).all()
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()
    assert len(judged) == len(rows) == 4 * 3 * 2 * 2 * 2 * 4 * 2
    for row, sql in zip(rows, judged, strict=True):
        due, paused = row["due_at"], row["paused_since"]
        assert isinstance(due, datetime) and (paused is None or isinstance(paused, datetime))
        status, kind, failures = str(row["status"]), str(row["kind"]), int(str(row["failures"]))
        step = lifecycle.step_state(row["applied_at"] is not None, failures)
        verdict = lifecycle.verdict(status, due, paused, NOW, bool(row["excused"]))
        assert sql.closing == lifecycle.closing_status(due, paused, NOW), row
        assert bool(sql.overdue) == lifecycle.is_overdue(status, due, paused, NOW), row
        assert sql.firing == lifecycle.firing_state(kind, due, NOW), row
        assert sql.step == step, row
        assert bool(sql.parked) == (step == StepState.PARKED), row
        assert bool(sql.pending) == (step == StepState.PENDING), row
        assert sql.verdict == (verdict.value if verdict else None), row
