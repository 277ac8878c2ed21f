"""Rule models for the law since 2020: caseload coverage targets, their exemption reasons, self-booking."""

from __future__ import annotations

from pydantic import Field, model_validator

from activation.config.rules import DeadlineRule, PositiveDuration, Strict
from activation.durations import Unit


class CoverageTarget(Strict):
    """A share of a group's cases that must meet an obligation, with a capped share that may be exempted.

    From 1 July 2026 (LOV nr. 1750 af 29/12/2025) a Danish municipality must give at least 75 % of a
    group the talks and the offer within the first 6 months; up to 25 % may be exempted by a recorded,
    reasoned assessment.
    """

    label: str = Field(..., min_length=1)
    obligation: str = Field(..., description='the cadence measured, "<group>.<cadence>"')
    target: float = Field(..., gt=0, le=100, description="per cent of the cases that must meet it")
    max_exempt: float = Field(0, ge=0, lt=100, description="per cent of the month's cases that may be exempted")
    source: str = Field(..., min_length=3)
    local_choice: bool = False

    @property
    def group(self) -> str:
        """Return the target group whose cases are measured."""
        return self.obligation.split(".", 1)[0]


class ExemptionReason(Strict):
    """A reason a case may be exempted from a coverage target (a concrete, recorded assessment)."""

    label: str = Field(..., min_length=1)
    source: str = Field(..., min_length=3)
    local_choice: bool = False


class SelfBooking(Strict):
    """How a meeting the citizen books themselves must be offered."""

    # STAR Q&A 20-02-2020: the booking deadline ("frist") is at least 8 days.
    min_notice: PositiveDuration = Field(..., description="the earliest slot offered lies at least this far ahead")
    source: str = Field(..., min_length=3)
    local_choice: bool = False

    @model_validator(mode="after")
    def _calendar_units(self) -> SelfBooking:
        if self.min_notice.unit not in (Unit.DAYS, Unit.WEEKS):
            raise ValueError(
                f"min_notice: {self.min_notice}: give it in days or weeks, as the rule counts it (e.g. '8 days')"
            )
        return self


WORK_DUTY_KEY = "work_duty_week"  # the rule key of the to-do a week short of hours creates
MAX_HOURS_A_WEEK = 37  # LAB kap. 16 a (§ 105 a): up to 37 hours a week


class WorkDuty(DeadlineRule):
    """The work duty's hours a week (arbejdspligt, LAB kap. 16 a), and the to-do when a week falls short.

    `due` and the ladder time the caseworker's to-do to plan the missing hours of a week.
    """

    label: str = Field(..., min_length=1)
    hours_a_week: int = Field(..., ge=1, le=MAX_HOURS_A_WEEK, description="the hours a week required")
