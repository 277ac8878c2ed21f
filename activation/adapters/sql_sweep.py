"""The deadline sweep as set-based SQL: claim, fire, notify and report to the outbox inside the database.

Nothing but counts and a small sample comes back to Python, and no statement carries a parameter
per alarm, so a batch costs a handful of statements whatever its size (issue 16: the row-by-row
outbox and the `cases.id IN (...)` list made the sweep 12x the raw insert of its rows, and a batch
over 65,535 crashed PostgreSQL's parameter limit).

PostgreSQL runs one data-modifying statement per batch (claim with SKIP LOCKED, update, insert
notifications and outbox, count); SQLite, which holds the write lock for the whole transaction
anyway, runs the same steps as separate statements keyed on the batch's sweep id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, case, func, literal, select, update
from sqlalchemy.sql import ColumnElement

from activation.adapters import tables as t
from activation.adapters.lifecycle_sql import firing_state
from activation.adapters.sql_rows import chosen_once, fired_of, insert_new
from activation.lifecycle import AlarmState
from activation.model import SweepReport

SAMPLE = 100  # fired alarms kept in a sweep report for display; the counts cover all

NOTIFICATION_COLUMNS = (  # what a notification row holds (bench/sweep.py writes the same)
    "id",
    "case_id",
    "kind",
    "step",
    "notify_role",
    "recipient",
    "rule_key",
    "deadline_due_at",
    "created_at",
)
_OUTBOX_COLUMNS = ("id", "kind", "case_id", "municipality", "payload", "created_at")
_SAMPLED = ("id", "case_id", "kind", "step", "notify_role", "recipient", "fires_at", "deadline_due_at", "rule_key")


def _iso(column: Any, postgres: bool) -> ColumnElement[str]:
    """Render a stored UTC time as Python's `datetime.isoformat()` does, "+00:00" included."""
    if postgres:
        whole = func.to_char(column, literal('YYYY-MM-DD"T"HH24:MI:SS', String))
        micro = func.to_char(column, literal("US", String))
    else:
        # SQLAlchemy stores SQLite times as "YYYY-MM-DD HH:MM:SS.ffffff".
        whole = func.strftime(literal("%Y-%m-%dT%H:%M:%S", String), column)
        micro = func.coalesce(func.substr(column, 21, 6), literal("", String))
    fraction = case((micro.in_(["", "000000"]), literal("", String)), else_=literal(".", String) + micro)
    return whole + fraction + literal("+00:00", String)


def _payload(fired: Any, municipality: Any, now: datetime, postgres: bool) -> ColumnElement[Any]:
    """Build the outbox payload in the database: the keys `add_to_outbox` writes for an alarm."""
    build = func.json_build_object if postgres else func.json_object
    event_id = fired.c.kind + literal(":", String) + fired.c.id
    return build(
        literal("event", String), fired.c.kind,
        literal("id", String), event_id,
        literal("case_id", String), fired.c.case_id,
        literal("municipality", String), municipality,
        literal("occurred_at", String), literal(now.isoformat(), String),
        literal("step", String), fired.c.step,
        literal("notify_role", String), fired.c.notify_role,
        literal("recipient", String), fired.c.recipient,
        literal("rule_key", String), fired.c.rule_key,
        literal("deadline_due_at", String), _iso(fired.c.deadline_due_at, postgres),
    )  # fmt: skip


def _notifications(fired: Any, now: datetime) -> Any:
    """INSERT the notifications of the fired alarms (one per alarm: the id is the alarm's)."""
    rows = select(
        fired.c.id,
        fired.c.case_id,
        fired.c.kind,
        fired.c.step,
        fired.c.notify_role,
        fired.c.recipient,
        fired.c.rule_key,
        fired.c.deadline_due_at,
        literal(now, t.UTCDateTime()).label("created_at"),
    ).where(fired.c.state == AlarmState.FIRED.value)
    return insert_new(t.notifications).from_select(NOTIFICATION_COLUMNS, rows)


def _outbox(fired: Any, now: datetime, postgres: bool) -> Any:
    """INSERT one outbox event per fired alarm, its payload built by the database."""
    rows = (
        select(
            (fired.c.kind + literal(":", String) + fired.c.id).label("id"),
            fired.c.kind,
            fired.c.case_id,
            t.cases.c.municipality,
            _payload(fired, t.cases.c.municipality, now, postgres).label("payload"),
            literal(now, t.UTCDateTime()).label("created_at"),
        )
        .join_from(fired, t.cases, t.cases.c.id == fired.c.case_id)
        .where(fired.c.state == AlarmState.FIRED.value)
    )
    return insert_new(t.outbox).from_select(_OUTBOX_COLUMNS, rows)


def _counted_sample(fired: Any) -> Any:
    """Select each (kind, state) group's count n with at most SAMPLE of its alarms, in one statement."""
    group = (fired.c.kind, fired.c.state)
    ranked = select(
        *(fired.c[name] for name in _SAMPLED),
        fired.c.state,
        func.count().over(partition_by=group).label("n"),
        func.row_number().over(partition_by=group, order_by=(fired.c.fires_at, fired.c.id)).label("rn"),
    ).subquery("ranked")
    return select(ranked).where(ranked.c.rn <= SAMPLE)


def _report(counts: Any, sample: Any) -> SweepReport:
    """Return a batch's report from its (kind, state, n) counts and a sample of its fired alarms."""
    report = SweepReport(batches=1)
    for kind, state, n in counts:
        if state == AlarmState.SKIPPED.value:
            report.skipped_reminders += n
        elif kind == "reminder":
            report.fired_reminders += n
        else:
            report.fired_escalations += n
    fired = sorted((r for r in sample if r.state == AlarmState.FIRED.value), key=lambda r: (r.fires_at, r.id))
    report.fired.extend(fired_of(r) for r in fired[:SAMPLE])
    return report


def _due(now: datetime, limit: int, kind: str | None) -> Any:
    """Select the ids of the next `limit` due pending alarms, earliest first."""
    due = select(t.alarms.c.id).where(t.alarms.c.state == AlarmState.PENDING.value, t.alarms.c.fires_at <= now)
    if kind:
        due = due.where(t.alarms.c.kind == kind)
    return due.order_by(t.alarms.c.fires_at).limit(limit)


def _fire(now: datetime, sweep_id: str, taken: Any) -> Any:
    """UPDATE the taken alarms that are still pending to fired (or skipped), stamped with the sweep."""
    # A reminder whose deadline has already passed (late processing, a replay) is skipped:
    # the escalation says it better.
    return (
        update(t.alarms)
        .values(state=firing_state(t.alarms.c.kind, t.alarms.c.deadline_due_at, now), fired_at=now, sweep_id=sweep_id)
        .where(t.alarms.c.id.in_(taken), t.alarms.c.state == AlarmState.PENDING.value)
    )


def postgres_batch(now: datetime, limit: int, kind: str | None, sweep_id: str) -> Any:
    """Return PostgreSQL's whole batch as one statement: claim, fire, notify, report, count."""
    chosen = chosen_once(_due(now, limit, kind).with_for_update(skip_locked=True))
    fired = (
        _fire(now, sweep_id, select(chosen.c.id))
        .returning(*(t.alarms.c[name] for name in _SAMPLED), t.alarms.c.state)
        .cte("fired")
    )
    noted = _notifications(fired, now).cte("noted")
    reported = _outbox(fired, now, postgres=True).cte("reported")
    return _counted_sample(fired).add_cte(noted, reported)


def fire_due_alarms(conn: Connection, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
    """Fire one batch of due alarms exactly once each; notifications and outbox written alongside."""
    sweep_id = uuid.uuid4().hex
    if conn.dialect.name == "postgresql":
        rows = conn.execute(postgres_batch(now, limit, kind, sweep_id)).all()
        return _report({(r.kind, r.state, r.n) for r in rows}, rows)
    conn.execute(_fire(now, sweep_id, _due(now, limit, kind).scalar_subquery()))
    batch = (
        select(*(t.alarms.c[name] for name in _SAMPLED), t.alarms.c.state)
        .where(t.alarms.c.sweep_id == sweep_id)
        .subquery("fired")
    )
    conn.execute(_notifications(batch, now))
    conn.execute(_outbox(batch, now, postgres=False))
    # Two small reads instead of one window over the batch: the counts, and the first SAMPLE fired.
    counts = conn.execute(
        select(batch.c.kind, batch.c.state, func.count().label("n")).group_by(batch.c.kind, batch.c.state)
    ).all()
    fired = select(batch).where(batch.c.state == AlarmState.FIRED.value)
    sample = conn.execute(fired.order_by(batch.c.fires_at, batch.c.id).limit(SAMPLE)).all()
    return _report(counts, sample)
