"""Coverage exemptions in the database, and the facts a coverage target is measured on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from activation import coverage
from activation.adapters import tables as t
from activation.adapters.reports import month_window
from activation.adapters.sql_rows import SqlPart, insert_new
from activation.config import Municipality
from activation.model import Exemption

x = t.coverage_exemptions.c


def _exemption(r: Any) -> Exemption:
    return Exemption(r.case_id, r.municipality, r.target, r.reason, r.recorded_by, r.recorded_at, r.note)


class ExemptionsSql(SqlPart):
    """The CoverageExemptions role: one exemption per case and target."""

    def exemption(self, case_id: str, target: str) -> Exemption | None:
        """Return the case's exemption from a target, if any."""
        row = self.conn.execute(select(t.coverage_exemptions).where(x.case_id == case_id, x.target == target)).first()
        return _exemption(row) if row else None

    def add_exemption(self, exemption: Exemption) -> bool:
        """Record an exemption once per case and target; tell whether it was new."""
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
        row = self.conn.execute(
            insert_new(t.coverage_exemptions).returning(x.id),
            {
                "case_id": exemption.case_id,
                "municipality": exemption.municipality,
                "target": exemption.target,
                "reason": exemption.reason,
                "note": exemption.note,
                "recorded_by": exemption.recorded_by,
                "recorded_at": exemption.recorded_at,
            },
        ).first()
        return row is not None


def case_exemptions(conn: Connection, case_id: str) -> list[Exemption]:
    """Return a case's exemptions, oldest first."""
    rows = conn.execute(select(t.coverage_exemptions).where(x.case_id == case_id).order_by(x.recorded_at, x.id))
    return [_exemption(r) for r in rows]


def target_coverage(
    conn: Connection,
    municipality: Municipality,
    target_key: str,
    now: datetime,
    months: int,
    since: date | None = None,
) -> list[coverage.CoverageMonth]:
    """Return the coverage of a target for the last `months` calendar months, the current one last.

    Months before `since` (the day the target took effect, coverage.target_since) are left out.
    """
    target = municipality.coverage_targets[target_key]
    window = month_window(now, municipality.timezone, months)
    shown = [m for m in window.months if since is None or m >= (since.year, since.month)]
    d = t.deadlines.c
    rows = conn.execute(
        select(d.case_id, d.due_at, d.status)
        .join(t.cases, t.cases.c.id == d.case_id)
        .where(
            t.cases.c.municipality == municipality.code,
            d.rule_key == target.obligation,
            d.due_at >= window.since,
            d.due_at < window.until,
            d.status != "ended",
        )
    ).all()
    periods: Sequence[coverage.PeriodFact] = [coverage.PeriodFact(r.case_id, r.due_at, r.status) for r in rows]
    exempted = conn.execute(
        select(t.coverage_exemptions).where(x.municipality == municipality.code, x.target == target_key)
    ).all()
    return coverage.measure(target, periods, [_exemption(r) for r in exempted], shown, municipality.timezone, now)
