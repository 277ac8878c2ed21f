"""Pauses on a legal ground stop a citizen's clocks; deadlines resume with the time left or restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from activation import pauses, services
from activation.config import RuleBook
from activation.errors import InputError
from activation.model import DeadlineRevision
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import filled

TUESDAY_10 = at("2026-11-17 10:00")  # Karlskrona: 48 hours -> Thursday 19 Nov 10:00


def _karlskrona_case(store: FakeStore, rules: RuleBook, ref: str = "ext-1") -> tuple[str, str]:
    case_id = services.record_application(store, rules, "karlskrona", ref, TUESDAY_10).case_id
    services.advance_cases(store, rules, TUESDAY_10)
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    return case_id, todo.id


def _of(revisions: Sequence[DeadlineRevision], deadline_id: str) -> DeadlineRevision:
    """Return the revision of one deadline (a pause also moves the case's meeting and offer obligations)."""
    [found] = [r for r in revisions if r.deadline_id == deadline_id]
    return found


def _fired_between(
    store: FakeStore, start: datetime, end: datetime, step_minutes: int = 30
) -> list[tuple[str, datetime]]:
    from datetime import timedelta

    fired: list[tuple[str, datetime]] = []
    now = start
    while now <= end:
        fired += [(a.id, now) for a in services.sweep(store, now).fired]
        now += timedelta(minutes=step_minutes)
    return fired


def test_a_sickness_pause_with_a_known_end_moves_the_deadline_by_the_time_that_was_left(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, todo_id = _karlskrona_case(store, rules)
    result = pauses.record_pause(
        store, rules, case_id, "sickness", at("2026-11-18 10:00"), at("2026-11-23 10:00"), now=at("2026-11-18 10:30")
    )
    # 24 of the 48 hours were left when the citizen fell ill; they count again from Monday 10:00.
    revision = _of(result.revisions, todo_id)
    assert (revision.due_before, revision.due_after) == (at("2026-11-19 10:00"), at("2026-11-24 10:00"))
    assert "sickness" in revision.reason and "resumed with the 24.0 hours that were left" in revision.reason
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        assert todo is not None
        assert todo.due_at == at("2026-11-24 10:00")
    # Nothing of the old ladder fires; the new one counts from the new due time.
    fired = _fired_between(store, at("2026-11-18 10:30"), at("2026-11-24 12:00"))
    assert [(alarm_id.split(":")[1], moment) for alarm_id, moment in fired] == [
        ("r1", at("2026-11-23 10:00")),  # 24 hours before, but not before the pause ended
        ("r2", at("2026-11-24 08:00")),  # 2 working hours before
        ("e1", at("2026-11-24 11:00")),  # 1 working hour after: the team lead
    ]
    assert all("@2:" in alarm_id for alarm_id, _ in fired)


def test_an_open_ended_pause_stops_the_clock_until_it_ends_then_the_time_left_counts(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, todo_id = _karlskrona_case(store, rules)
    stopped = pauses.record_pause(
        store, rules, case_id, "treatment_stay", at("2026-11-18 16:00"), None, at("2026-11-18 16:00")
    )
    assert _of(stopped.revisions, todo_id).due_after is None
    assert {r.due_after for r in stopped.revisions} == {None}  # the obligations' clocks stop too
    # While the clock is stopped nothing fires, and the to-do is not overdue.
    assert _fired_between(store, at("2026-11-18 16:00"), at("2026-12-01 12:00"), step_minutes=240) == []
    with store.transaction() as tx:
        assert tx.list_todos(TodoFilter(overdue_at=at("2026-12-01 12:00"))) == []
    ended = pauses.end_pause(store, rules, stopped.pause.id, at("2026-12-01 09:00"), at("2026-12-01 09:05"))
    # 18 hours were left (Wednesday 16:00 -> Thursday 10:00); from Tuesday 1 Dec 09:00 that is Wednesday 03:00,
    # while the office is closed, so the deadline is the end of Wednesday's opening.
    revision = _of(ended.revisions, todo_id)
    assert revision.due_after == at("2026-12-02 16:30")
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        assert todo is not None
        assert todo.due_at == at("2026-12-02 16:30")
    escalations = [a for a, _ in _fired_between(store, at("2026-12-01 09:05"), at("2026-12-03 10:00")) if ":e" in a]
    assert escalations == [f"{todo_id}@3:e1"]  # revision 2 stopped the clock, revision 3 restarted it


def test_lab_91a_restarts_the_offer_clock_one_month_after_the_ground_ends(rules: RuleBook) -> None:
    store = FakeStore()
    received = at("2026-11-02 10:00", COPENHAGEN)
    case_id = services.record_application(store, rules, "allerod", "dk-1", received).case_id
    services.advance_cases(store, rules, received)
    # Walk the Danish case to the placement stage: meeting held, assessment done, plan signed.
    for moment, outcome in (
        ("2026-11-05 10:00", "held"),
        ("2026-11-12 10:00", "completed"),
        ("2026-11-16 10:00", "signed"),
    ):
        with store.transaction() as tx:
            [todo] = tx.list_todos(TodoFilter(case_id=case_id))
        services.complete_todo(store, todo.id, outcome, at(moment, COPENHAGEN), data=filled(outcome))
        services.advance_cases(store, rules, at(moment, COPENHAGEN))
    with store.transaction() as tx:
        [placement] = tx.list_todos(TodoFilter(case_id=case_id))
    assert (placement.kind, placement.due_at) == ("placement_start", at("2026-12-14 10:00", COPENHAGEN))
    sick = pauses.record_pause(
        store, rules, case_id, "sickness", at("2026-12-01 08:00", COPENHAGEN), None, at("2026-12-01 08:00", COPENHAGEN)
    )
    ended = pauses.end_pause(
        store, rules, sick.pause.id, at("2027-01-11 09:00", COPENHAGEN), at("2027-01-11 09:00", COPENHAGEN)
    )
    revision = _of(ended.revisions, placement.id)
    # Not the 13 days that were left: LAB § 91a gives an offer at the latest 1 month after the ground ends.
    assert revision.due_after == at("2027-02-11 09:00", COPENHAGEN)
    assert "LAB § 91a" in revision.reason


def test_a_deadline_already_missed_when_the_pause_starts_stays_missed(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, todo_id = _karlskrona_case(store, rules)
    late_pause = pauses.record_pause(
        store, rules, case_id, "sickness", at("2026-11-20 09:00"), None, at("2026-11-20 09:00")
    )
    assert todo_id not in {r.deadline_id for r in late_pause.revisions}
    with store.transaction() as tx:
        assert [x.id for x in tx.list_todos(TodoFilter(overdue_at=at("2026-11-20 09:30")))] == [todo_id]


def test_a_todo_completed_while_its_clock_is_stopped_is_in_time_and_its_alarms_stop(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, todo_id = _karlskrona_case(store, rules)
    pauses.record_pause(store, rules, case_id, "sickness", at("2026-11-18 10:00"), None, at("2026-11-18 10:00"))
    services.complete_todo(store, todo_id, "held", at("2026-11-25 10:00"))
    assert store.state.deadlines[todo_id]["status"] == "met"
    assert {row["state"] for row in store.state.alarms.values() if row["alarm"].deadline_id == todo_id} == {"cancelled"}


def test_a_deadline_created_while_the_case_is_paused_starts_stopped(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, todo_id = _karlskrona_case(store, rules)
    pauses.record_pause(store, rules, case_id, "exemption", at("2026-11-18 10:00"), None, at("2026-11-18 10:00"))
    services.complete_todo(store, todo_id, "held", at("2026-11-18 11:00"))
    services.advance_cases(store, rules, at("2026-11-18 11:05"))
    with store.transaction() as tx:
        [assessment] = tx.list_todos(TodoFilter(case_id=case_id))
    assert assessment.kind == "assessment"
    assert store.state.deadlines[assessment.id]["paused_since"] == at("2026-11-18 11:00")


def test_working_day_rules_resume_with_the_opening_time_that_was_left(rules: RuleBook) -> None:
    store = FakeStore()
    received = at("2026-11-16 09:00")  # Linköping: 5 working days -> Monday 23 Nov 09:00
    case_id = services.record_application(store, rules, "linkoping", "se-1", received).case_id
    services.advance_cases(store, rules, received)
    # Paused Thursday 19 Nov 09:00 with 2 working days (Thu, Fri: 7.5 + 7 = 15.5 opening hours... counted
    # exactly below) left; resumed Monday 30 Nov 08:00.
    result = pauses.record_pause(
        store, rules, case_id, "sickness", at("2026-11-19 09:00"), at("2026-11-30 08:00"), at("2026-11-19 09:00")
    )
    revision = _of(result.revisions, _todo_of(store, case_id))
    # Left: Thu 09:00-16:30 (7.5 h) + Fri 08:00-15:00 (7 h) + Mon 08:00-09:00 (1 h) = 15.5 h of opening time;
    # from Mon 30 Nov 08:00: Mon 8.5 h (to 16:30), Tue 7 h more -> Tue 1 Dec 15:00.
    assert revision.due_after == at("2026-12-01 15:00")
    assert "15.5 hours of opening time" in revision.reason


def _todo_of(store: FakeStore, case_id: str) -> str:
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    return todo.id


@pytest.mark.parametrize(
    ("basis", "starts", "ends", "now", "message"),
    [
        (
            "holiday",
            "2026-11-18 10:00",
            None,
            "2026-11-18 10:00",
            "unknown pause basis 'holiday' in karlskrona; bases: sickness",
        ),
        ("sickness", "2026-11-19 10:00", None, "2026-11-18 10:00", "cannot start in the future"),
        ("sickness", "2026-11-18 10:00", "2026-11-18 09:00", "2026-11-18 10:00", "must end after it starts"),
    ],
)
def test_a_pause_that_makes_no_sense_is_refused(
    rules: RuleBook, basis: str, starts: str, ends: str | None, now: str, message: str
) -> None:
    store = FakeStore()
    case_id, _ = _karlskrona_case(store, rules)
    with pytest.raises(InputError, match=message):
        pauses.record_pause(store, rules, case_id, basis, at(starts), at(ends) if ends else None, at(now))


def test_overlapping_pauses_are_refused_naming_the_pause_in_the_way(rules: RuleBook) -> None:
    store = FakeStore()
    case_id, _ = _karlskrona_case(store, rules)
    first = pauses.record_pause(store, rules, case_id, "sickness", at("2026-11-18 10:00"), None, at("2026-11-18 10:00"))
    with pytest.raises(InputError, match=f"already paused .* pause {first.pause.id}"):
        pauses.record_pause(store, rules, case_id, "exemption", at("2026-11-19 10:00"), None, at("2026-11-19 10:00"))
    with pytest.raises(InputError, match="unknown case"):
        pauses.record_pause(store, rules, "c-nothere", "sickness", at("2026-11-18 10:00"), None, at("2026-11-18 10:00"))
    with pytest.raises(InputError, match="unknown pause"):
        pauses.end_pause(store, rules, "p-nothere", at("2026-11-20 10:00"), at("2026-11-20 10:00"))
