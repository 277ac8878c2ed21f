"""Calendars as the law and the offices have them: de facto holidays, lunch breaks, early closing, end of day.

Every expected moment was worked out by hand (Copenhagen and Stockholm wall-clock time).
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from activation import pauses, services
from activation.booking import free_slots
from activation.calendar import BusinessCalendar, DayHours
from activation.config import ConfigError, RuleBook, load
from activation.durations import Duration
from tests.fakes import FakeStore
from tests.rule_kinds_config import config_with

CPH = ZoneInfo("Europe/Copenhagen")
STO = ZoneInfo("Europe/Stockholm")


def cph(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CPH)


def sto(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STO)


def dur(text: str) -> Duration:
    return Duration.parse(text)


@pytest.fixture
def lunch() -> BusinessCalendar:
    """A Danish office open 08:00-12:00 and 13:00-15:30 Monday-Thursday, Friday 08:00-13:00."""
    day = DayHours.parse("08:00-12:00,13:00-15:30")
    return BusinessCalendar(
        name="test/lunch",
        timezone="Europe/Copenhagen",
        holiday_country="DK",
        opening_hours={0: day, 1: day, 2: day, 3: day, 4: DayHours.parse("08:00-13:00")},
    )


# -- Swedish de facto holidays from the holidays package --------------------------------------------


def test_midsommarafton_julafton_and_nyarsafton_close_the_swedish_office_every_year(rules: RuleBook) -> None:
    office = rules.municipality("karlskrona").calendar()
    # No date is listed by hand: 2028 and 2030 come from the package's "de_facto" category.
    for closed in (date(2026, 6, 19), date(2028, 6, 23), date(2030, 12, 24), date(2030, 12, 31)):
        assert not office.is_open_day(closed), closed
    assert office.is_open_day(date(2028, 6, 22))  # the Thursday before
    # Thursday 22 June 2028 10:00 + 1 working day: Friday is midsommarafton, so Monday 26 June 10:00.
    assert office.add(sto("2028-06-22 10:00"), dur("1 working day")) == sto("2028-06-26 10:00")


def test_a_holiday_category_the_package_does_not_offer_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    root = config_with(tmp_path, lambda data: None)
    path = root / "national" / "se.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("[public, de_facto]", "[public, unofficial]"))
    with pytest.raises(ConfigError) as caught:
        load(root)
    assert "se.yaml" in str(caught.value) and "calendars.office" in str(caught.value)
    assert "holiday_categories: unofficial not offered for SE" in str(caught.value)


# -- several opening periods a day -------------------------------------------------------------------


def test_the_office_is_closed_over_lunch(lunch: BusinessCalendar) -> None:
    assert lunch.is_open(cph("2026-12-07 12:00")) and lunch.is_open(cph("2026-12-07 13:00"))
    assert not lunch.is_open(cph("2026-12-07 12:30"))
    assert lunch.next_opening(cph("2026-12-07 12:30")) == cph("2026-12-07 13:00")
    assert lunch.last_open_moment(cph("2026-12-07 12:30")) == cph("2026-12-07 12:00")


def test_working_hours_skip_the_lunch_break_both_ways(lunch: BusinessCalendar) -> None:
    # Monday 7 Dec 2026 11:00 + 2 working hours: 11:00-12:00, then 13:00-14:00.
    assert lunch.add(cph("2026-12-07 11:00"), dur("2 working hours")) == cph("2026-12-07 14:00")
    # 1 working hour before 13:30: 13:00-13:30, then 11:30-12:00.
    assert lunch.subtract(cph("2026-12-07 13:30"), dur("1 working hour")) == cph("2026-12-07 11:30")
    assert lunch.open_time_between(cph("2026-12-07 11:00"), cph("2026-12-07 14:00")).total_seconds() == 2 * 3600


def test_a_due_time_in_the_lunch_break_moves_to_the_end_of_the_afternoon(lunch: BusinessCalendar) -> None:
    # Monday 12:30 + 2 days = Wednesday 9 Dec 12:30, in the break: the end of the next opening period.
    due = lunch.add(cph("2026-12-07 12:30"), dur("2 days"), extend_when_closed=True)
    assert due == cph("2026-12-09 15:30")


def test_a_working_day_ending_in_a_break_counts_to_the_last_open_moment_before_it(lunch: BusinessCalendar) -> None:
    # Friday 11 Dec 12:30 (open until 13:00) + 1 working day = Monday 14 Dec 12:30, the lunch break:
    # the last open moment before it, 12:00.
    assert lunch.add(cph("2026-12-11 12:30"), dur("1 working day")) == cph("2026-12-14 12:00")


def test_meeting_times_never_straddle_the_lunch_break(lunch: BusinessCalendar) -> None:
    slots = free_slots(lunch, 60, cph("2026-12-07 10:00"), None, count=4)
    assert slots == [cph("2026-12-07 10:30"), cph("2026-12-07 11:00"), cph("2026-12-07 13:00"), cph("2026-12-07 13:30")]


def test_opening_periods_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="must open after"):
        DayHours.parse("13:00-15:30,08:00-12:00")


# -- early closing --------------------------------------------------------------------------------------


def test_the_danish_office_closes_at_noon_on_grundlovsdag(rules: RuleBook) -> None:
    office = rules.municipality("allerod").calendar()
    # Friday 5 June 2026: open 08:00-12:00 instead of 08:00-13:00.
    assert office.is_open(cph("2026-06-05 11:59")) and not office.is_open(cph("2026-06-05 12:30"))
    # Wednesday 3 June 11:00 + 48 hours = Friday 11:00, before noon: due then.
    assert office.add(cph("2026-06-03 11:00"), dur("48 hours"), extend_when_closed=True) == cph("2026-06-05 11:00")
    # Friday 11:00 + 2 working hours: 11:00-12:00, then Monday 8 June 08:00-09:00.
    assert office.add(cph("2026-06-05 11:00"), dur("2 working hours")) == cph("2026-06-08 09:00")


def test_an_early_closing_before_the_day_opens_closes_the_whole_day() -> None:
    office = BusinessCalendar(
        name="t", timezone="Europe/Copenhagen", opening_hours={4: DayHours.parse("08:00-13:00")},
        early_closing={date(2026, 6, 5): time(7, 0)},
    )  # fmt: skip
    assert not office.is_open_day(date(2026, 6, 5)) and office.is_open_day(date(2026, 6, 12))


# -- end of day ---------------------------------------------------------------------------------------------


def test_end_of_day_counts_to_the_end_of_the_last_day(lunch: BusinessCalendar) -> None:
    # Wednesday 2 Dec 2026 10:00 + 5 days = Monday 7 Dec, to its end.
    assert lunch.add(cph("2026-12-02 10:00"), dur("5 days"), end_of_day=True) == cph("2026-12-07 23:59:59")
    # + 3 days = Saturday 5 Dec: without the extension its end; with it, the end of Monday 7 Dec.
    assert lunch.add(cph("2026-12-02 10:00"), dur("3 days"), end_of_day=True) == cph("2026-12-05 23:59:59")
    extended = lunch.add(cph("2026-12-02 10:00"), dur("3 days"), end_of_day=True, extend_when_closed=True)
    assert extended == cph("2026-12-07 23:59:59")
    # Working units ignore it: they end inside opening hours.
    assert lunch.add(cph("2026-12-02 10:00"), dur("1 working day"), end_of_day=True) == cph("2026-12-03 10:00")


def _end_of_day_first_meeting(data: dict[str, Any]) -> None:
    data["deadlines"]["first_meeting"]["end_of_day"] = True


def test_a_deadline_rule_with_end_of_day_is_due_at_the_end_of_its_day(tmp_path: Path) -> None:
    rules = load(config_with(tmp_path, _end_of_day_first_meeting))
    store = FakeStore()
    case_id = services.record_application(store, rules, "allerod", "dk-1", cph("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, cph("2026-11-02 10:00"))
    [due] = [
        d["due_at"]
        for d in store.state.deadlines.values()
        if d["case_id"] == case_id and d["rule_key"] == "first_meeting"
    ]
    # Monday 2 Nov 2026 10:00 + 4 weeks = Monday 30 Nov, to the end of the day.
    assert due == cph("2026-11-30 23:59:59")


def test_end_of_day_on_a_rule_in_working_units_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    def broken(data: dict[str, Any]) -> None:
        data["deadlines"]["first_meeting"].update({"due": "5 working days", "end_of_day": True})
        data["deadlines"]["first_meeting"]["remind_before"] = ["1 working day"]

    with pytest.raises(ConfigError) as caught:
        load(config_with(tmp_path, broken))
    text = str(caught.value)
    assert "allerod.yaml" in text and "deadlines.first_meeting" in text
    assert "end_of_day: only for days, weeks and months, not working days" in text


def test_a_pause_on_an_end_of_day_deadline_keeps_the_end_of_the_day_the_time_runs_out_on(tmp_path: Path) -> None:
    rules = load(config_with(tmp_path, _end_of_day_first_meeting))
    store = FakeStore()
    case_id = services.record_application(store, rules, "allerod", "dk-1", cph("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, cph("2026-11-02 10:00"))
    # Due Monday 30 Nov 23:59:59; ill from Monday 9 Nov 10:00 to Monday 16 Nov 10:00 (7 days):
    # the 21 days 13:59:59 that were left run out Monday 7 Dec 23:59:59, the end of that day.
    result = pauses.record_pause(
        store, rules, case_id, "sickness", cph("2026-11-09 10:00"), cph("2026-11-16 10:00"), now=cph("2026-11-09 10:30")
    )
    [moved] = [r for r in result.revisions if r.deadline_id == f"{case_id}.0"]  # the first meeting's
    assert (moved.due_before, moved.due_after) == (cph("2026-11-30 23:59:59"), cph("2026-12-07 23:59:59"))
