"""What the parts of the SQL store share: the connection, dialect-aware inserts, row builders, the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, insert, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ClauseElement

from activation.adapters import tables as t
from activation.model import AlarmRecord, DeadlineRecord, FiredAlarm, Pause, Step, TodoView


class SqlPart:
    """A part of the unit of work (one role of the Transaction port) on a connection."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"


class _DoNothingOnConflict(ClauseElement):
    """ON CONFLICT DO NOTHING with no target: the same words on SQLite (3.24+) and PostgreSQL."""

    __visit_name__ = "activation_do_nothing_on_conflict"
    _traverse_internals = []  # noqa: RUF012 (SQLAlchemy reads it from the class: nothing to key on)
    inherit_cache = True


@compiles(_DoNothingOnConflict)
def _do_nothing(element: _DoNothingOnConflict, compiler: Any, **kw: Any) -> str:
    return "ON CONFLICT DO NOTHING"


_DO_NOTHING = _DoNothingOnConflict()


def insert_new(table: Any) -> Insert:
    """Return an INSERT that skips rows already there (ON CONFLICT DO NOTHING), compiled once and cached.

    The dialects' own `insert().on_conflict_do_nothing()` is not cacheable in SQLAlchemy 2.0
    (`inherit_cache = False`): it was compiled anew on every call, a quarter of opening a case.
    The standard INSERT already keys its cache on the post-VALUES clause, so a stateless one caches.
    """
    stmt = insert(table)
    stmt._post_values_clause = _DO_NOTHING
    return stmt


def chosen_once(batch: Any) -> Any:
    """Materialise a LIMITed batch, so the UPDATE that takes it takes at most that many rows.

    Inlined, PostgreSQL may evaluate the LIMIT ... FOR UPDATE SKIP LOCKED subquery again for each row
    of a nested-loop semi-join, skipping rows the statement itself already locked, and take more.
    """
    return batch.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")


def add_to_outbox(conn: Connection, events: Sequence[tuple[str, str, str, dict[str, Any]]], now: datetime) -> None:
    """Record (kind, source id, case id, details) events for other systems, in this transaction."""
    if not events:
        return
    found = conn.execute(
        select(t.cases.c.id, t.cases.c.municipality).where(t.cases.c.id.in_({e[2] for e in events}))
    ).all()
    municipality: dict[str, str] = {r.id: r.municipality for r in found}
    rows = [
        {
            "id": f"{kind}:{source}",
            "kind": kind,
            "case_id": case_id,
            "municipality": municipality[case_id],
            # Pseudonymous on purpose: a receiver that needs the citizen asks the API, which audits it.
            "payload": {"event": kind, "id": f"{kind}:{source}", "case_id": case_id,
                        "municipality": municipality[case_id], "occurred_at": now.isoformat(), **details},
            "created_at": now,
        }
        for kind, source, case_id, details in events
    ]  # fmt: skip
    conn.execute(insert_new(t.outbox), rows)


STEP_COLUMNS = (
    t.steps.c.id,
    t.steps.c.case_id,
    t.steps.c.seq,
    t.steps.c.from_stage,
    t.steps.c.outcome,
    t.steps.c.occurred_at,
    t.steps.c.todo_id,
    t.steps.c.failures,
    t.steps.c.last_error,
    t.steps.c.data,
)

ALARM_COLUMNS = (
    t.alarms.c.id,
    t.alarms.c.case_id,
    t.alarms.c.kind,
    t.alarms.c.step,
    t.alarms.c.notify_role,
    t.alarms.c.recipient,
    t.alarms.c.fires_at,
    t.alarms.c.deadline_due_at,
    t.alarms.c.rule_key,
)


def deadline_row(d: DeadlineRecord) -> dict[str, Any]:
    """Return the row of a new deadline."""
    return {
        "id": d.id,
        "case_id": d.case_id,
        "todo_id": d.todo_id,
        "rule_key": d.rule_key,
        "config_version": d.config_version,
        "calendar": d.calendar,
        "start_event": d.start_event,
        "started_at": d.started_at,
        "due_at": d.due_at,
        "status": "open",
        "explanation": d.explanation,
    }


def alarm_row(a: AlarmRecord, rule_key: str) -> dict[str, Any]:
    """Return the row of a new alarm, pending."""
    return {
        "id": a.id,
        "deadline_id": a.deadline_id,
        "case_id": a.case_id,
        "kind": a.kind,
        "step": a.step,
        "offset_label": a.offset,
        "notify_role": a.notify_role,
        "recipient": a.recipient,
        "fires_at": a.fires_at,
        "deadline_due_at": a.deadline_due_at,
        "rule_key": rule_key,
        "state": "pending",
    }


def step_of(r: Any) -> Step:
    """Return a step from its row."""
    return Step(
        r.id, r.case_id, r.seq, r.from_stage, r.outcome, r.occurred_at, r.todo_id, r.failures, r.last_error, r.data
    )


def fired_of(r: Any) -> FiredAlarm:
    """Return a fired alarm from its row."""
    return FiredAlarm(
        r.id, r.case_id, r.kind, r.step, r.notify_role, r.recipient, r.fires_at, r.deadline_due_at, r.rule_key
    )


def pause_of(r: Any) -> Pause:
    """Return a pause from its row."""
    return Pause(r["id"], r["case_id"], r["basis"], r["starts_at"], r["ends_at"], r["note"], r["recorded_by"])


def todo_view_of(r: Any) -> TodoView:
    """Return a to-do as the inbox shows it from its row with its deadline."""
    return TodoView(
        id=r["id"],
        case_id=r["case_id"],
        municipality=r["municipality"],
        kind=r["kind"],
        title=r["title"],
        stage=r["stage"],
        assignee=r["assignee"],
        team=r["team"],
        status=r["status"],
        outcomes=tuple(r["outcomes"]),
        outcome=r["outcome"],
        due_at=r["due_at"],
        created_at=r["created_at"],
        completed_at=r["completed_at"],
        deadline_id=r["deadline_id"],
        rule_key=r["rule_key"],
        config_version=r["config_version"],
        explanation=r["explanation"],
        paused_since=r["paused_since"],
        side=r["side"],
        step_id=r["step_id"],
    )
