"""The SQL store's cases, journey steps and to-dos: the Cases, JourneySteps and Todos roles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from activation.adapters import tables as t
from activation.adapters.lifecycle_sql import closing_status, is_overdue, is_parked, is_pending, waiting_alarm_states
from activation.adapters.sql_rows import (
    STEP_COLUMNS,
    SqlPart,
    add_to_outbox,
    alarm_row,
    chosen_once,
    deadline_row,
    insert_new,
    step_of,
    todo_view_of,
)
from activation.errors import ConflictError
from activation.model import Case, Progress, SideWork, Step, TodoView, recipient_for
from activation.ports import TodoFilter


def load_cases(conn: Connection, ids: Sequence[str]) -> dict[str, Case]:
    """Return the cases with these ids."""
    rows = conn.execute(select(t.cases).where(t.cases.c.id.in_(list(ids)))).mappings().all()
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


class CasesSql(SqlPart):
    """The Cases role: opening cases, who holds them, alerts."""

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
        stmt = insert_new(t.cases).values(row).returning(t.cases.c.id)
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

    def cases(self, ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases with these ids."""
        return load_cases(self.conn, ids)

    def last_step_id(self, case_id: str) -> int:
        """Return the id of the case's most recent step."""
        return int(self.conn.execute(select(func.max(t.steps.c.id)).where(t.steps.c.case_id == case_id)).scalar_one())

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
            insert_new(t.notifications).values(
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
        )
        add_to_outbox(self.conn, [("alert", alert_id, case_.id, {"notify_role": role, "rule_key": rule_key})], now)


class JourneyStepsSql(SqlPart):
    """The JourneySteps role: steps claimed, applied, released or parked, and the work they write."""

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
        chosen = chosen_once(pending)
        rows = self.conn.execute(
            update(t.steps)
            .where(t.steps.c.id.in_(select(chosen.c.id)), t.steps.c.applied_at.is_(None))
            .values(applied_at=now)
            .returning(*STEP_COLUMNS)
        ).all()
        return [step_of(r) for r in rows]

    def pending_steps(self, from_stages: Sequence[str] | None, limit: int) -> list[Step]:
        """Return unapplied steps without taking them."""
        ids = self._pending(from_stages, limit).subquery()
        rows = self.conn.execute(select(*STEP_COLUMNS).where(t.steps.c.id.in_(select(ids)))).all()
        return [step_of(r) for r in rows]

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
            select(*STEP_COLUMNS)
            .where(is_parked(t.steps.c.applied_at, t.steps.c.failures))
            .order_by(t.steps.c.id)
            .limit(limit)
        ).all()
        return [step_of(r) for r in rows]

    def unpark_steps(self) -> int:
        """Give parked steps a fresh set of attempts; return how many."""
        rows = self.conn.execute(
            update(t.steps)
            .where(is_parked(t.steps.c.applied_at, t.steps.c.failures))
            .values(failures=0)
            .returning(t.steps.c.id)
        ).all()
        return len(rows)

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
            self.conn.execute(insert_new(t.placements), placements)
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
            self.conn.execute(insert_new(t.letters), letters)

    def add_work(self, works: Sequence[SideWork]) -> None:
        """Insert to-dos with their deadlines and alarms; a repeated insert changes nothing."""
        if not works:
            return
        self.conn.execute(
            insert_new(t.todos),
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
        self.conn.execute(insert_new(t.deadlines), [deadline_row(w.deadline) for w in works])
        alarm_rows = [alarm_row(a, w.deadline.rule_key) for w in works for a in w.alarms]
        if alarm_rows:
            self.conn.execute(insert_new(t.alarms), alarm_rows)


class TodosSql(SqlPart):
    """The Todos role: to-dos read with their deadline, and completed."""

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
        return todo_view_of(row) if row else None

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
        return [todo_view_of(r) for r in self.conn.execute(q).mappings()]

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
