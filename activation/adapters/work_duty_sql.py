"""The work duty's week plans in the database: one row per case and week."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select

from activation.adapters import tables as t
from activation.adapters.sql_rows import SqlPart
from activation.model import WeekPlan

w = t.week_plans.c


def week_plan_of(r: Any) -> WeekPlan:
    """Return a week plan from its row."""
    activities = tuple((str(name), float(hours)) for name, hours in r.activities)
    return WeekPlan(r.case_id, r.week_start, float(r.required_hours), activities, r.recorded_by, r.recorded_at)


class WeekPlansSql(SqlPart):
    """The WeekPlans role."""

    def save_week_plan(self, plan: WeekPlan) -> None:
        """Save a case's plan for a week, replacing the week's earlier one."""
        municipality = self.conn.execute(
            select(t.cases.c.municipality).where(t.cases.c.id == plan.case_id)
        ).scalar_one()
        # Delete and insert in one transaction: the unique (case, week) keeps a racing save from doubling it.
        self.conn.execute(delete(t.week_plans).where(w.case_id == plan.case_id, w.week_start == plan.week_start))
        self.conn.execute(
            t.week_plans.insert(),
            {
                "case_id": plan.case_id,
                "municipality": municipality,
                "week_start": plan.week_start,
                "required_hours": plan.required_hours,
                "activities": [list(a) for a in plan.activities],
                "recorded_by": plan.recorded_by,
                "recorded_at": plan.recorded_at,
            },
        )

    def week_plans(self, municipality: str, since: date, until: date, case_id: str | None = None) -> list[WeekPlan]:
        """Return the week plans starting from since up to (not including) until, of one case if given."""
        query = select(t.week_plans).where(w.municipality == municipality, w.week_start >= since, w.week_start < until)
        if case_id is not None:
            query = query.where(w.case_id == case_id)
        return [week_plan_of(r) for r in self.conn.execute(query.order_by(w.case_id, w.week_start))]
