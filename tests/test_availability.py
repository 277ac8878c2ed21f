"""The earliest free meeting slot inside a deadline: the caseworker's hours, absences and cap, the office's calendar."""

from __future__ import annotations

from datetime import date

import pytest

from activation.availability import (
    Absence,
    Availability,
    checked,
    checked_absence,
    day_slots,
    earliest_free_slot,
    format_hours,
    parse_hours,
)
from activation.calendar import BusinessCalendar
from activation.config import RuleBook
from activation.errors import InputError
from tests.conftest import at

# Karlskrona's office: Monday-Thursday 08:00-16:30, Friday 08:00-15:00, closed on Swedish holidays.
FRIDAY_AFTERNOON = at("2026-11-20 15:00")  # an application; 48 hours end Sunday, so Monday 16:30
MONDAY_CLOSE = at("2026-11-23 16:30")


@pytest.fixture
def office(rules: RuleBook) -> BusinessCalendar:
    return rules.municipality("karlskrona").calendar()


def _person(username: str, cap: int | None = 4, *absences: Absence, **hours: str) -> Availability:
    week = hours or {d: "09:00-12:00,13:00-16:00" for d in ("mon", "tue", "wed", "thu")}
    return Availability(username, parse_hours(week), 60, cap, absences)


def test_the_first_slot_is_the_first_meeting_hour_of_the_next_open_day(office: BusinessCalendar) -> None:
    slot = earliest_free_slot([_person("cw-a")], office, FRIDAY_AFTERNOON, MONDAY_CLOSE, {})
    assert slot is not None and (slot.username, slot.starts_at, slot.ends_at) == (
        "cw-a",
        at("2026-11-23 09:00"),
        at("2026-11-23 10:00"),
    )


def test_booked_meetings_are_skipped_and_the_lunch_break_is_not_a_slot(office: BusinessCalendar) -> None:
    booked = {
        "cw-a": [(at("2026-11-23 09:00"), at("2026-11-23 10:00")), (at("2026-11-23 10:30"), at("2026-11-23 12:00"))]
    }
    slot = earliest_free_slot([_person("cw-a")], office, FRIDAY_AFTERNOON, MONDAY_CLOSE, booked)
    assert slot is not None and slot.starts_at == at("2026-11-23 13:00")  # 10:00-11:00 and 11:00-12:00 overlap


def test_a_full_day_goes_to_the_team_inside_the_deadline(office: BusinessCalendar) -> None:
    booked = {
        "cw-a": [(at("2026-11-23 14:00"), at("2026-11-23 15:00")), (at("2026-11-23 15:00"), at("2026-11-23 16:00"))]
    }
    people = [_person("cw-a", 2), _person("cw-b", 4)]
    slot = earliest_free_slot(people, office, FRIDAY_AFTERNOON, MONDAY_CLOSE, booked)
    assert slot is not None and (slot.username, slot.starts_at) == ("cw-b", at("2026-11-23 09:00"))


def test_the_responsible_caseworker_keeps_the_case_when_they_have_a_slot_later_inside_the_deadline(
    office: BusinessCalendar,
) -> None:
    booked = {"cw-a": [(at("2026-11-23 09:00"), at("2026-11-23 12:00"))]}
    slot = earliest_free_slot([_person("cw-a"), _person("cw-b")], office, FRIDAY_AFTERNOON, MONDAY_CLOSE, booked)
    assert slot is not None and (slot.username, slot.starts_at) == ("cw-a", at("2026-11-23 13:00"))


def test_an_absence_gives_the_meeting_to_the_team_and_none_is_found_when_all_are_away(
    office: BusinessCalendar,
) -> None:
    sick = checked_absence("sickness", date(2026, 11, 23), date(2026, 11, 24))
    people = [_person("cw-a", 4, sick), _person("cw-b", 4, Absence("course", date(2026, 11, 23), date(2026, 11, 23)))]
    assert earliest_free_slot(people, office, FRIDAY_AFTERNOON, MONDAY_CLOSE, {}) is None
    later = earliest_free_slot(people, office, FRIDAY_AFTERNOON, at("2026-11-24 16:30"), {})
    assert later is not None and (later.username, later.starts_at) == ("cw-b", at("2026-11-24 09:00"))


def test_a_slot_starting_after_the_deadline_is_not_offered(office: BusinessCalendar) -> None:
    slot = earliest_free_slot([_person("cw-a")], office, FRIDAY_AFTERNOON, at("2026-11-23 08:59"), {})
    assert slot is None


def test_meeting_hours_are_cut_to_the_offices_opening_and_holidays(office: BusinessCalendar) -> None:
    early = _person("cw-a", None, mon="07:00-09:30", fri="13:00-16:00", thu="09:00-12:00")
    assert day_slots(early, office, date(2026, 11, 23)) == [(at("2026-11-23 08:00"), at("2026-11-23 09:00"))]
    assert day_slots(early, office, date(2026, 11, 27)) == [
        (at("2026-11-27 13:00"), at("2026-11-27 14:00")),
        (at("2026-11-27 14:00"), at("2026-11-27 15:00")),
    ]
    assert day_slots(early, office, date(2026, 12, 24)) == []  # julafton: the office is closed


def test_a_slot_must_start_after_now(office: BusinessCalendar) -> None:
    slot = earliest_free_slot([_person("cw-a")], office, at("2026-11-23 09:10"), MONDAY_CLOSE, {})
    assert slot is not None and slot.starts_at == at("2026-11-23 10:00")


def test_hours_round_trip_and_bad_values_name_their_field() -> None:
    hours = parse_hours({"tue": "09:00-12:00", "mon": "08:00-10:00,13:00-15:00"})
    assert format_hours(hours) == {"mon": "08:00-10:00,13:00-15:00", "tue": "09:00-12:00"}
    with pytest.raises(InputError) as day:
        parse_hours({"funday": "09:00-12:00"})
    assert day.value.field == "hours"
    with pytest.raises(InputError):
        parse_hours({"mon": "12:00-09:00"})
    with pytest.raises(InputError) as slot:
        checked("cw-a", hours, 5, None)
    assert slot.value.field == "slot_minutes"
    with pytest.raises(InputError) as cap:
        checked("cw-a", hours, 60, 0)
    assert cap.value.field == "max_per_day"
    with pytest.raises(InputError) as kind:
        checked_absence("party", date(2026, 11, 23), date(2026, 11, 23))
    assert kind.value.field == "kind"
    with pytest.raises(InputError) as backwards:
        checked_absence("holiday", date(2026, 11, 23), date(2026, 11, 22))
    assert backwards.value.field == "last"
