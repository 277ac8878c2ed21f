"""Drafts of to-do forms: what a caseworker typed when the save could not be taken, kept for them.

A save that arrives after the session ran out, or from a page whose form had gone stale, is not
lost: the fields are kept for the to-do and the user, given back when they open the to-do again,
and deleted when the to-do is saved or after a week. A draft holds what a record would hold, in the
same database; it never goes to a log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from activation.adapters import tables as t
from activation.adapters.db import reading

KEEP_FOR = timedelta(days=7)
MAX_FIELDS = 200  # a to-do form has far fewer; more is not a form of ours
MAX_VALUE = 4000  # characters of one field; the records allow at most 2000


class Drafts:
    """Drafts of to-do forms, one per to-do and user, over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def keep(self, todo_id: str, username: str, fields: Sequence[tuple[str, str]], now: datetime) -> None:
        """Keep what a user typed into a to-do's form, replacing their earlier draft of it."""
        kept = [[name[:200], value[:MAX_VALUE]] for name, value in fields[:MAX_FIELDS]]
        with self.engine.begin() as conn:
            conn.execute(delete(t.form_drafts).where(t.form_drafts.c.expires_at <= now))
            mine = (t.form_drafts.c.todo_id == todo_id) & (t.form_drafts.c.username == username)
            conn.execute(delete(t.form_drafts).where(mine))
            conn.execute(
                insert(t.form_drafts).values(
                    todo_id=todo_id, username=username, fields=kept, kept_at=now, expires_at=now + KEEP_FOR
                )
            )

    def draft(self, todo_id: str, username: str, now: datetime) -> list[tuple[str, str]] | None:
        """Return the fields a user's draft of a to-do's form holds, if one is kept and not expired."""
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.form_drafts.c.fields).where(
                    t.form_drafts.c.todo_id == todo_id,
                    t.form_drafts.c.username == username,
                    t.form_drafts.c.expires_at > now,
                )
            ).first()
        return [(str(name), str(value)) for name, value in row.fields] if row else None

    def discard(self, todo_id: str, username: str | None = None) -> None:
        """Delete a user's draft of a to-do; without a user, everyone's (the to-do is done)."""
        query = delete(t.form_drafts).where(t.form_drafts.c.todo_id == todo_id)
        if username is not None:
            query = query.where(t.form_drafts.c.username == username)
        with self.engine.begin() as conn:
            conn.execute(query)
