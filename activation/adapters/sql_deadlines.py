"""The SQL store's deadlines: the sweep, pauses and revisions, obligation periods and rule versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from activation.adapters import sql_sweep
from activation.adapters import tables as t
from activation.adapters.lifecycle_sql import waiting_alarm_states
from activation.adapters.sql_journey import load_cases
from activation.adapters.sql_rows import (
    ALARM_COLUMNS,
    SqlPart,
    alarm_row,
    deadline_row,
    fired_of,
    insert_new,
    pause_of,
)
from activation.model import DeadlineRevision, FiredAlarm, OpenDeadline, Pause, SweepReport
from activation.obligations import CaseEvent, CaseObligations, ObligationChanges, RecordedEvent
from activation.reads import OpenDeadlineOfRule, RuleChangeRecord

_SAMPLE = 100  # fired alarms kept in a sweep report for display; the counts cover all


def load_open_deadlines(conn: Connection, case_ids: Sequence[str]) -> list[OpenDeadline]:
    """Return the open deadlines of these cases, running or stopped."""
    rows = conn.execute(
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


class DeadlinesSql(SqlPart):
    """The DeadlinesAndAlarms role: the sweep, and deadlines stopped or moved with their history."""

    def _due(self, now: datetime, limit: int, kind: str | None = None) -> Any:
        query = (
            select(t.alarms.c.id)
            .where(t.alarms.c.state == "pending", t.alarms.c.fires_at <= now)
            .order_by(t.alarms.c.fires_at)
            .limit(limit)
        )
        return query.where(t.alarms.c.kind == kind) if kind else query

    def fire_due_alarms(self, now: datetime, limit: int, kind: str | None = None) -> SweepReport:
        """Fire one batch of due alarms exactly once each, notifications and outbox written by the database."""
        return sql_sweep.fire_due_alarms(self.conn, now, limit, kind)

    def due_alarms(self, now: datetime, limit: int) -> list[FiredAlarm]:
        """Return alarms that a sweep at now would fire, without writing."""
        rows = self.conn.execute(
            select(*ALARM_COLUMNS)
            .where(t.alarms.c.id.in_(self._due(now, limit).scalar_subquery()))
            .order_by(t.alarms.c.fires_at)
        ).all()
        return [fired_of(r) for r in rows]

    def open_deadlines(self, case_ids: Sequence[str]) -> list[OpenDeadline]:
        """Return the open deadlines of these cases, running or stopped."""
        return load_open_deadlines(self.conn, case_ids)

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
        alarm_rows = [alarm_row(a, rule_keys[a.deadline_id]) for r in revisions for a in r.alarms]
        if alarm_rows:
            self.conn.execute(insert_new(t.alarms), alarm_rows)
        self._history(revisions, now)


class RuleVersionsSql(SqlPart):
    """The RuleVersions role: open deadlines a rule version may move, and the record of applying it."""

    def open_deadlines_of_rules(self, municipality: str, rule_keys: Sequence[str]) -> list[OpenDeadlineOfRule]:
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
        return [OpenDeadlineOfRule(**r, fired_steps=frozenset(fired.get(r["id"], ()))) for r in found]

    def record_rule_change(self, change: RuleChangeRecord) -> None:
        """Keep a record of a rule version applied to running cases."""
        self.conn.execute(t.rule_changes.insert().values(**asdict(change)))


class ObligationsSql(SqlPart):
    """The Obligations role: meeting and offer events and their periods."""

    def obligation_states(self, case_ids: Sequence[str]) -> dict[str, CaseObligations]:
        """Return each case's obligation run: when it began, its events and its open periods."""
        cases = load_cases(self.conn, case_ids)
        events = self.conn.execute(
            select(t.case_events.c.case_id, t.case_events.c.kind, t.case_events.c.occurred_at, t.case_events.c.step_id)
            .where(t.case_events.c.case_id.in_(list(case_ids)))
            .order_by(t.case_events.c.occurred_at, t.case_events.c.id)
        ).all()
        periods = [d for d in load_open_deadlines(self.conn, case_ids) if d.todo_id is None]
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
                insert_new(t.case_events),
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
                insert_new(t.deadlines),
                [deadline_row(d) for d, _ in changes.opened],
            )
            alarm_rows = [alarm_row(a, d.rule_key) for d, alarms in changes.opened for a in alarms]
            if alarm_rows:
                self.conn.execute(insert_new(t.alarms), alarm_rows)
        if run_starts:
            self.conn.execute(
                update(t.cases).where(t.cases.c.id == bindparam("b_id")).values(obligations_since=bindparam("b_since")),
                [{"b_id": case_id, "b_since": since} for case_id, since in run_starts.items()],
            )

    def add_recorded_event(self, event: RecordedEvent) -> int | None:
        """Record an event outside the stages once per id; return its number, or None if the id was recorded."""
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING. A second
        # submission racing the first waits for it on the unique id, then inserts nothing.
        row = {
            "case_id": event.case_id,
            "kind": event.kind,
            "occurred_at": event.occurred_at,
            "step_id": None,
            "event_id": event.id,
            "note": event.note,
            "recorded_by": event.recorded_by,
            "recorded_at": event.recorded_at,
            "contact_form": event.contact_form,
            "held_by": event.held_by,
        }
        found = self.conn.execute(insert_new(t.case_events).values(row).returning(t.case_events.c.id)).first()
        return None if found is None else int(found[0])

    def recorded_event(self, event_id: str) -> RecordedEvent | None:
        """Return an event recorded outside the stages by its id."""
        e = t.case_events.c
        r = self.conn.execute(
            select(
                e.event_id,
                e.case_id,
                e.kind,
                e.occurred_at,
                e.recorded_by,
                e.recorded_at,
                e.note,
                e.contact_form,
                e.held_by,
            ).where(e.event_id == event_id)
        ).first()
        if r is None:
            return None
        return RecordedEvent(r[0], r[1], r[2], r[3], r[4] or "", r[5] or r[3], r[6], r[7], r[8])


class PausesSql(SqlPart):
    """The Pauses role."""

    def pauses(self, case_id: str) -> list[Pause]:
        """Return a case's pauses, oldest first."""
        rows = self.conn.execute(
            select(t.pauses).where(t.pauses.c.case_id == case_id).order_by(t.pauses.c.starts_at)
        ).mappings()
        return [pause_of(r) for r in rows]

    def pauses_of(self, case_ids: Sequence[str]) -> dict[str, list[Pause]]:
        """Return the pauses of each of these cases that has any, oldest first."""
        found: dict[str, list[Pause]] = {}
        ids = list(case_ids)
        for n in range(0, len(ids), 5000):  # a bounded parameter list per statement
            rows = self.conn.execute(
                select(t.pauses).where(t.pauses.c.case_id.in_(ids[n : n + 5000])).order_by(t.pauses.c.starts_at)
            ).mappings()
            for r in rows:
                found.setdefault(r["case_id"], []).append(pause_of(r))
        return found

    def pause(self, pause_id: str) -> Pause | None:
        """Return one pause."""
        row = self.conn.execute(select(t.pauses).where(t.pauses.c.id == pause_id)).mappings().first()
        return pause_of(row) if row else None

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
        return {r["case_id"]: pause_of(r) for r in rows}
