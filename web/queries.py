"""Reads the pages need that the domain's ports do not offer: notifications for an inbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from activation.adapters import tables as t


def notifications_for(conn: Connection, recipients: Sequence[str], limit: int = 30) -> list[dict[str, Any]]:
    """Return the newest reminders, escalations and alerts addressed to these recipients."""
    rows = conn.execute(
        select(t.notifications)
        .where(t.notifications.c.recipient.in_(list(recipients)))
        .order_by(t.notifications.c.created_at.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]
