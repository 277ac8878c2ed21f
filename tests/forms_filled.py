"""Synthetic records a caseworker fills in with an outcome, for tests that walk a case along."""

from __future__ import annotations

from typing import Any

ASSESSMENT: dict[str, Any] = {"capacity_band": "26-50", "barriers": ["mental_health", "housing"], "health": "synthetic"}
PLAN: dict[str, Any] = {
    "goal": "Work 20 hours a week in retail",
    "sub_goals": ["Stable daily routine"],
    "activities": [
        {"what": "Internship at a shop", "starts_on": "2026-12-01", "ends_on": "2027-03-01", "responsible": "cw-01"}
    ],
    "follow_up_on": "2027-01-15",
    "signed_on": "2026-11-16",
}
PLACEMENT: dict[str, Any] = {
    "intervention": "internship",
    "provider": "Synthetic Shop ApS",
    "starts_on": "2026-12-01",
    "ends_on": "2027-02-26",
    "hours_per_week": 20,
}
FOLLOW_UP: dict[str, Any] = {"ladder_step": "day_activity", "life_mastery": {"wellbeing": 6}}
EXIT: dict[str, Any] = {"reason": "job"}

BY_OUTCOME: dict[str, dict[str, Any]] = {
    "completed": ASSESSMENT,
    "signed": PLAN,
    "started": PLACEMENT,
    "continue": FOLLOW_UP,
    "change_plan": FOLLOW_UP,
    "ready_to_exit": FOLLOW_UP,
    "exited": EXIT,
}


def filled(outcome: str) -> dict[str, Any] | None:
    """Return the record an outcome needs, or None."""
    return BY_OUTCOME.get(outcome)
