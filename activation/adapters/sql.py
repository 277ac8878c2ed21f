"""The store on SQLAlchemy 2: SQLite file by default, PostgreSQL in production.

Every write is idempotent through a unique key (ON CONFLICT DO NOTHING), and work is taken with a
claim-by-update (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) so concurrent flows never take the same
step or alarm twice. The unit of work is made of one part per role of the Transaction port
(sql_journey.py, sql_deadlines.py and the letters below); the read side is in sql_reads.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, bindparam, insert, select, update

from activation.adapters import tables as t
from activation.adapters.availability_sql import AvailabilitySql
from activation.adapters.coverage_sql import ExemptionsSql
from activation.adapters.db import reading
from activation.adapters.sql_deadlines import DeadlinesSql, ObligationsSql, PausesSql, RuleVersionsSql
from activation.adapters.sql_journey import CasesSql, JourneyStepsSql, TodosSql
from activation.adapters.sql_reads import SqlReads
from activation.adapters.sql_rows import SqlPart, add_to_outbox, insert_new
from activation.adapters.work_duty_sql import WeekPlansSql
from activation.booking import MEETING_LETTERS
from activation.model import AuditEntry, LetterRequest
from activation.reads import Reads


class SqlStore:
    """The Store port on a SQLAlchemy engine, and the read side beside it."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        """Open a unit of work that commits on success and rolls back on error."""
        with self.engine.begin() as conn:
            yield SqlTransaction(conn)

    @contextmanager
    def reads(self) -> Iterator[Reads]:
        """Open the read side on one connection; it writes nothing."""
        with reading(self.engine) as conn:
            yield SqlReads(conn)


class LettersSql(SqlPart):
    """The Letters role: letters queued, and rendered with an outbox event each."""

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
            add_to_outbox(
                self.conn,
                [("letter", x.id, x.case_id, {"form": x.form, "language": x.language, "letter_id": x.id})
                 for x in letters],
                now,
            )  # fmt: skip

    def meeting_letters(self, todo_id: str) -> list[LetterRequest]:
        """Return the invitations and cancellations queued for a meeting to-do, oldest first."""
        x = t.letters.c
        rows = self.conn.execute(
            select(x.id, x.case_id, x.todo_id, x.form, x.language, x.context)
            .where(x.todo_id == todo_id, x.form.in_(MEETING_LETTERS))
            .order_by(x.created_at, x.id)
        ).all()
        return [LetterRequest(r.id, r.case_id, r.todo_id, r.form, r.language, dict(r.context or {})) for r in rows]

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
            self.conn.execute(insert_new(t.letters), rows)


class AccessLogSql(SqlPart):
    """The AccessLog role: audit lines written in the same transaction as the work they record."""

    def record_access(self, entries: Sequence[AuditEntry], now: datetime) -> None:
        """Write audit lines in this unit of work; they are never updated or deleted."""
        if entries:
            self.conn.execute(insert(t.audit_log), [{**e.__dict__, "at": now} for e in entries])


class SqlTransaction(
    CasesSql,
    JourneyStepsSql,
    TodosSql,
    DeadlinesSql,
    RuleVersionsSql,
    ObligationsSql,
    PausesSql,
    LettersSql,
    AccessLogSql,
    ExemptionsSql,
    WeekPlansSql,
    AvailabilitySql,
):
    """One unit of work on a connection: every role of the Transaction port."""
