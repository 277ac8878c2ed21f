"""Durations as caseworkers and rule books write them."""

from __future__ import annotations

import pytest

from activation.durations import Duration, DurationError, Unit

# -- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48 hours", Duration(48, Unit.HOURS)),
        ("3 working days", Duration(3, Unit.WORKING_DAYS)),
        ("1 month", Duration(1, Unit.MONTHS)),
        ("2 weeks", Duration(2, Unit.WEEKS)),
        ("5 calendar days", Duration(5, Unit.DAYS)),
        ("1 working hour", Duration(1, Unit.WORKING_HOURS)),
    ],
)
def test_a_duration_is_read_as_a_rule_book_writes_it(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("1 hour", "1 hours"),
        ("1 working hour", "1 working hours"),
        ("1 working day", "1 working days"),
        ("1 day", "1 days"),
        ("1 week", "1 weeks"),
        ("1 month", "1 months"),
    ],
)
def test_singular_and_plural_spellings_mean_the_same_duration(singular: str, plural: str) -> None:
    assert Duration.parse(singular) == Duration.parse(plural)


def test_calendar_days_and_calendar_hours_are_plain_days_and_hours() -> None:
    assert Duration.parse("5 calendar days") == Duration.parse("5 days")
    assert Duration.parse("48 calendar hours") == Duration.parse("48 hours")


def test_h_is_short_for_hours() -> None:
    assert Duration.parse("48 h") == Duration(48, Unit.HOURS)


def test_extra_spaces_and_capital_letters_are_forgiven() -> None:
    assert Duration.parse("  3   Working  DAYS ") == Duration(3, Unit.WORKING_DAYS)


def test_a_number_written_against_its_unit_is_read() -> None:
    assert Duration.parse("48hours") == Duration(48, Unit.HOURS)


# -- refusing -----------------------------------------------------------------------------------


def test_an_unknown_unit_is_refused_naming_the_unit_and_the_units_that_exist() -> None:
    with pytest.raises(DurationError) as caught:
        Duration.parse("2 fortnights")
    message = str(caught.value)
    assert "'2 fortnights' has an unknown unit 'fortnights'" in message
    for unit in Unit:
        assert unit.value in message


def test_a_unit_in_another_language_is_refused_as_an_unknown_unit() -> None:
    with pytest.raises(DurationError, match=r"unknown unit 'arbetsdagar'"):
        Duration.parse("5 arbetsdagar")


def test_a_unit_without_a_number_is_refused_with_an_example_of_what_to_write() -> None:
    with pytest.raises(DurationError) as caught:
        Duration.parse("hours")
    assert str(caught.value) == ("'hours' is not a duration; write e.g. '48 hours', '3 working days', '6 months'")


@pytest.mark.parametrize("text", ["as soon as possible", "soon", "", "   ", "48", "1.5 hours", "two weeks", "+3 days"])
def test_text_that_is_not_a_whole_number_and_a_unit_is_refused(text: str) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        Duration.parse(text)


def test_a_refusal_is_a_value_error_so_validators_can_report_it() -> None:
    with pytest.raises(ValueError):
        Duration.parse("whenever")


# -- writing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "48 hours",
        "1 hour",
        "1 working hour",
        "2 working hours",
        "1 working day",
        "3 working days",
        "1 day",
        "5 days",
        "1 week",
        "2 weeks",
        "1 month",
        "6 months",
    ],
)
def test_a_duration_prints_as_it_was_written_and_reads_back_the_same(text: str) -> None:
    duration = Duration.parse(text)
    assert str(duration) == text
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize("unit", list(Unit))
@pytest.mark.parametrize("amount", [1, 2, 48])
def test_every_unit_survives_a_round_trip_through_text(unit: Unit, amount: int) -> None:
    duration = Duration(amount, unit)
    assert Duration.parse(str(duration)) == duration


def test_calendar_days_print_as_days() -> None:
    assert str(Duration.parse("5 calendar days")) == "5 days"


# -- counting -----------------------------------------------------------------------------------


def test_only_working_hours_and_working_days_count_open_time_only() -> None:
    assert {u for u in Unit if u.counts_open_time_only} == {Unit.WORKING_HOURS, Unit.WORKING_DAYS}


def test_nominal_hours_order_durations_of_different_units_sensibly() -> None:
    ordered = ["2 working hours", "1 day", "1 working day", "2 days", "1 week", "1 month"]
    hours = [Duration.parse(text).nominal_hours for text in ordered]
    assert hours == sorted(hours)
    assert len(set(hours)) == len(hours)
    assert Duration.parse("48 hours").nominal_hours == 48
