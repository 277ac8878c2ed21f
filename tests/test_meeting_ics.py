"""A booked meeting is one calendar event: booked, rebooked and cancelled with the same UID and a rising SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

import forms
from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import ConflictError
from activation.model import LetterRequest
from activation.ports import TodoFilter
from tests.conftest import at


def _meeting(store: SqlStore, rules: RuleBook) -> str:
    case_id = services.record_application(store, rules, "karlskrona", "ext-ics", at("2026-11-20 15:00")).case_id
    services.advance_cases(store, rules, at("2026-11-20 15:00"))
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    return todo.id


def _letters(store: SqlStore, todo_id: str) -> list[LetterRequest]:
    with store.transaction() as tx:
        return tx.meeting_letters(todo_id)


def _event(letter: LetterRequest) -> tuple[icalendar.Calendar, icalendar.Event, str]:
    body, ics = forms.render_with_attachment(letter.form, letter.language, letter.context)
    assert ics is not None
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.events
    return calendar, event, body


def test_booking_rebooking_and_cancelling_update_one_calendar_event(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    first = services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"), 45, "Rum 2")
    moved = services.book_meeting(store, rules, todo_id, at("2026-11-24 13:00"), at("2026-11-21 09:00"), 60, "Rum 2")
    cancelled = services.cancel_meeting(store, todo_id, at("2026-11-22 12:00"))
    assert (first.sequence, moved.sequence, cancelled.sequence) == (0, 1, 2)

    invited, update, cancel = [_event(x) for x in _letters(store, todo_id)]
    assert {str(e["UID"]) for _c, e, _b in (invited, update, cancel)} == {f"{todo_id}@activation"}
    assert [int(str(e["SEQUENCE"])) for _c, e, _b in (invited, update, cancel)] == [0, 1, 2]
    assert [str(c["METHOD"]) for c, _e, _b in (invited, update, cancel)] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [str(e["STATUS"]) for _c, e, _b in (invited, update, cancel)] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    # 10:00 and 13:00 Stockholm winter time are 09:00 and 12:00 UTC.
    assert invited[1].decoded("DTSTART") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert invited[1].decoded("DTEND") == datetime(2026, 11, 23, 9, 45, tzinfo=UTC)
    assert update[1].decoded("DTSTART") == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert cancel[1].decoded("DTSTART") == update[1].decoded("DTSTART")  # the time that is called off
    assert update[1].decoded("DTSTAMP") == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # when the update was made
    assert str(invited[1]["LOCATION"]) == "Rum 2"
    assert "(ny tid)" in update[2] and "är inställt" in cancel[2]


def test_a_place_with_commas_and_semicolons_survives_the_round_trip(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    place = "Ronnebygatan 1, plan 2; rum \\3"
    services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"), 45, place)
    [letter] = _letters(store, todo_id)
    assert str(_event(letter)[1]["LOCATION"]) == place


def test_the_same_booking_sent_twice_sends_one_invitation(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    once = services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"), 45, "Rum 2")
    twice = services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:31"), 45, "Rum 2")
    assert twice.letter_id == once.letter_id and len(_letters(store, todo_id)) == 1


def test_booking_again_after_a_cancellation_carries_on_the_sequence(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"))
    services.cancel_meeting(store, todo_id, at("2026-11-20 16:00"))
    again = services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 16:10"))
    assert again.sequence == 2
    calendar, event, _body = _event(_letters(store, todo_id)[-1])
    assert str(calendar["METHOD"]) == "REQUEST" and int(str(event["SEQUENCE"])) == 2


def test_only_a_booked_meeting_still_to_come_can_be_cancelled(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    with pytest.raises(ConflictError, match="no booked meeting"):
        services.cancel_meeting(store, todo_id, at("2026-11-20 16:00"))
    services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"))
    services.cancel_meeting(store, todo_id, at("2026-11-20 16:00"))
    with pytest.raises(ConflictError, match="no booked meeting"):
        services.cancel_meeting(store, todo_id, at("2026-11-20 16:05"))
    services.book_meeting(store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 16:10"))
    with pytest.raises(ConflictError, match="has begun"):
        services.cancel_meeting(store, todo_id, at("2026-11-23 10:05"))


def test_an_invitation_queued_before_the_sequence_existed_still_renders(rules: RuleBook) -> None:
    context = {
        "case_id": "c-oldcase",
        "municipality": "Karlskrona",
        "team": "Team",
        "timezone": "Europe/Stockholm",
        "starts_at": "2026-11-23T10:00:00+01:00",
        "minutes": 45,
        "place": "Rum 2",
        "uid": "c-oldcase.0:booked:202611231000",
    }
    calendar, event, _body = _event(LetterRequest("l", "c-oldcase", "c-oldcase.0", "meeting_booked", "sv", context))
    assert int(str(event["SEQUENCE"])) == 0 and str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTAMP") == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
