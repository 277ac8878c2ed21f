"""The booking form proposes the earliest free slot in the caseworkers' meeting hours before the deadline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from activation import meeting_hours, services
from tests.conftest import at
from tests.web_support import Web, make_web

NOW = at("2026-11-23 09:00")  # a Monday; a first meeting applied for now is due Wednesday 09:00


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _meeting(web: Web) -> str:
    recorded = services.record_application(
        web.rt.store, web.rt.rules, "karlskrona", "web-slot", NOW, caseworker="cw-01"
    )
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return f"{recorded.case_id}.0"


def test_the_booking_form_proposes_the_teammates_slot_when_the_caseworker_is_away(web: Web) -> None:
    week = {"mon": "13:00-16:00", "tue": "13:00-16:00"}
    meeting_hours.set_meeting_hours(web.rt.store, None, "cw-01", week, 60, None, NOW, by="ops")
    meeting_hours.set_meeting_hours(web.rt.store, None, "cw-02", {"tue": "10:00-11:00"}, 30, None, NOW, by="ops")
    meeting_hours.add_absence(web.rt.store, None, "cw-01", "sickness", NOW.date(), NOW.date(), NOW, by="ops")
    todo_id = _meeting(web)
    page = web.client("caseworker").get(f"/todos/{todo_id}/book")
    assert page.status_code == 200
    # cw-01 is sick on Monday; cw-02's Tuesday 10:00 comes before cw-01's Tuesday 13:00, but the
    # responsible caseworker keeps the meeting when they have a slot before the deadline.
    assert "Proposed time" in page.text and "with Caseworker One" in page.text
    assert 'value="2026-11-24T13:00:00+01:00" checked' in page.text


def test_no_proposal_is_shown_when_no_meeting_hours_are_set(web: Web) -> None:
    page = web.client("caseworker").get(f"/todos/{_meeting(web)}/book")
    assert page.status_code == 200 and "Proposed time" not in page.text


def test_the_booked_time_is_cancelled_from_the_booking_form_and_the_case_page_says_so(web: Web) -> None:
    todo_id = _meeting(web)
    services.book_meeting(web.rt.store, web.rt.rules, todo_id, at("2026-11-24 10:00"), NOW)
    client = web.client("caseworker")
    form = client.get(f"/todos/{todo_id}/book")
    assert "Cancel the booked time" in form.text
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    done = client.post(f"/todos/{todo_id}/book/cancel", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"?cancelled={todo_id}")
    case_page = client.get(done.headers["location"])
    assert "Cancelled. The cancellation" in case_page.text and "No time booked yet." in case_page.text
    again = client.post(f"/todos/{todo_id}/book/cancel", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 409 and "no booked meeting to cancel" in again.text
