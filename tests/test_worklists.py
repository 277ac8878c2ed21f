"""The inbox's windows and pages, as the use cases count them (activation/worklists.py)."""

from __future__ import annotations

from activation import worklists
from tests.conftest import COPENHAGEN, at


def test_today_ends_at_local_midnight_and_the_week_on_sunday_night() -> None:
    friday_evening = at("2026-11-27 23:30")  # Stockholm; 22:30 UTC
    windows = worklists.due_windows(friday_evening, "Europe/Stockholm")
    assert windows.day_end == at("2026-11-28 00:00")
    assert windows.week_end == at("2026-11-30 00:00")  # the Monday after
    monday = worklists.due_windows(at("2026-11-30 00:00", COPENHAGEN), "Europe/Copenhagen")
    assert monday.week_end == at("2026-12-07 00:00", COPENHAGEN)  # a whole week ahead, not none


def test_a_page_number_past_the_end_shows_the_last_page() -> None:
    people = [f"cw-{n:02}" for n in range(30)]
    page = worklists.page_of(people, 9, 25)
    assert (page.number, page.pages, page.first, page.last, page.items) == (2, 2, 26, 30, people[25:])
    empty: worklists.Page[str] = worklists.page_of([], 3, 25)
    assert (empty.number, empty.pages, empty.first, empty.items) == (1, 1, 0, [])
