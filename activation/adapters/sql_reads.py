"""The read side on SQL: what pages, reports and the CLI show, as the typed views of activation/reads.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from activation.adapters import tables as t
from activation.adapters.sql_work import WorkReadsSql
from activation.reads import (
    AlarmLine,
    CaseDeadline,
    CaseDetail,
    CaseLine,
    CaseworkerChangeLine,
    DeadlineChangeLine,
    DeadlineLine,
    LetterLine,
    NotificationLine,
    PauseLine,
    RuleChangeRecord,
    StepLine,
    TodoLine,
)


class SqlReads(WorkReadsSql):
    """The Reads port on a connection; it writes nothing."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def list_deadlines(
        self,
        case_id: str | None = None,
        municipality: str | None = None,
        overdue_at: datetime | None = None,
        obligations_only: bool = False,
        limit: int = 200,
    ) -> list[DeadlineLine]:
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
        return [DeadlineLine(**r) for r in self.conn.execute(q).mappings()]

    def case_detail(self, case_id: str) -> CaseDetail | None:
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
        return CaseDetail(
            case=CaseLine(**case_row),
            steps=tuple(
                StepLine(**r) for r in rows(select(t.steps).where(t.steps.c.case_id == case_id).order_by(t.steps.c.seq))
            ),
            todos=tuple(
                TodoLine(**{**x, "outcomes": tuple(x["outcomes"])})
                for x in rows(select(t.todos).where(t.todos.c.case_id == case_id).order_by(t.todos.c.created_at))
            ),
            deadlines=tuple(
                CaseDeadline(
                    **d,
                    history=tuple(DeadlineChangeLine(**h) for h in history if h["deadline_id"] == d["id"]),
                    alarms=tuple(AlarmLine(**a) for a in alarms if a["deadline_id"] == d["id"]),
                )
                for d in deadlines
            ),
            pauses=tuple(
                PauseLine(**r)
                for r in rows(select(t.pauses).where(t.pauses.c.case_id == case_id).order_by(t.pauses.c.starts_at))
            ),
            caseworker_changes=tuple(
                CaseworkerChangeLine(**r)
                for r in rows(
                    select(t.caseworker_changes)
                    .where(t.caseworker_changes.c.case_id == case_id)
                    .order_by(t.caseworker_changes.c.changed_at)
                )
            ),
            notifications=tuple(
                NotificationLine(**r)
                for r in rows(
                    select(t.notifications)
                    .where(t.notifications.c.case_id == case_id)
                    .order_by(t.notifications.c.created_at)
                )
            ),
            letters=tuple(
                LetterLine(**r)
                for r in rows(
                    select(
                        t.letters.c.id,
                        t.letters.c.form,
                        t.letters.c.language,
                        t.letters.c.created_at,
                        t.letters.c.rendered_at,
                    )
                    .where(t.letters.c.case_id == case_id)
                    .order_by(t.letters.c.created_at)
                )
            ),
        )

    def rule_changes(self, municipality: str) -> list[RuleChangeRecord]:
        """Return the rule versions applied to a municipality's running cases, newest first."""
        rows = self.conn.execute(
            select(t.rule_changes)
            .where(t.rule_changes.c.municipality == municipality)
            .order_by(t.rule_changes.c.applied_at.desc())
        ).mappings()
        return [RuleChangeRecord(**{k: v for k, v in r.items() if k != "id"}) for r in rows]

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
