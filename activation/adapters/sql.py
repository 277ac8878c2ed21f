"""The store on SQLAlchemy 2: SQLite file by default, PostgreSQL in production.

Every write is idempotent through a unique key (ON CONFLICT DO NOTHING), and work is taken with a
claim-by-update (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so concurrent flows never take the same
step or alarm twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from activation.adapters import tables as t
from activation.adapters.lifecycle_sql import (
    closing_status,
    firing_state,
    is_overdue,
    is_parked,
    is_pending,
    waiting_alarm_states,
)
from activation.errors import ConflictError
from activation.model import (
    AlarmRecord,
    Case,
    DeadlineRecord,
    DeadlineRevision,
    FiredAlarm,
    LetterRequest,
    OpenDeadline,
    Pause,
    Progress,
    SideWork,
    Step,
    SweepReport,
    TodoView,
    recipient_for,
)
from activation.obligations import CaseEvent, CaseObligations, ObligationChanges
from activation.ports import TodoFilter

_SAMPLE = 100  # fired alarms kept in a sweep report for display; the counts cover all


def _chosen_once(batch: Any) -> Any:
    """Materialise a LIMITed batch, so the UPDATE that takes it takes at most that many rows.

    Inlined, PostgreSQL may evaluate the LIMIT ... FOR UPDATE SKIP LOCKED subquery again for each row
    of a nested-loop semi-join, skipping rows the statement itself already locked, and take more.
    """
    return batch.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")


class SqlStore:
    """The Store port on a SQLAlchemy engine."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """Open a unit of work that commits on success and rolls back on error."""
        with self.engine.begin() as conn:
            yield SqlTransaction(conn)


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class SqlTransaction:
    """One unit of work on a connection."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    # -- cases and steps ----------------------------------------------------------------------
    def add_case(self, case_: Case, received_at: datetime) -> tuple[str, bool]:
        """Insert a case and its 'received' step; return (case id, created) and never duplicate."""
        row = {
            "id": case_.id,
            "municipality": case_.municipality,
            "citizen_ref": case_.citizen_ref,
            "team": case_.team,
            "caseworker": case_.caseworker,
            "stage": case_.stage,
            "stage_entered_at": case_.stage_entered_at,
            "status": case_.status,
            "created_at": received_at,
            "target_group": case_.group,
        }
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
        stmt = _insert(self.conn, t.cases).values(row).on_conflict_do_nothing().returning(t.cases.c.id)
        if self.conn.execute(stmt).first() is not None:
            self.conn.execute(
                t.steps.insert().values(
                    case_id=case_.id,
                    seq=0,
                    from_stage="application",
                    outcome="received",
                    occurred_at=received_at,
                    recorded_by="intake",
                )
            )
            return case_.id, True
        existing = self.conn.execute(
            select(t.cases.c.id).where(
                t.cases.c.municipality == case_.municipality, t.cases.c.citizen_ref == case_.citizen_ref
            )
        ).scalar_one()
        return existing, False

    def _pending(self, from_stages: Sequence[str] | None, limit: int, case_ids: Sequence[str] | None = None) -> Any:
        query = (
            select(t.steps.c.id)
            .where(is_pending(t.steps.c.applied_at, t.steps.c.failures))
            .order_by(t.steps.c.id)
            .limit(limit)
        )
        if from_stages:
            query = query.where(t.steps.c.from_stage.in_(list(from_stages)))
        if case_ids is not None:
            query = query.where(t.steps.c.case_id.in_(list(case_ids)))
        return query

    def claim_pending_steps(
        self, from_stages: Sequence[str] | None, limit: int, now: datetime, case_ids: Sequence[str] | None = None
    ) -> list[Step]:
        """Take up to limit unapplied steps (of these cases only, if given), so no concurrent flow takes them."""
        pending = self._pending(from_stages, limit, case_ids)
        if self.postgres:
            pending = pending.with_for_update(skip_locked=True)
        chosen = _chosen_once(pending)
        rows = self.conn.execute(
            update(t.steps)
            .where(t.steps.c.id.in_(select(chosen.c.id)), t.steps.c.applied_at.is_(None))
            .values(applied_at=now)
            .returning(*_STEP_COLUMNS)
        ).all()
        return [_step(r) for r in rows]

    def pending_steps(self, from_stages: Sequence[str] | None, limit: int) -> list[Step]:
        """Return unapplied steps without taking them."""
        ids = self._pending(from_stages, limit).subquery()
        rows = self.conn.execute(select(*_STEP_COLUMNS).where(t.steps.c.id.in_(select(ids)))).all()
        return [_step(r) for r in rows]

    def release_failed_steps(self, failed: Sequence[tuple[int, str]]) -> None:
        """Give claimed steps back with their error; a step failing too often is parked."""
        self.conn.execute(
            update(t.steps)
            .where(t.steps.c.id == bindparam("b_id"))
            .values(applied_at=None, failures=t.steps.c.failures + 1, last_error=bindparam("b_error")),
            [{"b_id": step_id, "b_error": error[:2000]} for step_id, error in failed],
        )

    def parked_steps(self, limit: int) -> list[Step]:
        """Return steps parked after repeated failures, for operations to see."""
        rows = self.conn.execute(
            select(*_STEP_COLUMNS)
            .where(is_parked(t.steps.c.applied_at, t.steps.c.failures))
            .order_by(t.steps.c.id)
            .limit(limit)
        ).all()
        return [_step(r) for r in rows]

    def unpark_steps(self) -> int:
        """Give parked steps a fresh set of attempts; return how many."""
        rows = self.conn.execute(
            update(t.steps)
            .where(is_parked(t.steps.c.applied_at, t.steps.c.failures))
            .values(failures=0)
            .returning(t.steps.c.id)
        ).all()
        return len(rows)

    def cases(self, ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases with these ids."""
        rows = self.conn.execute(select(t.cases).where(t.cases.c.id.in_(list(ids)))).mappings().all()
        return {
            r["id"]: Case(
                id=r["id"],
                municipality=r["municipality"],
                citizen_ref=r["citizen_ref"],
                team=r["team"],
                caseworker=r["caseworker"],
                stage=r["stage"],
                stage_entered_at=r["stage_entered_at"],
                status=r["status"],
                group=r["target_group"],
                obligations_since=r["obligations_since"],
                opened_at=r["created_at"],
            )
            for r in rows
        }

    def obligation_states(self, case_ids: Sequence[str]) -> dict[str, CaseObligations]:
        """Return each case's obligation run: when it began, its events and its open periods."""
        cases = self.cases(case_ids)
        events = self.conn.execute(
            select(t.case_events.c.case_id, t.case_events.c.kind, t.case_events.c.occurred_at, t.case_events.c.step_id)
            .where(t.case_events.c.case_id.in_(list(case_ids)))
            .order_by(t.case_events.c.occurred_at, t.case_events.c.id)
        ).all()
        periods = [d for d in self.open_deadlines(case_ids) if d.todo_id is None]
        return {
            case_id: CaseObligations(
                case.obligations_since,
                [CaseEvent(*e) for e in events if e.case_id == case_id],
                [p for p in periods if p.case_id == case_id],
            )
            for case_id, case in cases.items()
        }

    def save_obligations(self, changes: ObligationChanges, run_starts: dict[str, datetime | None]) -> None:
        """Write obligation events, close finished periods and open the next ones."""
        if changes.events:
            self.conn.execute(
                _insert(self.conn, t.case_events).on_conflict_do_nothing(),
                [
                    {"case_id": e.case_id, "kind": e.kind, "occurred_at": e.occurred_at, "step_id": e.step_id}
                    for e in changes.events
                ],
            )
        if changes.closed:
            self.conn.execute(
                update(t.deadlines)
                .where(t.deadlines.c.id == bindparam("b_id"), t.deadlines.c.status == "open")
                .values(status=bindparam("b_status"), closed_at=bindparam("b_at")),
                [{"b_id": i, "b_status": status, "b_at": at} for i, status, at in changes.closed],
            )
            self.conn.execute(
                update(t.alarms)
                .where(
                    t.alarms.c.deadline_id.in_([i for i, _, _ in changes.closed]),
                    t.alarms.c.state.in_(waiting_alarm_states()),
                )
                .values(state="cancelled")
            )
        if changes.opened:
            self.conn.execute(
                _insert(self.conn, t.deadlines).on_conflict_do_nothing(),
                [_deadline_row(d) for d, _ in changes.opened],
            )
            alarm_rows = [_alarm_row(a, d.rule_key) for d, alarms in changes.opened for a in alarms]
            if alarm_rows:
                self.conn.execute(_insert(self.conn, t.alarms).on_conflict_do_nothing(), alarm_rows)
        if run_starts:
            self.conn.execute(
                update(t.cases).where(t.cases.c.id == bindparam("b_id")).values(obligations_since=bindparam("b_since")),
                [{"b_id": case_id, "b_since": since} for case_id, since in run_starts.items()],
            )

    def save_progress(self, progress: Sequence[Progress]) -> None:
        """Write what applied steps produced, in bulk; a repeated write changes nothing."""
        if not progress:
            return
        latest = {p.case_id: p for p in progress}  # in step order, so the last one wins
        self.conn.execute(
            update(t.cases)
            .where(t.cases.c.id == bindparam("b_id"))
            .values(stage=bindparam("b_stage"), stage_entered_at=bindparam("b_at"), status=bindparam("b_status")),
            [
                {
                    "b_id": p.case_id,
                    "b_stage": p.new_stage,
                    "b_at": p.stage_entered_at,
                    "b_status": "closed" if p.closed else "open",
                }
                for p in latest.values()
            ],
        )
        regrouped = [p for p in progress if p.new_group]
        if regrouped:
            self.conn.execute(
                update(t.cases).where(t.cases.c.id == bindparam("b_id")).values(target_group=bindparam("b_group")),
                [{"b_id": p.case_id, "b_group": p.new_group} for p in regrouped],
            )
        works = [SideWork(p.todo, p.deadline, p.alarms) for p in progress if p.todo and p.deadline]
        self.add_work(works + [w for p in progress for w in p.also])
        placements = [
            {
                "step_id": p.step_id,
                "case_id": p.case_id,
                "municipality": p.placement["municipality"],
                "intervention": p.placement["intervention"],
                "provider": p.placement["provider"],
                "starts_on": date.fromisoformat(str(p.placement["starts_on"])),
                "ends_on": date.fromisoformat(str(p.placement["ends_on"])),
            }
            for p in progress
            if p.placement
        ]
        if placements:
            self.conn.execute(_insert(self.conn, t.placements).on_conflict_do_nothing(), placements)
        letters = [
            {
                "id": x.id,
                "case_id": x.case_id,
                "todo_id": x.todo_id,
                "form": x.form,
                "language": x.language,
                "context": x.context,
                "created_at": p.stage_entered_at,
            }
            for p in progress
            for x in p.letters
        ]
        if letters:
            self.conn.execute(_insert(self.conn, t.letters).on_conflict_do_nothing(), letters)

    def last_step_id(self, case_id: str) -> int:
        """Return the id of the case's most recent step."""
        return int(self.conn.execute(select(func.max(t.steps.c.id)).where(t.steps.c.case_id == case_id)).scalar_one())

    def add_work(self, works: Sequence[SideWork]) -> None:
        """Insert to-dos with their deadlines and alarms; a repeated insert changes nothing."""
        if not works:
            return
        self.conn.execute(
            _insert(self.conn, t.todos).on_conflict_do_nothing(),
            [
                {
                    "id": w.todo.id,
                    "case_id": w.todo.case_id,
                    "step_id": w.todo.step_id,
                    "kind": w.todo.kind,
                    "title": w.todo.title,
                    "stage": w.todo.stage,
                    "role": w.todo.role,
                    "assignee": w.todo.assignee,
                    "team": w.todo.team,
                    "outcomes": list(w.todo.outcomes),
                    "status": "open",
                    "due_at": w.todo.due_at,
                    "created_at": w.todo.created_at,
                    "side": w.todo.side,
                }
                for w in works
            ],
        )
        self.conn.execute(
            _insert(self.conn, t.deadlines).on_conflict_do_nothing(), [_deadline_row(w.deadline) for w in works]
        )
        alarm_rows = [_alarm_row(a, w.deadline.rule_key) for w in works for a in w.alarms]
        if alarm_rows:
            self.conn.execute(_insert(self.conn, t.alarms).on_conflict_do_nothing(), alarm_rows)

    # -- to-dos -------------------------------------------------------------------------------
    def _todo_query(self) -> Any:
        return (
            select(
                t.todos,
                t.cases.c.municipality,
                t.deadlines.c.id.label("deadline_id"),
                t.deadlines.c.rule_key,
                t.deadlines.c.config_version,
                t.deadlines.c.explanation,
                t.deadlines.c.paused_since,
            )
            .join(t.cases, t.cases.c.id == t.todos.c.case_id)
            .outerjoin(t.deadlines, t.deadlines.c.todo_id == t.todos.c.id)
        )

    def todo(self, todo_id: str) -> TodoView | None:
        """Return one to-do."""
        row = self.conn.execute(self._todo_query().where(t.todos.c.id == todo_id)).mappings().first()
        return _todo_view(row) if row else None

    def list_todos(self, query: TodoFilter) -> list[TodoView]:
        """Return to-dos matching the filter, soonest due first."""
        q = self._todo_query()
        if query.case_id:
            q = q.where(t.todos.c.case_id == query.case_id)
        if query.assignee:
            q = q.where(t.todos.c.assignee == query.assignee)
        if query.municipality:
            q = q.where(t.cases.c.municipality == query.municipality)
        if query.assignees is not None:
            q = q.where(t.todos.c.assignee.in_(list(query.assignees)))
        if query.team:
            q = q.where(t.todos.c.team == query.team)
        if query.due_before:
            q = q.where(t.todos.c.due_at < query.due_before)
        if query.status:
            q = q.where(t.todos.c.status == query.status)
        if query.overdue_at:
            q = q.where(is_overdue(t.todos.c.status, t.todos.c.due_at, t.deadlines.c.paused_since, query.overdue_at))
        q = q.order_by(t.todos.c.due_at, t.todos.c.id).limit(query.limit)
        return [_todo_view(r) for r in self.conn.execute(q).mappings()]

    def complete_todo(
        self, todo: TodoView, outcome: str, now: datetime, by: str, data: dict[str, Any] | None = None
    ) -> int:
        """Close a to-do and its deadline, cancel unfired alarms and record the outcome as a step."""
        closed = self.conn.execute(
            update(t.todos)
            .where(t.todos.c.id == todo.id, t.todos.c.status == "open")
            .values(status="done", outcome=outcome, completed_at=now, completed_by=by)
            .returning(t.todos.c.id)
        ).first()
        if closed is None:
            raise ConflictError(f"to-do {todo.id} was completed by someone else at the same moment")
        side_work = todo.side
        self.conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.todo_id == todo.id, t.deadlines.c.status == "open")
            # A to-do done while its clock is stopped by a pause is in time by definition.
            .values(
                status=closing_status(t.deadlines.c.due_at, t.deadlines.c.paused_since, now),
                closed_at=now,
            )
        )
        # Completing the to-do stops every reminder and escalation that has not fired yet.
        self.conn.execute(
            update(t.alarms)
            .where(t.alarms.c.deadline_id == todo.deadline_id, t.alarms.c.state.in_(waiting_alarm_states()))
            .values(state="cancelled")
        )
        if side_work:
            return 0  # a to-do beside the journey (a wrap-up) does not move the case
        seq = self.conn.execute(
            select(func.coalesce(func.max(t.steps.c.seq), 0) + 1).where(t.steps.c.case_id == todo.case_id)
        ).scalar_one()
        result = self.conn.execute(
            t.steps.insert()
            .values(
                case_id=todo.case_id,
                seq=seq,
                from_stage=todo.stage,
                outcome=outcome,
                todo_id=todo.id,
                occurred_at=now,
                recorded_by=by,
                data=data,
            )
            .returning(t.steps.c.id)
        )
        return int(result.scalar_one())

    # -- pauses and deadline revisions ----------------------------------------------------------
    def pauses(self, case_id: str) -> list[Pause]:
        """Return a case's pauses, oldest first."""
        rows = self.conn.execute(
            select(t.pauses).where(t.pauses.c.case_id == case_id).order_by(t.pauses.c.starts_at)
        ).mappings()
        return [_pause(r) for r in rows]

    def pause(self, pause_id: str) -> Pause | None:
        """Return one pause."""
        row = self.conn.execute(select(t.pauses).where(t.pauses.c.id == pause_id)).mappings().first()
        return _pause(row) if row else None

    def add_pause(self, pause: Pause, now: datetime) -> None:
        """Record a pause."""
        self.conn.execute(
            t.pauses.insert().values(
                id=pause.id,
                case_id=pause.case_id,
                basis=pause.basis,
                starts_at=pause.starts_at,
                ends_at=pause.ends_at,
                note=pause.note,
                recorded_by=pause.recorded_by,
                recorded_at=now,
            )
        )

    def set_pause_end(self, pause_id: str, ends_at: datetime) -> None:
        """Give an open-ended pause its end."""
        self.conn.execute(update(t.pauses).where(t.pauses.c.id == pause_id).values(ends_at=ends_at))

    def active_pauses(self, case_ids: Sequence[str], now: datetime) -> dict[str, Pause]:
        """Return the pause covering `now` for each of these cases that has one."""
        rows = self.conn.execute(
            select(t.pauses).where(
                t.pauses.c.case_id.in_(list(case_ids)),
                t.pauses.c.starts_at <= now,
                (t.pauses.c.ends_at.is_(None)) | (t.pauses.c.ends_at > now),
            )
        ).mappings()
        return {r["case_id"]: _pause(r) for r in rows}

    def open_deadlines_of_rules(self, municipality: str, rule_keys: Sequence[str]) -> list[dict[str, Any]]:
        """Return a municipality's open deadlines of these rules, with team, stage and alarm steps fired."""
        rows = (
            self.conn.execute(
                select(
                    t.deadlines.c.id,
                    t.deadlines.c.case_id,
                    t.deadlines.c.rule_key,
                    t.deadlines.c.config_version,
                    t.deadlines.c.start_event,
                    t.deadlines.c.started_at,
                    t.deadlines.c.due_at,
                    t.deadlines.c.revision,
                    t.deadlines.c.paused_since,
                    t.todos.c.assignee,
                    t.todos.c.stage,
                    t.cases.c.team,
                    t.cases.c.caseworker,
                    t.cases.c.created_at.label("opened_at"),
                )
                .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
                .outerjoin(t.todos, t.todos.c.id == t.deadlines.c.todo_id)
                .where(
                    t.cases.c.municipality == municipality,
                    t.deadlines.c.status == "open",
                    t.deadlines.c.rule_key.in_(list(rule_keys)),
                )
                .order_by(t.deadlines.c.due_at, t.deadlines.c.id)
            )
            .mappings()
            .all()
        )
        found = [dict(r) for r in rows]
        fired: dict[str, set[str]] = {}
        ids = [r["id"] for r in found]
        for n in range(0, len(ids), 5000):
            for deadline_id, kind, step in self.conn.execute(
                select(t.alarms.c.deadline_id, t.alarms.c.kind, t.alarms.c.step).where(
                    t.alarms.c.deadline_id.in_(ids[n : n + 5000]), t.alarms.c.state.in_(["fired", "skipped"])
                )
            ):
                fired.setdefault(deadline_id, set()).add(f"{kind[0]}{step}")
        for r in found:
            r["fired_steps"] = fired.get(r["id"], set())
        return found

    def record_rule_change(self, change: dict[str, Any]) -> None:
        """Keep a record of a rule version applied to running cases."""
        self.conn.execute(t.rule_changes.insert().values(**change))

    def rule_changes(self, municipality: str) -> list[dict[str, Any]]:
        """Return the rule versions applied to a municipality's running cases, newest first."""
        rows = self.conn.execute(
            select(t.rule_changes)
            .where(t.rule_changes.c.municipality == municipality)
            .order_by(t.rule_changes.c.applied_at.desc())
        ).mappings()
        return [dict(r) for r in rows]

    def open_deadlines(self, case_ids: Sequence[str]) -> list[OpenDeadline]:
        """Return the open deadlines of these cases, running or stopped."""
        rows = self.conn.execute(
            select(
                t.deadlines.c.id,
                t.deadlines.c.case_id,
                t.deadlines.c.todo_id,
                t.deadlines.c.rule_key,
                t.deadlines.c.started_at,
                t.deadlines.c.due_at,
                t.deadlines.c.revision,
                t.deadlines.c.paused_since,
                t.todos.c.assignee,
            )
            .outerjoin(t.todos, t.todos.c.id == t.deadlines.c.todo_id)
            .where(t.deadlines.c.case_id.in_(list(case_ids)), t.deadlines.c.status == "open")
            .order_by(t.deadlines.c.due_at)
        ).all()
        return [
            OpenDeadline(
                r.id,
                r.case_id,
                r.todo_id,
                r.rule_key,
                r.started_at,
                r.due_at,
                r.revision,
                r.paused_since,
                r.assignee or "",
            )
            for r in rows
        ]

    def _history(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        self.conn.execute(
            t.deadline_changes.insert(),
            [
                {
                    "deadline_id": r.deadline_id,
                    "revision": r.revision,
                    "changed_at": now,
                    "due_before": r.due_before,
                    "due_after": r.due_after,
                    "reason": r.reason,
                }
                for r in revisions
            ],
        )

    def suspend_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Stop the clocks of these deadlines: alarms not yet fired wait until the pause ends."""
        if not revisions:
            return
        self.conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == bindparam("b_id"))
            .values(revision=bindparam("b_revision"), paused_since=bindparam("b_since")),
            [{"b_id": r.deadline_id, "b_revision": r.revision, "b_since": r.paused_since} for r in revisions],
        )
        self.conn.execute(
            update(t.alarms)
            .where(t.alarms.c.deadline_id.in_([r.deadline_id for r in revisions]), t.alarms.c.state == "pending")
            .values(state="suspended")
        )
        self._history(revisions, now)

    def revise_deadlines(self, revisions: Sequence[DeadlineRevision], now: datetime) -> None:
        """Move deadlines to their new due time, replacing alarms not yet fired with the new ones."""
        if not revisions:
            return
        ids = [r.deadline_id for r in revisions]
        self.conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == bindparam("b_id"))
            .values(due_at=bindparam("b_due"), revision=bindparam("b_revision"), paused_since=None),
            [{"b_id": r.deadline_id, "b_due": r.due_after, "b_revision": r.revision} for r in revisions],
        )
        self.conn.execute(
            update(t.todos).where(t.todos.c.id == bindparam("b_id")).values(due_at=bindparam("b_due")),
            [{"b_id": r.deadline_id, "b_due": r.due_after} for r in revisions],
        )
        restamped = [r for r in revisions if r.config_version]
        if restamped:
            self.conn.execute(
                update(t.deadlines)
                .where(t.deadlines.c.id == bindparam("b_id"))
                .values(config_version=bindparam("b_v")),
                [{"b_id": r.deadline_id, "b_v": r.config_version} for r in restamped],
            )
        self.conn.execute(
            update(t.alarms)
            .where(t.alarms.c.deadline_id.in_(ids), t.alarms.c.state.in_(waiting_alarm_states()))
            .values(state="superseded")
        )
        rule_keys: dict[str, str] = {
            r.id: r.rule_key
            for r in self.conn.execute(
                select(t.deadlines.c.id, t.deadlines.c.rule_key).where(t.deadlines.c.id.in_(ids))
            )
        }
        alarm_rows = [_alarm_row(a, rule_keys[a.deadline_id]) for r in revisions for a in r.alarms]
        if alarm_rows:
            self.conn.execute(_insert(self.conn, t.alarms).on_conflict_do_nothing(), alarm_rows)
        self._history(revisions, now)

    # -- caseworker continuity -----------------------------------------------------------------
    def assign_caseworker(self, case_: Case, caseworker: str, now: datetime, by: str) -> int:
        """Make caseworker responsible; their open to-dos and pending reminders follow. Return to-dos moved."""
        old_assignee = case_.assignee
        self.conn.execute(update(t.cases).where(t.cases.c.id == case_.id).values(caseworker=caseworker))
        self.conn.execute(
            t.caseworker_changes.insert().values(
                case_id=case_.id, previous=case_.caseworker, caseworker=caseworker, changed_at=now, changed_by=by
            )
        )
        moved = self.conn.execute(
            update(t.todos)
            .where(
                t.todos.c.case_id == case_.id,
                t.todos.c.status == "open",
                t.todos.c.role == "caseworker",
                t.todos.c.assignee == old_assignee,
            )
            .values(assignee=caseworker)
            .returning(t.todos.c.id)
        ).all()
        self.conn.execute(
            update(t.alarms)
            .where(
                t.alarms.c.case_id == case_.id,
                t.alarms.c.recipient == old_assignee,
                t.alarms.c.state.in_(waiting_alarm_states()),
            )
            .values(recipient=caseworker)
        )
        return len(moved)

    def caseworker_changes(self, case_id: str) -> list[datetime]:
        """Return when the case changed from one caseworker to another (first assignments excluded)."""
        return list(
            self.conn.execute(
                select(t.caseworker_changes.c.changed_at)
                .where(t.caseworker_changes.c.case_id == case_id, t.caseworker_changes.c.previous.is_not(None))
                .order_by(t.caseworker_changes.c.changed_at)
            ).scalars()
        )

    def add_alert(self, alert_id: str, case_: Case, role: str, rule_key: str, now: datetime) -> None:
        """Notify a role about a case once (the id makes a repeat harmless)."""
        self.conn.execute(
            _insert(self.conn, t.notifications)
            .values(
                id=alert_id,
                case_id=case_.id,
                kind="alert",
                step=1,
                notify_role=role,
                recipient=recipient_for(role, case_.assignee, case_),
                rule_key=rule_key,
                deadline_due_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        self._add_to_outbox([("alert", alert_id, case_.id, {"notify_role": role, "rule_key": rule_key})], now)

    def occupancy(self, municipality: str, on: date) -> dict[str, int]:
        """Return how many placements of each intervention are running on a day."""
        rows = self.conn.execute(
            select(t.placements.c.intervention, func.count())
            .where(
                t.placements.c.municipality == municipality,
                t.placements.c.starts_on <= on,
                t.placements.c.ends_on >= on,
            )
            .group_by(t.placements.c.intervention)
        ).all()
        return {r[0]: int(r[1]) for r in rows}

    # -- read model -----------------------------------------------------------------------------
    def list_deadlines(
        self,
        case_id: str | None = None,
        municipality: str | None = None,
        overdue_at: datetime | None = None,
        obligations_only: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """Return open deadlines, to-dos' and obligations', soonest due first."""
        q = (
            select(
                t.deadlines.c.id,
                t.deadlines.c.case_id,
                t.cases.c.municipality,
                t.cases.c.team,
                t.deadlines.c.todo_id,
                t.deadlines.c.rule_key,
                t.deadlines.c.due_at,
                t.deadlines.c.paused_since,
                t.deadlines.c.config_version,
                t.deadlines.c.explanation,
            )
            .join(t.cases, t.cases.c.id == t.deadlines.c.case_id)
            .where(t.deadlines.c.status == "open")
            .order_by(t.deadlines.c.due_at, t.deadlines.c.id)
            .limit(limit)
        )
        if case_id:
            q = q.where(t.deadlines.c.case_id == case_id)
        if municipality:
            q = q.where(t.cases.c.municipality == municipality)
        if overdue_at:
            q = q.where(t.deadlines.c.due_at < overdue_at, t.deadlines.c.paused_since.is_(None))
        if obligations_only:
            q = q.where(t.deadlines.c.todo_id.is_(None))
        return [dict(r) for r in self.conn.execute(q).mappings()]

    def case_detail(self, case_id: str) -> dict[str, Any] | None:
        """Return everything about one case: steps, to-dos, deadlines with history and alarms, pauses."""
        case_row = self.conn.execute(select(t.cases).where(t.cases.c.id == case_id)).mappings().first()
        if case_row is None:
            return None

        def rows(query: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in self.conn.execute(query).mappings()]

        deadlines = rows(select(t.deadlines).where(t.deadlines.c.case_id == case_id).order_by(t.deadlines.c.started_at))
        ids = [d["id"] for d in deadlines]
        history = rows(
            select(t.deadline_changes)
            .where(t.deadline_changes.c.deadline_id.in_(ids))
            .order_by(t.deadline_changes.c.deadline_id, t.deadline_changes.c.revision)
        )
        alarms = rows(
            select(t.alarms.c.id, t.alarms.c.deadline_id, t.alarms.c.kind, t.alarms.c.step, t.alarms.c.offset_label,
                   t.alarms.c.recipient, t.alarms.c.fires_at, t.alarms.c.state, t.alarms.c.fired_at)
            .where(t.alarms.c.deadline_id.in_(ids))
            .order_by(t.alarms.c.fires_at)
        )  # fmt: skip
        for d in deadlines:
            d["history"] = [h for h in history if h["deadline_id"] == d["id"]]
            d["alarms"] = [a for a in alarms if a["deadline_id"] == d["id"]]
        return {
            "case": dict(case_row),
            "steps": rows(select(t.steps).where(t.steps.c.case_id == case_id).order_by(t.steps.c.seq)),
            "todos": rows(select(t.todos).where(t.todos.c.case_id == case_id).order_by(t.todos.c.created_at)),
            "deadlines": deadlines,
            "pauses": rows(select(t.pauses).where(t.pauses.c.case_id == case_id).order_by(t.pauses.c.starts_at)),
            "caseworker_changes": rows(
                select(t.caseworker_changes)
                .where(t.caseworker_changes.c.case_id == case_id)
                .order_by(t.caseworker_changes.c.changed_at)
            ),
            "notifications": rows(
                select(t.notifications)
                .where(t.notifications.c.case_id == case_id)
                .order_by(t.notifications.c.created_at)
            ),
            "letters": rows(
                select(
                    t.letters.c.id,
                    t.letters.c.form,
                    t.letters.c.language,
                    t.letters.c.created_at,
                    t.letters.c.rendered_at,
                )
                .where(t.letters.c.case_id == case_id)
                .order_by(t.letters.c.created_at)
            ),
        }

    # -- the sweep ------------------------------------------------------------------------------
    def _due(self, now: datetime, limit: int, kind: str | None = None) -> Any:
        query = (
            select(t.alarms.c.id)
            .where(t.alarms.c.state == "pending", t.alarms.c.fires_at <= now)
            .order_by(t.alarms.c.fires_at)
            .limit(limit)
        )
        return query.where(t.alarms.c.kind == kind) if kind else query

    def fire_due_alarms(self, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
        """Fire one batch of due alarms exactly once each, in one set-based update and insert."""
        sweep_id = uuid.uuid4().hex
        due = self._due(now, limit, kind)
        if self.postgres:
            due = due.with_for_update(skip_locked=True)
        # A reminder whose deadline has already passed (late processing, a replay) is skipped:
        # the escalation says it better.
        new_state = firing_state(t.alarms.c.kind, t.alarms.c.deadline_due_at, now)
        chosen = _chosen_once(due)
        rows = self.conn.execute(
            update(t.alarms)
            .where(t.alarms.c.id.in_(select(chosen.c.id)), t.alarms.c.state == "pending")
            .values(state=new_state, fired_at=now, sweep_id=sweep_id)
            .returning(*_ALARM_COLUMNS, t.alarms.c.state)
        ).all()
        report = SweepReport(batches=1)
        for r in rows:
            if r.state == "skipped":
                report.skipped_reminders += 1
                continue
            if r.kind == "reminder":
                report.fired_reminders += 1
            else:
                report.fired_escalations += 1
            if len(report.fired) < _SAMPLE:
                report.fired.append(_fired(r))
        if report.total:
            fired = select(
                t.alarms.c.id,
                t.alarms.c.case_id,
                t.alarms.c.kind,
                t.alarms.c.step,
                t.alarms.c.notify_role,
                t.alarms.c.recipient,
                t.alarms.c.rule_key,
                t.alarms.c.deadline_due_at,
                literal(now, t.UTCDateTime()).label("created_at"),
            ).where(t.alarms.c.sweep_id == sweep_id, t.alarms.c.state == "fired")
            columns = [
                "id",
                "case_id",
                "kind",
                "step",
                "notify_role",
                "recipient",
                "rule_key",
                "deadline_due_at",
                "created_at",
            ]
            self.conn.execute(_insert(self.conn, t.notifications).from_select(columns, fired).on_conflict_do_nothing())
            self._add_to_outbox(
                [
                    (r.kind, r.id, r.case_id, {"step": r.step, "notify_role": r.notify_role, "recipient": r.recipient,
                     "rule_key": r.rule_key, "deadline_due_at": r.deadline_due_at.isoformat()})
                    for r in rows
                    if r.state == "fired"
                ],
                now,
            )  # fmt: skip
        return report

    def _add_to_outbox(self, events: Sequence[tuple[str, str, str, dict[str, Any]]], now: datetime) -> None:
        """Record (kind, source id, case id, details) events for other systems, in this transaction."""
        if not events:
            return
        found = self.conn.execute(
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
        self.conn.execute(_insert(self.conn, t.outbox).on_conflict_do_nothing(), rows)

    def due_alarms(self, now: datetime, limit: int) -> list[FiredAlarm]:
        """Return alarms that a sweep at now would fire, without writing."""
        rows = self.conn.execute(
            select(*_ALARM_COLUMNS)
            .where(t.alarms.c.id.in_(self._due(now, limit).scalar_subquery()))
            .order_by(t.alarms.c.fires_at)
        ).all()
        return [_fired(r) for r in rows]

    # -- letters --------------------------------------------------------------------------------
    def pending_letters(self, limit: int) -> list[LetterRequest]:
        """Return letters not yet rendered, oldest first."""
        x = t.letters.c
        rows = self.conn.execute(
            select(x.id, x.case_id, x.todo_id, x.form, x.language, x.context)
            .where(x.rendered_at.is_(None))
            .order_by(x.created_at, x.id)
            .limit(limit)
        ).all()
        return [LetterRequest(r.id, r.case_id, r.todo_id, r.form, r.language, dict(r.context or {})) for r in rows]

    def save_rendered(self, rendered: Sequence[tuple[str, str, str | None]], now: datetime) -> None:
        """Store rendered letter bodies and their attachments (an .ics file for a booked meeting)."""
        if rendered:
            self.conn.execute(
                update(t.letters)
                .where(t.letters.c.id == bindparam("b_id"), t.letters.c.rendered_at.is_(None))
                .values(body=bindparam("b_body"), attachment=bindparam("b_attachment"), rendered_at=now),
                [{"b_id": i, "b_body": body, "b_attachment": ics} for i, body, ics in rendered],
            )
            letters = self.conn.execute(
                select(t.letters.c.id, t.letters.c.case_id, t.letters.c.form, t.letters.c.language).where(
                    t.letters.c.id.in_([i for i, _, _ in rendered])
                )
            ).all()
            self._add_to_outbox(
                [("letter", x.id, x.case_id, {"form": x.form, "language": x.language, "letter_id": x.id})
                 for x in letters],
                now,
            )  # fmt: skip

    def add_letters(self, letters: Sequence[LetterRequest], now: datetime) -> None:
        """Queue letters for rendering; a repeated letter id is written once."""
        rows = [
            {
                "id": x.id,
                "case_id": x.case_id,
                "todo_id": x.todo_id,
                "form": x.form,
                "language": x.language,
                "context": x.context,
                "created_at": now,
            }
            for x in letters
        ]
        if rows:
            self.conn.execute(_insert(self.conn, t.letters).on_conflict_do_nothing(), rows)


_STEP_COLUMNS = (
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

_ALARM_COLUMNS = (
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


def _deadline_row(d: DeadlineRecord) -> dict[str, Any]:
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


def _alarm_row(a: AlarmRecord, rule_key: str) -> dict[str, Any]:
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


def _step(r: Any) -> Step:
    return Step(
        r.id, r.case_id, r.seq, r.from_stage, r.outcome, r.occurred_at, r.todo_id, r.failures, r.last_error, r.data
    )


def _fired(r: Any) -> FiredAlarm:
    return FiredAlarm(
        r.id, r.case_id, r.kind, r.step, r.notify_role, r.recipient, r.fires_at, r.deadline_due_at, r.rule_key
    )


def _pause(r: Any) -> Pause:
    return Pause(r["id"], r["case_id"], r["basis"], r["starts_at"], r["ends_at"], r["note"], r["recorded_by"])


def _todo_view(r: Any) -> TodoView:
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
