"""Sample records for each form a caseworker fills in with an outcome (activation/records.py).

One table for the demo, the what-if simulation and the tests: a builder per form, filled in on a
given day, with what a caller varies (capacity band, intervention, length, exit reason) as keywords.
Synthetic data only: no person, no real employer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

from activation import journey

FOLLOW_UP_AFTER = timedelta(weeks=4)  # the plan's first follow-up; a local choice for samples


def assessment(
    day: date, capacity_band: str = "26-50", barriers: Sequence[str] = ("mental_health", "housing"), **more: Any
) -> dict[str, Any]:
    """Return an assessment: the capacity band and the barriers found."""
    return {"capacity_band": capacity_band, "barriers": list(barriers), **more}


def plan(
    day: date,
    weeks: int = 4,
    intervention: str | None = "internship",
    *,
    starts_on: date | None = None,
    ends_on: date | None = None,
    follow_up_on: date | None = None,
    goal: str = "Towards work",
    what: str = "Synthetic activity",
    responsible: str = "cw-01",
    **more: Any,
) -> dict[str, Any]:
    """Return a plan signed on day: one activity of `weeks` weeks and the placement planned."""
    starts_on = starts_on or day
    ends_on = ends_on or starts_on + timedelta(weeks=weeks)
    activity = {"what": what, "starts_on": str(starts_on), "ends_on": str(ends_on), "responsible": responsible}
    follow_up_on = follow_up_on or day + FOLLOW_UP_AFTER
    record = {"goal": goal, "activities": [activity], "follow_up_on": str(follow_up_on), "signed_on": str(day), **more}
    if intervention:
        record["intervention"] = intervention
    return record


def placement(
    day: date,
    weeks: int = 4,
    intervention: str = "internship",
    *,
    ends_on: date | None = None,
    provider: str = "Synthetic employer",
    **more: Any,
) -> dict[str, Any]:
    """Return a placement starting on day and running `weeks` weeks (or until ends_on)."""
    ends_on = ends_on or day + timedelta(weeks=weeks)
    return {"intervention": intervention, "provider": provider, "starts_on": str(day), "ends_on": str(ends_on), **more}


def follow_up(day: date, ladder_step: str = "day_activity", **more: Any) -> dict[str, Any]:
    """Return a follow-up: the step reached on the progression ladder."""
    return {"ladder_step": ladder_step, **more}


def exit_record(day: date, reason: str = "job", **more: Any) -> dict[str, Any]:
    """Return an exit: why the citizen leaves."""
    return {"reason": reason, **more}


# Form (Go.record in activation/journey.py) -> its sample, filled in on a day.
SAMPLES: dict[str, Callable[..., dict[str, Any]]] = {
    "assessment": assessment,
    "plan": plan,
    "placement": placement,
    "follow_up": follow_up,
    "exit": exit_record,
}


def filled(form: str | None, day: date, **choices: Any) -> dict[str, Any] | None:
    """Return the sample of a form filled in on day with the choices given; None when no form is asked."""
    return SAMPLES[form](day, **choices) if form else None


def for_outcome(stage: str, outcome: str, day: date, **choices: Any) -> dict[str, Any] | None:
    """Return the sample of the form the journey asks for with an outcome recorded in a stage, or None."""
    return filled(journey.transition(stage, outcome).record, day, **choices)
