"""Job conversations and offers recorded outside the stages count for the obligations like a stage's events."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from activation import case_events, pauses, services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import ConflictError, InputError
from activation.model import Actor
from activation.ports import Store, TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import filled
from tests.test_cli import run
from tests.test_cli_errors import assert_one_line_mistake


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def _allerod_case(store: Store, rules: RuleBook, ref: str = "dk-1") -> str:
    case_id = services.record_application(store, rules, "allerod", ref, dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    return case_id


def _periods(store: FakeStore, case_id: str, rule_key: str) -> list[tuple[str, datetime]]:
    return [
        (d["status"], d["due_at"])
        for d in store.state.deadlines.values()
        if d["case_id"] == case_id and d["rule_key"] == rule_key
    ]


def _walk(store: FakeStore, rules: RuleBook, case_id: str, moves: list[tuple[datetime, str]]) -> None:
    for moment, outcome in moves:
        with store.transaction() as tx:
            [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]
        services.complete_todo(store, todo.id, outcome, moment, data=filled(outcome))
        services.advance_cases(store, rules, moment)


def test_an_offer_recorded_late_but_given_in_time_closes_the_overdue_period_as_met(rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    # LAB § 92 stk. 2: the first offer by Monday 3 May 2027; it is recorded on 10 May, overdue.
    assert _periods(store, case_id, "activity_ready.offer") == [("open", dk("2027-05-03 15:30"))]
    recorded = case_events.record_event(
        store, rules, case_id, "offer", dk("2027-04-28 10:00"), dk("2027-05-10 09:00"), "cw-01", "Mentor course"
    )
    # The period closes by when the offer was given, not when it was typed in; the next is 12 months on.
    assert recorded.closed == [(f"{case_id}.activity_ready.offer.0", "met")]
    assert _periods(store, case_id, "activity_ready.offer") == [
        ("met", dk("2027-05-03 15:30")),
        ("open", dk("2028-04-28 10:00")),
    ]
    # The job-conversation obligation counts meetings, not offers: untouched.
    assert _periods(store, case_id, "activity_ready.conversations") == [("open", dk("2027-11-02 10:00"))]


def test_an_offer_given_after_the_due_time_closes_the_period_as_missed(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    recorded = case_events.record_event(
        store, rules, case_id, "offer", dk("2027-05-05 10:00"), dk("2027-05-05 11:00"), "cw-01"
    )
    assert [status for _id, status in recorded.closed] == ["missed"]


def test_job_conversations_outside_the_stages_count_towards_four_in_twelve_months(rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    _walk(store, rules, case_id, [(dk("2026-11-05 10:00"), "held")])  # conversation 1, a stage's
    for n, day in enumerate(["2027-01-05", "2027-03-05"], start=2):  # 2 and 3: the period still ends when it did
        case_events.record_event(
            store, rules, case_id, "job_conversation", dk(f"{day} 10:00"), dk(f"{day} 12:00"), "cw"
        )
        assert _periods(store, case_id, "activity_ready.conversations") == [("open", dk("2027-11-02 10:00"))], n
    fourth = case_events.record_event(
        store, rules, case_id, "meeting", dk("2027-06-01 10:00"), dk("2027-06-01 11:00"), "cw"
    )
    # Four held: the next is due before the oldest of them (5 Nov 2026) is 12 months old, as after a stage's.
    assert _periods(store, case_id, "activity_ready.conversations") == [
        ("met", dk("2027-11-02 10:00")),
        ("open", dk("2027-11-05 10:00")),
    ]
    assert fourth.opened == [
        (f"{case_id}.activity_ready.conversations.e3", "activity_ready.conversations", dk("2027-11-05 10:00"))
    ]
    # A stage's meeting afterwards counts the recorded ones too: the 5th moves the window on.
    _walk(store, rules, case_id, [(dk("2027-06-02 10:00"), "completed"), (dk("2027-06-03 10:00"), "signed")])
    _walk(store, rules, case_id, [(dk("2027-06-04 10:00"), "started"), (dk("2027-08-01 10:00"), "continue")])
    assert _periods(store, case_id, "activity_ready.conversations")[-1] == ("open", dk("2028-01-05 10:00"))


def test_the_same_submission_twice_is_recorded_once(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    args = (store, rules, case_id, "offer", dk("2027-01-04 10:00"), dk("2027-01-04 11:00"), "cw-01")
    first = case_events.record_event(*args)
    again = case_events.record_event(*args)
    assert not first.repeated and again.repeated and again.closed == [] and again.opened == []
    assert [e.kind for e in store.state.events if e.step_id is None] == ["offer"]
    assert _periods(store, case_id, "activity_ready.offer") == [
        ("met", dk("2027-05-03 15:30")),
        ("open", dk("2028-01-04 10:00")),
    ]


def test_an_event_recorded_through_a_channel_is_audited_once_with_it(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    args = (store, rules, case_id, "offer", dk("2027-01-04 10:00"), dk("2027-01-04 11:00"), "cw-01")
    by = Actor("cw-01", "system", "cli")
    case_events.record_event(*args, actor=by)
    case_events.record_event(*args, actor=by)  # the repeat records nothing, its audit line included
    assert [(e.action, e.case_id, e.via) for e, _ in store.state.audit] == [("record_event", case_id, "cli")]


def test_a_client_key_makes_a_retry_harmless_and_refuses_reuse_for_another_event(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    now = dk("2027-01-04 11:00")
    case_events.record_event(store, rules, case_id, "meeting", dk("2027-01-04 10:00"), now, "cw", key="form-81")
    retry = case_events.record_event(store, rules, case_id, "meeting", dk("2027-01-04 10:00"), now, "cw", key="form-81")
    assert retry.repeated and retry.event.id == f"{case_id}/form-81"
    with pytest.raises(ConflictError, match="used for another event"):
        case_events.record_event(store, rules, case_id, "offer", dk("2027-01-04 10:00"), now, "cw", key="form-81")


@pytest.mark.parametrize(
    ("kind", "when", "message"),
    [
        ("coffee", "2027-01-04 10:00", "unknown kind of event"),
        ("meeting", "2027-01-05 10:00", "once it has happened"),
        ("meeting", "2026-11-01 10:00", "an event before that does not count"),
    ],
)
def test_an_event_that_cannot_count_is_refused_with_its_field(
    rules: RuleBook, kind: str, when: str, message: str
) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    with pytest.raises(InputError, match=message) as refused:
        case_events.record_event(store, rules, case_id, kind, dk(when), dk("2027-01-04 11:00"), "cw")
    assert set(refused.value.fields) <= {"kind", "occurred_at"} and refused.value.fields
    assert not store.state.recorded_events


def test_no_event_is_recorded_once_the_obligations_have_ended(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    _walk(store, rules, case_id, [(dk("2026-11-05 10:00"), "withdrawn")])
    with pytest.raises(ConflictError, match="no meeting or offer obligations run"):
        case_events.record_event(store, rules, case_id, "offer", dk("2026-11-06 10:00"), dk("2026-11-06 11:00"), "cw")


def test_a_period_opened_while_the_case_is_paused_starts_with_its_clock_stopped(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    pauses.record_pause(store, rules, case_id, "sickness", dk("2027-01-10 09:00"), None, dk("2027-01-10 09:00"))
    recorded = case_events.record_event(
        store, rules, case_id, "offer", dk("2027-01-08 10:00"), dk("2027-01-11 10:00"), "cw"
    )
    [(period_id, _rule, _due)] = recorded.opened
    assert store.state.deadlines[period_id]["paused_since"] is not None


def test_an_event_is_stored_with_its_note_once_and_counted_by_the_sql_store(store: SqlStore, rules: RuleBook) -> None:
    case_id = _allerod_case(store, rules, "dk-sql")
    args = (store, rules, case_id, "offer", dk("2027-04-28 10:00"), dk("2027-05-10 09:00"), "cw-01", "Mentor course")
    first = case_events.record_event(*args)
    assert case_events.record_event(*args).repeated
    with store.transaction() as tx:
        state = tx.obligation_states([case_id])[case_id]
        stored = tx.recorded_event(first.event.id)
    assert [(e.kind, e.step_id) for e in state.events] == [("offer", None)]
    assert stored is not None and (stored.note, stored.recorded_by) == ("Mentor course", "cw-01")
    assert [(p.rule_key, p.due_at) for p in state.open_periods if p.rule_key.endswith("offer")] == [
        ("activity_ready.offer", dk("2028-04-28 10:00"))
    ]
    with store.reads() as reads:
        detail = reads.case_detail(case_id)
    assert detail is not None
    statuses = {d.id: d.status for d in detail.deadlines if d.rule_key == "activity_ready.offer"}
    assert statuses == {f"{case_id}.activity_ready.offer.0": "met", f"{case_id}.activity_ready.offer.e1": "open"}


def test_the_cli_records_a_job_conversation_once_and_says_each_mistake_in_one_line(tmp_path: Path) -> None:
    applied = run(tmp_path, "apply", "allerod", "DK-CLI", "--now", "2026-11-02T10:00", "--json")
    assert applied.returncode == 0, applied.stderr
    case_id = json.loads(applied.stdout)["case_id"]
    args = ("event", case_id, "--kind", "job_conversation", "--at", "2027-01-04T10:00", "--now", "2027-01-04T11:00")
    first = run(tmp_path, *args, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["event"]["kind"] == "meeting" and not json.loads(first.stdout)["repeated"]
    again = run(tmp_path, *args)
    assert again.returncode == 0 and "already recorded" in again.stdout and "nothing changed" in again.stdout
    made = run(
        tmp_path, "user", "add", "cw-dk", "--role", "caseworker", "--municipality", "allerod", "--team", "jobcenter",
        "--password", "long-enough-pw",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    offer = ("event", case_id, "--kind", "offer", "--at", "2027-01-04T10:30", "--now", "2027-01-04T11:00")
    by_someone = run(tmp_path, *offer, "--by", "cw-dk", "--json")
    assert by_someone.returncode == 0, by_someone.stderr
    assert json.loads(by_someone.stdout)["event"]["recorded_by"] == "cw-dk"
    for wrong, message in [
        (("event", case_id), "missing option '--kind'"),
        (("event", case_id, "--kind", "coffee"), "unknown kind of event 'coffee'"),
        (("event", case_id, "--kind", "offer", "--at", "soon"), "malformed time 'soon'"),
        (("event", "c-nobody", "--kind", "offer"), "unknown case 'c-nobody'"),
        (("event", case_id, "--kind", "offer", "--by", "nobody"), "unknown person 'nobody'"),
        (
            ("event", case_id, "--kind", "offer", "--at", "2030-01-01T10:00", "--now", "2027-01-04T11:00"),
            "once it has happened",
        ),
    ]:
        assert_one_line_mistake(run(tmp_path, *wrong), message)
