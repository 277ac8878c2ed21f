"""A Swedish office calendar counting deadlines the way the office does.

The calendar is built here, not read from config/: Europe/Stockholm, Swedish public holidays,
open Monday-Thursday 08:00-16:30 and Friday 08:00-15:00, closed on midsommarafton 2026
(a dated closing day) and on julafton every year (a yearly MM-DD closing day).
Every expected moment below was worked out by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from activation.calendar import BusinessCalendar, CalendarError, Window
from activation.durations import Duration, Unit

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")

MIDSOMMARAFTON_2026 = date(2026, 6, 19)  # a Friday
JULAFTON = (12, 24)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a Stockholm wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def dur(text: str) -> Duration:
    return Duration.parse(text)


def make_office() -> BusinessCalendar:
    long_day = Window(time(8, 0), time(16, 30))
    return BusinessCalendar(
        name="test/office",
        timezone="Europe/Stockholm",
        holiday_country="SE",
        closing_days=frozenset({MIDSOMMARAFTON_2026}),
        yearly_closing_days=frozenset({JULAFTON}),
        opening_hours={0: long_day, 1: long_day, 2: long_day, 3: long_day, 4: Window(time(8, 0), time(15, 0))},
    )


@pytest.fixture
def office() -> BusinessCalendar:
    return make_office()


def assert_same_moment(actual: datetime, expected: datetime) -> None:
    """Compare wall clock, UTC offset and instant, so a DST slip cannot hide."""
    assert actual == expected
    assert actual.utcoffset() == expected.utcoffset()
    assert actual.astimezone(UTC) == expected.astimezone(UTC)


# -- the calendar itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "holiday",
    [
        date(2026, 1, 1),
        date(2026, 1, 6),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 14),
        date(2026, 6, 6),
        date(2026, 12, 25),
        date(2026, 12, 26),
    ],
)
def test_swedish_public_holidays_of_2026_are_closed_days(office: BusinessCalendar, holiday: date) -> None:
    assert office.holiday_name(holiday) is not None
    assert not office.is_open_day(holiday)


def test_an_ordinary_weekday_is_open_and_has_no_holiday_name(office: BusinessCalendar) -> None:
    assert office.is_open_day(date(2026, 3, 10))
    assert office.holiday_name(date(2026, 3, 10)) is None


def test_weekends_are_closed(office: BusinessCalendar) -> None:
    assert not office.is_open_day(date(2026, 3, 14))
    assert not office.is_open_day(date(2026, 3, 15))


def test_the_dated_and_the_yearly_closing_days_are_municipal_closing_days(office: BusinessCalendar) -> None:
    assert office.holiday_name(MIDSOMMARAFTON_2026) == "municipal closing day"
    assert office.holiday_name(date(2026, 12, 24)) == "municipal closing day"
    assert office.holiday_name(date(2027, 12, 24)) == "municipal closing day"  # a Friday, every year
    assert not office.is_open_day(date(2027, 12, 24))


def test_a_dated_closing_day_does_not_repeat_the_next_year(office: BusinessCalendar) -> None:
    assert office.is_open_day(date(2027, 6, 18))  # a Friday, not midsommarafton 2027
    assert office.holiday_name(date(2027, 6, 18)) is None


def test_the_office_is_open_from_opening_until_and_including_closing_time(office: BusinessCalendar) -> None:
    assert not office.is_open(at(2026, 3, 13, 7, 59))
    assert office.is_open(at(2026, 3, 13, 8, 0))
    assert office.is_open(at(2026, 3, 13, 15, 0))
    assert not office.is_open(at(2026, 3, 13, 15, 1))
    assert office.is_open(at(2026, 3, 12, 16, 30))  # Thursday closes later than Friday


def test_a_moment_given_in_utc_is_read_in_the_calendars_time_zone(office: BusinessCalendar) -> None:
    # 14:00 UTC on a winter Friday is 15:00 in Stockholm, closing time.
    assert office.is_open(utc(2026, 3, 13, 14, 0))
    assert not office.is_open(utc(2026, 3, 13, 14, 1))


def test_describe_says_how_the_calendar_counts(office: BusinessCalendar) -> None:
    text = office.describe()
    assert text.startswith("test/office: open mon 08:00-16:30, tue 08:00-16:30")
    assert "fri 08:00-15:00" in text
    assert "public holidays of SE" in text
    assert "2 own closing days" in text
    assert "(Europe/Stockholm)" in text


# -- calendar hours -------------------------------------------------------------------------------


def test_48_calendar_hours_from_friday_afternoon_end_on_sunday_afternoon(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 13, 15, 0), dur("48 hours")), at(2026, 3, 15, 15, 0))


def test_karlskrona_friday_afternoon_application_is_due_monday_at_closing(office: BusinessCalendar) -> None:
    due = office.add(at(2026, 3, 13, 15, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 16, 16, 30))


def test_a_due_time_while_the_office_is_open_is_not_extended(office: BusinessCalendar) -> None:
    due = office.add(at(2026, 3, 9, 10, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 11, 10, 0))


def test_a_due_time_exactly_at_closing_is_not_extended(office: BusinessCalendar) -> None:
    due = office.add(at(2026, 3, 11, 16, 30), dur("24 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 12, 16, 30))


def test_a_due_time_in_the_evening_moves_to_the_end_of_the_next_opening(office: BusinessCalendar) -> None:
    # Tuesday 18:00 + 48 h = Thursday 18:00, after closing; the next opening is Friday until 15:00.
    due = office.add(at(2026, 3, 10, 18, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 13, 15, 0))


def test_a_due_time_early_in_the_morning_moves_to_that_days_closing(office: BusinessCalendar) -> None:
    # Sunday 06:00 + 24 h = Monday 06:00, before opening; Monday closes 16:30.
    due = office.add(at(2026, 3, 15, 6, 0), dur("24 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 16, 16, 30))


def test_a_due_time_on_a_public_holiday_moves_past_the_whole_easter_weekend(office: BusinessCalendar) -> None:
    # Wednesday 1 April 10:00 + 48 h = Good Friday 10:00; closed until Tuesday 7 April.
    assert_same_moment(office.add(at(2026, 4, 1, 10, 0), dur("48 hours")), at(2026, 4, 3, 10, 0))
    due = office.add(at(2026, 4, 1, 10, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 4, 7, 16, 30))


def test_a_start_given_in_utc_is_counted_in_local_time(office: BusinessCalendar) -> None:
    # 14:00 UTC = 15:00 Stockholm on Friday 13 March.
    due = office.add(utc(2026, 3, 13, 14, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 16, 16, 30))


# -- DST ------------------------------------------------------------------------------------------


def test_hours_across_the_end_of_summer_time_are_absolute_hours(office: BusinessCalendar) -> None:
    # Clocks go back from 03:00 CEST to 02:00 CET on Sunday 25 October 2026.
    # Saturday 12:00 CEST = 10:00 UTC; + 24 h = Sunday 10:00 UTC = 11:00 CET.
    result = office.add(at(2026, 10, 24, 12, 0), dur("24 hours"))
    assert_same_moment(result, at(2026, 10, 25, 11, 0))
    assert result.utcoffset() == timedelta(hours=1)
    assert result.astimezone(UTC) - at(2026, 10, 24, 12, 0).astimezone(UTC) == timedelta(hours=24)


def test_48_hours_from_friday_afternoon_across_the_end_of_summer_time(office: BusinessCalendar) -> None:
    # Friday 15:00 CEST = 13:00 UTC; + 48 h = Sunday 13:00 UTC = 14:00 CET, extended to Monday.
    start = at(2026, 10, 23, 15, 0)
    raw = office.add(start, dur("48 hours"))
    assert_same_moment(raw, at(2026, 10, 25, 14, 0))
    assert raw.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=48)
    extended = office.add(start, dur("48 hours"), extend_when_closed=True)
    assert_same_moment(extended, at(2026, 10, 26, 16, 30))


def test_hours_across_the_start_of_summer_time_are_absolute_hours(office: BusinessCalendar) -> None:
    # Clocks go forward from 02:00 CET to 03:00 CEST on Sunday 29 March 2026.
    # Saturday 12:00 CET = 11:00 UTC; + 24 h = Sunday 11:00 UTC = 13:00 CEST.
    assert_same_moment(office.add(at(2026, 3, 28, 12, 0), dur("24 hours")), at(2026, 3, 29, 13, 0))


def test_calendar_days_across_the_end_of_summer_time_keep_the_wall_clock(office: BusinessCalendar) -> None:
    # Friday 10:00 CEST + 3 days = Monday 10:00 CET, 73 real hours later.
    start = at(2026, 10, 23, 10, 0)
    result = office.add(start, dur("3 days"))
    assert_same_moment(result, at(2026, 10, 26, 10, 0))
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=73)


def test_working_days_across_the_end_of_summer_time_keep_the_wall_clock(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 10, 23, 10, 0), dur("1 working day")), at(2026, 10, 26, 10, 0))


# -- working days ---------------------------------------------------------------------------------


def test_working_days_within_a_week_keep_the_clock_time(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 10, 0), dur("3 working days")), at(2026, 3, 12, 10, 0))


def test_working_days_skip_the_weekend(office: BusinessCalendar) -> None:
    # Thursday 12 March + 3 working days: Friday 13, Monday 16, Tuesday 17.
    assert_same_moment(office.add(at(2026, 3, 12, 10, 0), dur("3 working days")), at(2026, 3, 17, 10, 0))


def test_working_days_skip_the_whole_easter_weekend(office: BusinessCalendar) -> None:
    # Good Friday 3 April and Easter Monday 6 April are public holidays.
    assert_same_moment(office.add(at(2026, 4, 2, 10, 0), dur("1 working day")), at(2026, 4, 7, 10, 0))
    assert_same_moment(office.add(at(2026, 4, 1, 10, 0), dur("2 working days")), at(2026, 4, 7, 10, 0))


def test_working_days_skip_christmas(office: BusinessCalendar) -> None:
    # Julafton (own closing day), Christmas Day (Friday) and the weekend are skipped.
    assert_same_moment(office.add(at(2026, 12, 23, 11, 0), dur("1 working day")), at(2026, 12, 28, 11, 0))


def test_working_days_skip_epiphany(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 1, 5, 9, 0), dur("1 working day")), at(2026, 1, 7, 9, 0))


def test_working_days_skip_may_day_and_ascension_day(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 4, 30, 10, 0), dur("1 working day")), at(2026, 5, 4, 10, 0))
    assert_same_moment(office.add(at(2026, 5, 13, 14, 0), dur("1 working day")), at(2026, 5, 15, 14, 0))


def test_working_days_ending_on_a_friday_end_no_later_than_fridays_closing(office: BusinessCalendar) -> None:
    # Thursday 16:00 + 1 working day: Friday closes at 15:00.
    assert_same_moment(office.add(at(2026, 3, 12, 16, 0), dur("1 working day")), at(2026, 3, 13, 15, 0))


def test_working_days_ignore_extend_when_closed_because_they_end_in_open_time(office: BusinessCalendar) -> None:
    plain = office.add(at(2026, 3, 12, 10, 0), dur("3 working days"))
    extended = office.add(at(2026, 3, 12, 10, 0), dur("3 working days"), extend_when_closed=True)
    assert_same_moment(extended, plain)


# -- applications that arrive while the office is closed ------------------------------------------


def test_an_application_on_friday_evening_counts_from_monday_morning(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 13, 17, 0), dur("1 working day")), at(2026, 3, 17, 8, 0))


def test_an_application_on_a_weekday_evening_counts_from_the_next_morning(office: BusinessCalendar) -> None:
    # Tuesday 20:00 counts from Wednesday 08:00; + 3 working days: Thursday, Friday, Monday.
    assert_same_moment(office.add(at(2026, 3, 10, 20, 0), dur("3 working days")), at(2026, 3, 16, 8, 0))


def test_an_application_on_a_saturday_counts_from_monday_morning(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 14, 12, 0), dur("5 working days")), at(2026, 3, 23, 8, 0))


def test_an_application_before_opening_counts_from_that_mornings_opening(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 6, 0), dur("1 working day")), at(2026, 3, 10, 8, 0))


def test_an_application_at_closing_time_counts_from_the_next_opening(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 13, 15, 0), dur("1 working day")), at(2026, 3, 17, 8, 0))


def test_next_opening_of_an_open_moment_is_the_moment_itself(office: BusinessCalendar) -> None:
    assert_same_moment(office.next_opening(at(2026, 3, 10, 11, 15)), at(2026, 3, 10, 11, 15))


def test_next_opening_after_maundy_thursday_is_the_tuesday_after_easter(office: BusinessCalendar) -> None:
    assert_same_moment(office.next_opening(at(2026, 4, 2, 17, 0)), at(2026, 4, 7, 8, 0))


# -- working hours --------------------------------------------------------------------------------


def test_working_hours_within_a_day(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 10, 0), dur("2 working hours")), at(2026, 3, 9, 12, 0))


def test_working_hours_that_exactly_fill_the_day_end_at_closing(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 14, 30), dur("2 working hours")), at(2026, 3, 9, 16, 30))


def test_working_hours_continue_the_next_morning(office: BusinessCalendar) -> None:
    # Monday 15:30: one hour until 16:30, the second from Tuesday 08:00.
    assert_same_moment(office.add(at(2026, 3, 9, 15, 30), dur("2 working hours")), at(2026, 3, 10, 9, 0))


def test_working_hours_from_friday_afternoon_continue_on_monday(office: BusinessCalendar) -> None:
    # Friday 14:00: one hour until 15:00, the second from Monday 08:00.
    assert_same_moment(office.add(at(2026, 3, 13, 14, 0), dur("2 working hours")), at(2026, 3, 16, 9, 0))


def test_more_working_hours_than_a_day_holds_spill_over(office: BusinessCalendar) -> None:
    # Monday is open 8.5 hours; 1.5 hours remain for Tuesday.
    assert_same_moment(office.add(at(2026, 3, 9, 8, 0), dur("10 working hours")), at(2026, 3, 10, 9, 30))


def test_a_working_hour_asked_for_in_the_evening_starts_the_next_morning(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 18, 0), dur("1 working hour")), at(2026, 3, 10, 9, 0))


def test_working_hours_skip_the_easter_weekend(office: BusinessCalendar) -> None:
    # Maundy Thursday 16:00: half an hour until 16:30, the rest on Tuesday 7 April.
    assert_same_moment(office.add(at(2026, 4, 2, 16, 0), dur("1 working hour")), at(2026, 4, 7, 8, 30))


# -- subtracting (reminders) ----------------------------------------------------------------------


def test_a_reminder_that_would_fire_on_sunday_fires_at_fridays_closing(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 16, 10, 0), dur("24 hours")), at(2026, 3, 13, 15, 0))


def test_a_reminder_inside_opening_hours_fires_exactly_then(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 12, 10, 0), dur("24 hours")), at(2026, 3, 11, 10, 0))


def test_a_reminder_that_would_fire_in_the_early_morning_fires_at_the_previous_closing(
    office: BusinessCalendar,
) -> None:
    # Wednesday 07:00 - 24 h = Tuesday 07:00, before opening: Monday 16:30.
    assert_same_moment(office.subtract(at(2026, 3, 11, 7, 0), dur("24 hours")), at(2026, 3, 9, 16, 30))


def test_a_calendar_day_reminder_landing_on_saturday_fires_on_friday(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 16, 16, 30), dur("2 days")), at(2026, 3, 13, 15, 0))


def test_working_hour_reminders_step_back_into_the_previous_opening(office: BusinessCalendar) -> None:
    # Monday 09:00 - 2 working hours: one hour on Monday, one before Friday's 15:00 closing.
    assert_same_moment(office.subtract(at(2026, 3, 16, 9, 0), dur("2 working hours")), at(2026, 3, 13, 14, 0))


def test_a_working_hour_reminder_before_a_deadline_at_opening_counts_from_the_previous_closing(
    office: BusinessCalendar,
) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 10, 8, 0), dur("1 working hour")), at(2026, 3, 9, 15, 30))


def test_a_working_hour_reminder_before_a_sunday_deadline_counts_from_fridays_closing(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 15, 12, 0), dur("1 working hour")), at(2026, 3, 13, 14, 0))


def test_working_day_reminders_skip_the_weekend(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 18, 10, 0), dur("2 working days")), at(2026, 3, 16, 10, 0))
    assert_same_moment(office.subtract(at(2026, 3, 17, 10, 0), dur("2 working days")), at(2026, 3, 13, 10, 0))


def test_working_day_reminders_skip_easter(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 4, 7, 10, 0), dur("1 working day")), at(2026, 4, 2, 10, 0))


def test_a_working_day_reminder_landing_on_friday_fires_no_later_than_fridays_closing(office: BusinessCalendar) -> None:
    assert_same_moment(office.subtract(at(2026, 3, 16, 16, 30), dur("1 working day")), at(2026, 3, 13, 15, 0))


def test_a_month_reminder_landing_on_a_saturday_fires_on_friday(office: BusinessCalendar) -> None:
    # 31 March - 1 month = 28 February (clamped), a Saturday: Friday 27 February at closing.
    assert_same_moment(office.subtract(at(2026, 3, 31, 10, 0), dur("1 month")), at(2026, 2, 27, 15, 0))


# The opening instant itself is open: a reminder landing at 08:00 fires at 08:00.
def test_the_last_open_moment_of_the_opening_instant_is_that_instant(office: BusinessCalendar) -> None:
    assert office.is_open(at(2026, 3, 16, 8, 0))
    assert_same_moment(office.last_open_moment(at(2026, 3, 16, 8, 0)), at(2026, 3, 16, 8, 0))


def test_a_reminder_landing_exactly_at_opening_time_fires_then(office: BusinessCalendar) -> None:
    # Tuesday 08:00 - 24 h = Monday 08:00, the moment the office opens.
    assert_same_moment(office.subtract(at(2026, 3, 17, 8, 0), dur("24 hours")), at(2026, 3, 16, 8, 0))


def test_subtracting_working_days_undoes_adding_them_to_an_opening_time(office: BusinessCalendar) -> None:
    # Thursday 08:00 + 2 working days = Monday 08:00, so Monday 08:00 - 2 working days = Thursday 08:00.
    due = office.add(at(2026, 3, 12, 8, 0), dur("2 working days"))
    assert_same_moment(due, at(2026, 3, 16, 8, 0))
    assert_same_moment(office.subtract(due, dur("2 working days")), at(2026, 3, 12, 8, 0))


# -- months and weeks -----------------------------------------------------------------------------


def test_31_january_plus_one_month_is_28_february(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 1, 31, 10, 0), dur("1 month")), at(2026, 2, 28, 10, 0))


def test_31_january_plus_one_month_is_29_february_in_a_leap_year(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2028, 1, 31, 10, 0), dur("1 month")), at(2028, 2, 29, 10, 0))


def test_31_march_plus_one_month_is_30_april(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 31, 10, 0), dur("1 month")), at(2026, 4, 30, 10, 0))


def test_months_roll_over_into_the_next_year(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 12, 15, 10, 0), dur("1 month")), at(2027, 1, 15, 10, 0))
    assert_same_moment(office.add(at(2026, 11, 30, 10, 0), dur("3 months")), at(2027, 2, 28, 10, 0))


def test_a_month_landing_on_a_saturday_is_extended_to_mondays_closing(office: BusinessCalendar) -> None:
    due = office.add(at(2026, 1, 31, 10, 0), dur("1 month"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 3, 2, 16, 30))


def test_a_month_across_the_start_of_summer_time_keeps_the_wall_clock(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 16, 10, 0), dur("1 month")), at(2026, 4, 16, 10, 0))


def test_two_weeks_are_fourteen_calendar_days(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 3, 9, 10, 0), dur("2 weeks")), at(2026, 3, 23, 10, 0))


# -- municipal closing days -----------------------------------------------------------------------


def test_working_days_skip_a_dated_municipal_closing_day(office: BusinessCalendar) -> None:
    # Thursday 18 June + 1 working day: midsommarafton (Friday) is closed, so Monday 22 June.
    assert_same_moment(office.add(at(2026, 6, 18, 10, 0), dur("1 working day")), at(2026, 6, 22, 10, 0))


def test_a_due_time_on_a_municipal_closing_day_moves_to_the_next_opening(office: BusinessCalendar) -> None:
    # Wednesday 17 June 10:00 + 48 h = midsommarafton 10:00: closed until Monday 22 June.
    due = office.add(at(2026, 6, 17, 10, 0), dur("48 hours"), extend_when_closed=True)
    assert_same_moment(due, at(2026, 6, 22, 16, 30))


def test_working_days_skip_a_yearly_municipal_closing_day(office: BusinessCalendar) -> None:
    # Julafton 2027 is a Friday: Thursday 23 December + 1 working day = Monday 27 December.
    assert_same_moment(office.add(at(2027, 12, 23, 10, 0), dur("1 working day")), at(2027, 12, 27, 10, 0))


def test_working_hours_skip_a_municipal_closing_day(office: BusinessCalendar) -> None:
    assert_same_moment(office.add(at(2026, 6, 18, 16, 0), dur("1 working hour")), at(2026, 6, 22, 8, 30))


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda cal, moment: cal.add(moment, Duration(1, Unit.HOURS)),
        lambda cal, moment: cal.add(moment, Duration(1, Unit.WORKING_DAYS)),
        lambda cal, moment: cal.subtract(moment, Duration(1, Unit.HOURS)),
        lambda cal, moment: cal.is_open(moment),
        lambda cal, moment: cal.next_opening(moment),
    ],
    ids=["add hours", "add working days", "subtract", "is_open", "next_opening"],
)
def test_naive_datetimes_are_refused(
    office: BusinessCalendar, call: Callable[[BusinessCalendar, datetime], object]
) -> None:
    with pytest.raises(CalendarError, match="naive datetimes are ambiguous"):
        call(office, datetime(2026, 3, 13, 15, 0))


@pytest.mark.parametrize("amount", [0, -1, -48])
@pytest.mark.parametrize("unit", list(Unit))
def test_zero_and_negative_durations_are_refused_when_adding(office: BusinessCalendar, amount: int, unit: Unit) -> None:
    with pytest.raises(CalendarError, match="durations must be positive"):
        office.add(at(2026, 3, 10, 10, 0), Duration(amount, unit))


@pytest.mark.parametrize("amount", [0, -1])
@pytest.mark.parametrize("unit", list(Unit))
def test_zero_and_negative_durations_are_refused_when_subtracting(
    office: BusinessCalendar, amount: int, unit: Unit
) -> None:
    with pytest.raises(CalendarError, match="durations must be positive"):
        office.subtract(at(2026, 3, 10, 10, 0), Duration(amount, unit))


def test_a_calendar_with_no_opening_hours_is_refused() -> None:
    with pytest.raises(CalendarError, match="calendar 'never' has no opening hours"):
        BusinessCalendar(name="never", timezone="Europe/Stockholm", holiday_country="SE")


def test_a_calendar_that_never_opens_refuses_to_count_instead_of_searching_forever() -> None:
    every_day = frozenset((d.month, d.day) for d in (date(2024, 1, 1) + timedelta(n) for n in range(366)))
    shut = BusinessCalendar(
        name="shut",
        timezone="Europe/Stockholm",
        yearly_closing_days=every_day,
        opening_hours={0: Window(time(8, 0), time(16, 0))},
    )
    with pytest.raises(CalendarError, match="closed for 800 days"):
        shut.add(at(2026, 3, 10, 10, 0), dur("1 working day"))


def test_an_opening_window_is_read_and_printed_as_hh_mm_hh_mm() -> None:
    window = Window.parse("08:00-16:30")
    assert window == Window(time(8, 0), time(16, 30))
    assert str(window) == "08:00-16:30"


@pytest.mark.parametrize("text", ["16:30-08:00", "08:00-08:00"])
def test_an_opening_window_that_closes_before_it_opens_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="closes before it opens"):
        Window.parse(text)


@pytest.mark.parametrize("text", ["all day", "8-16", "08:00"])
def test_an_opening_window_that_is_not_hh_mm_hh_mm_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an opening window like '08:00-16:00'"):
        Window.parse(text)
