"""Durations as caseworkers and rule books say them: "48 hours", "3 working days", "6 months"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """How a duration is counted on a calendar."""

    HOURS = "hours"  # calendar hours, the clock never stops
    WORKING_HOURS = "working hours"  # only while the office is open
    WORKING_DAYS = "working days"  # open days; keeps the clock time
    DAYS = "days"  # calendar days; keeps the local clock time
    WEEKS = "weeks"
    MONTHS = "months"

    @property
    def counts_open_time_only(self) -> bool:
        """Tell whether the unit skips closed time (weekends, holidays, nights)."""
        return self in (Unit.WORKING_HOURS, Unit.WORKING_DAYS)


# Accepted spellings, singular and plural; "calendar days" is the same as "days".
_ALIASES = {
    "hour": Unit.HOURS,
    "hours": Unit.HOURS,
    "h": Unit.HOURS,
    "calendar hour": Unit.HOURS,
    "calendar hours": Unit.HOURS,
    "working hour": Unit.WORKING_HOURS,
    "working hours": Unit.WORKING_HOURS,
    "working day": Unit.WORKING_DAYS,
    "working days": Unit.WORKING_DAYS,
    "day": Unit.DAYS,
    "days": Unit.DAYS,
    "calendar day": Unit.DAYS,
    "calendar days": Unit.DAYS,
    "week": Unit.WEEKS,
    "weeks": Unit.WEEKS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
}

# Nominal length in hours, used only to compare durations of different units when validating
# configuration (a reminder must come before its deadline); never to compute a due time.
_NOMINAL_HOURS = {
    Unit.HOURS: 1.0,
    Unit.WORKING_HOURS: 3.0,  # ~8 open hours per 24 h
    Unit.WORKING_DAYS: 24.0 * 7 / 5,
    Unit.DAYS: 24.0,
    Unit.WEEKS: 168.0,
    Unit.MONTHS: 24.0 * 30.4,
}

_PATTERN = re.compile(r"^\s*(-?\d+)\s*([a-zA-Z ]+?)\s*$")


class DurationError(ValueError):
    """A duration text that cannot be read."""


@dataclass(frozen=True)
class Duration:
    """An amount of a unit, e.g. 48 hours or 3 working days."""

    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read "48 hours", "3 working days", "1 month"; refuse anything else."""
        match = _PATTERN.match(str(text))
        if not match:
            raise DurationError(f"{text!r} is not a duration; write e.g. '48 hours', '3 working days', '6 months'")
        amount = int(match.group(1))
        unit_text = " ".join(match.group(2).lower().split())
        if not unit_text:
            raise DurationError(f"{text!r} has no unit; write e.g. '48 hours', '3 working days', '6 months'")
        unit = _ALIASES.get(unit_text)
        if unit is None:
            known = ", ".join(sorted({u.value for u in Unit}))
            raise DurationError(f"{text!r} has an unknown unit {unit_text!r}; use one of: {known}")
        return cls(amount, unit)

    @property
    def nominal_hours(self) -> float:
        """Return a rough length in hours, for comparing durations of different units."""
        return self.amount * _NOMINAL_HOURS[self.unit]

    def __str__(self) -> str:
        unit = self.unit.value
        if self.amount == 1 and unit.endswith("s"):
            unit = unit[:-1]
        return f"{self.amount} {unit}"
