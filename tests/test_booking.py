"""Booking a meeting: a time inside opening hours, and an invitation with an .ics calendar file."""

from __future__ import annotations

import pytest

import forms
from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import InputError
from activation.ports import TodoFilter
from tests.conftest import at


def _meeting(store: SqlStore, rules: RuleBook) -> str:
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-20 15:00")).case_id
    services.advance_cases(store, rules, at("2026-11-20 15:00"))
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    return todo.id


def test_a_booked_meeting_sends_an_invitation_with_a_calendar_file(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    booked = services.book_meeting(
        store, rules, todo_id, at("2026-11-23 10:00"), at("2026-11-20 15:30"), 45, "Ronnebygatan 1"
    )
    assert not booked.after_deadline
    with store.transaction() as tx:
        [letter] = [x for x in tx.pending_letters(10) if x.form == "meeting_booked"]
    body, ics = forms.render_with_attachment(letter.form, letter.language, letter.context)
    assert "Du har ett samtal 2026-11-23 kl. 10:00 (45 minuter)" in body
    assert ics is not None
    assert "DTSTART:20261123T090000Z\r\n" in ics and "DTEND:20261123T094500Z\r\n" in ics  # 10:00 CET in UTC
    assert "LOCATION:Ronnebygatan 1" in ics and ics.startswith("BEGIN:VCALENDAR\r\n")


def test_a_meeting_after_the_deadline_is_booked_with_a_warning(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    late = services.book_meeting(store, rules, todo_id, at("2026-11-24 10:00"), at("2026-11-20 15:30"))
    assert late.after_deadline


@pytest.mark.parametrize(
    ("starts", "now", "message"),
    [
        ("2026-11-22 10:00", "2026-11-20 15:30", "the office is closed then"),  # a Sunday
        ("2026-11-23 16:00", "2026-11-20 15:30", "the office is closed then"),  # ends after closing
        ("2026-11-20 14:00", "2026-11-20 15:30", "a time still to come"),
    ],
)
def test_a_meeting_the_office_cannot_hold_is_refused(
    store: SqlStore, rules: RuleBook, starts: str, now: str, message: str
) -> None:
    todo_id = _meeting(store, rules)
    with pytest.raises(InputError, match=message):
        services.book_meeting(store, rules, todo_id, at(starts), at(now))


def test_only_meetings_can_be_booked(store: SqlStore, rules: RuleBook) -> None:
    todo_id = _meeting(store, rules)
    services.complete_todo(store, todo_id, "held", at("2026-11-23 10:00"))
    services.advance_cases(store, rules, at("2026-11-23 10:00"))
    with store.transaction() as tx:
        [assessment] = tx.list_todos(TodoFilter())
    with pytest.raises(InputError, match="is not an open meeting"):
        services.book_meeting(store, rules, assessment.id, at("2026-11-24 10:00"), at("2026-11-23 11:00"))
