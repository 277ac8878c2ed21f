"""Synthetic records a caseworker fills in with an outcome, for tests that walk a case along."""

from __future__ import annotations

from datetime import date
from typing import Any

from activation import journey, samples

SIGNED = date(2026, 11, 16)  # the plan is signed; the placement starts two weeks later
STARTS = date(2026, 12, 1)

ASSESSMENT = samples.assessment(SIGNED, health="synthetic")
PLAN = samples.plan(
    SIGNED,
    intervention=None,
    starts_on=STARTS,
    ends_on=date(2027, 3, 1),
    follow_up_on=date(2027, 1, 15),
    goal="Work 20 hours a week in retail",
    sub_goals=["Stable daily routine"],
    what="Internship at a shop",
)
PLACEMENT = samples.placement(STARTS, ends_on=date(2027, 2, 26), provider="Synthetic Shop ApS", hours_per_week=20)
FOLLOW_UP = samples.follow_up(SIGNED, life_mastery={"wellbeing": 6})
EXIT = samples.exit_record(SIGNED)

BY_FORM: dict[str, dict[str, Any]] = {
    "assessment": ASSESSMENT,
    "plan": PLAN,
    "placement": PLACEMENT,
    "follow_up": FOLLOW_UP,
    "exit": EXIT,
}


def filled(outcome: str, stage: str | None = None) -> dict[str, Any] | None:
    """Return the record an outcome needs (the journey names its form), or None; a stage picks among namesakes."""
    stages = [journey.stage(stage)] if stage else journey.JOURNEY
    forms = [s.outcomes[outcome].record for s in stages if outcome in s.outcomes]
    form = next((f for f in forms if f), None)
    return BY_FORM[form] if form else None
