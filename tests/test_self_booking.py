"""Self-booking window: a meeting the citizen books themselves is offered at least 8 days ahead (DK)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from activation.booking import self_booking_window
from activation.config import ConfigError, load
from activation.durations import Duration
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds


def test_the_earliest_self_booked_meeting_lies_eight_calendar_days_ahead_at_the_same_clock_time(
    tmp_path: Path,
) -> None:
    allerod = load(config_with(tmp_path, with_rule_kinds)).municipality("allerod")
    window = self_booking_window(allerod, at("2026-12-02 13:00", COPENHAGEN))
    assert window is not None and window.min_notice == Duration.parse("8 days")
    assert window.earliest == at("2026-12-10 13:00", COPENHAGEN)  # Wednesday -> Thursday a week later
    assert "STAR Q&A 20-02-2020" in window.source
    # Across the change to summer time (Sunday 28 March 2027) the local clock time is kept.
    across = self_booking_window(allerod, at("2027-03-25 10:00", COPENHAGEN))
    assert across is not None and across.earliest == at("2027-04-02 10:00", COPENHAGEN)


def test_a_municipality_without_the_rule_offers_no_window(rules: Any) -> None:
    assert self_booking_window(rules.municipality("karlskrona"), at("2026-12-02 13:00")) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"min_notice": "8 working days", "source": "STAR"}, "min_notice: 8 working days: give it in days or weeks"),
        ({"min_notice": "0 days", "source": "STAR"}, "a duration must be positive"),
        ({"min_notice": "8 days"}, "self_booking.source"),
    ],
)
def test_a_self_booking_rule_that_cannot_be_counted_is_refused_naming_file_and_key(
    tmp_path: Path, value: dict[str, str], message: str
) -> None:
    def broken(data: dict[str, Any]) -> None:
        with_rule_kinds(data)
        data["self_booking"] = value

    with pytest.raises(ConfigError) as caught:
        load(config_with(tmp_path, broken))
    assert "allerod.yaml" in str(caught.value) and message in str(caught.value), str(caught.value)
