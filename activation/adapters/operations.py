"""Reads for operations: how the flows are keeping up, in counts and ids only, never a citizen's data.

Operations staff watch the sweep, the backlog and parked steps across every municipality. What
this module returns holds no citizen reference, no caseworker and no case id: only times, counts,
municipality codes, journey stages, step numbers and the class of an error (not its message,
which may name a case).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from activation.adapters import tables as t
from activation.adapters.lifecycle_sql import is_parked, is_pending

_ERROR_CLASS = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,79}$")


def error_class(last_error: str | None) -> str:
    """Return the class of a step's recorded error ('ConfigError: …' -> 'ConfigError'), never its message."""
    head = (last_error or "").split(":", 1)[0].strip()
    return head if _ERROR_CLASS.match(head) else "unknown"


@dataclass(frozen=True)
class ParkedGroup:
    """Steps parked after repeated failures, grouped by municipality, stage and error class."""

    municipality: str
    from_stage: str
    error_class: str
    step_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        """Return how many steps the group holds."""
        return len(self.step_ids)


@dataclass(frozen=True)
class MunicipalityBacklog:
    """One municipality's due work."""

    municipality: str
    due_alarms: int = 0
    unapplied_steps: int = 0
    unrendered_letters: int = 0
    parked_steps: int = 0

    @property
    def total(self) -> int:
        """Return the due work in all (parked steps wait for a person, so they are not counted here)."""
        return self.due_alarms + self.unapplied_steps + self.unrendered_letters


@dataclass(frozen=True)
class FlowHealth:
    """How the flows are keeping up at one moment."""

    now: datetime
    last_sweep_at: datetime | None
    fired_last_24h: int
    due_alarms: int
    oldest_due_alarm_at: datetime | None
    unapplied_steps: int
    oldest_unapplied_at: datetime | None
    unrendered_letters: int
    oldest_unrendered_at: datetime | None
    parked_steps: int
    parked: list[ParkedGroup] = field(default_factory=list)
    by_municipality: list[MunicipalityBacklog] = field(default_factory=list)

    @property
    def due_backlog(self) -> int:
        """Return the due alarms, unapplied steps and unrendered letters, together."""
        return self.due_alarms + self.unapplied_steps + self.unrendered_letters

    def oldest_due(self) -> datetime | None:
        """Return since when the oldest item of the backlog has been due."""
        times = [x for x in (self.oldest_due_alarm_at, self.oldest_unapplied_at, self.oldest_unrendered_at) if x]
        return min(times) if times else None

    def behind(self, allowed: timedelta) -> bool:
        """Tell whether something has been due for longer than allowed (the flows are not keeping up)."""
        oldest = self.oldest_due()
        return oldest is not None and self.now - oldest > allowed


def flow_health(conn: Connection, now: datetime, parked_limit: int = 500) -> FlowHealth:
    """Measure the sweep, the due backlog and parked steps; counts per municipality, no personal data."""
    alarms, steps, letters, cases = t.alarms, t.steps, t.letters, t.cases
    last_sweep_at = conn.execute(select(func.max(alarms.c.fired_at))).scalar_one()
    fired_last_24h = conn.execute(
        select(func.count()).select_from(alarms).where(alarms.c.fired_at > now - timedelta(hours=24))
    ).scalar_one()

    due_alarm = (alarms.c.state == "pending") & (alarms.c.fires_at <= now)
    unapplied = is_pending(steps.c.applied_at, steps.c.failures)
    parked = is_parked(steps.c.applied_at, steps.c.failures)
    unrendered = letters.c.rendered_at.is_(None)

    due_alarms, oldest_alarm = conn.execute(select(func.count(), func.min(alarms.c.fires_at)).where(due_alarm)).one()
    unapplied_steps, oldest_step = conn.execute(
        select(func.count(), func.min(steps.c.occurred_at)).where(unapplied)
    ).one()
    unrendered_letters, oldest_letter = conn.execute(
        select(func.count(), func.min(letters.c.created_at)).where(unrendered)
    ).one()

    counts: dict[str, dict[str, int]] = {}
    per_municipality = (
        ("due_alarms", alarms, alarms.c.case_id, due_alarm),
        ("unapplied_steps", steps, steps.c.case_id, unapplied),
        ("unrendered_letters", letters, letters.c.case_id, unrendered),
    )
    for kind, table, case_id, condition in per_municipality:
        rows = conn.execute(
            select(cases.c.municipality, func.count())
            .select_from(table.join(cases, cases.c.id == case_id))
            .where(condition)
            .group_by(cases.c.municipality)
        )
        for municipality, n in rows:
            counts.setdefault(municipality, {})[kind] = int(n)

    groups: dict[tuple[str, str, str], list[int]] = {}
    parked_rows = conn.execute(
        select(steps.c.id, steps.c.from_stage, steps.c.last_error, cases.c.municipality)
        .select_from(steps.join(cases, cases.c.id == steps.c.case_id))
        .where(parked)
        .order_by(steps.c.id)
        .limit(parked_limit)
    ).all()
    for row in parked_rows:
        groups.setdefault((row.municipality, row.from_stage, error_class(row.last_error)), []).append(int(row.id))
    parked_count = conn.execute(select(func.count()).select_from(steps).where(parked)).scalar_one()
    for (municipality, _stage, _error), ids in groups.items():
        bucket = counts.setdefault(municipality, {})
        bucket["parked_steps"] = bucket.get("parked_steps", 0) + len(ids)

    return FlowHealth(
        now=now,
        last_sweep_at=last_sweep_at,
        fired_last_24h=int(fired_last_24h),
        due_alarms=int(due_alarms),
        oldest_due_alarm_at=oldest_alarm,
        unapplied_steps=int(unapplied_steps),
        oldest_unapplied_at=oldest_step,
        unrendered_letters=int(unrendered_letters),
        oldest_unrendered_at=oldest_letter,
        parked_steps=int(parked_count),
        parked=[ParkedGroup(m, s, e, tuple(ids)) for (m, s, e), ids in sorted(groups.items())],
        by_municipality=[MunicipalityBacklog(m, **c) for m, c in sorted(counts.items())],
    )
