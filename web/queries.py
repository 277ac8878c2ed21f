"""Reads the pages need that the domain's ports do not offer: notifications for an inbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, union_all

from activation.adapters import tables as t


def notifications_for(conn: Connection, recipients: Sequence[str], limit: int = 30) -> list[dict[str, Any]]:
    """Return the newest reminders, escalations and alerts addressed to these recipients."""
    n = t.notifications
    if not recipients:
        return []
    # The newest of each recipient from ix_notifications_recipient, then the newest of those: a team
    # lead's role receives an escalation of every case in the team (tens of thousands at 50,000 cases),
    # and one IN list over all of them sorted every row before the first 30 (issue 12).
    newest = [
        select(n).where(n.c.recipient == who).order_by(n.c.created_at.desc()).limit(limit).subquery()
        for who in dict.fromkeys(recipients)
    ]
    each = union_all(*(select(part) for part in newest)).subquery()
    rows = conn.execute(select(each).order_by(each.c.created_at.desc(), each.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
