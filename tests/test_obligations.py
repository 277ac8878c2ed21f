"""Meeting and offer obligations per target group: periods as deadlines, met, missed, escalated, ended."""

from __future__ import annotations

from datetime import datetime

import pytest

from activation import services
from activation.config import RuleBook
from activation.errors import InputError
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import filled


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def _walk(store: FakeStore, rules: RuleBook, case_id: str, moves: list[tuple[datetime, str]]) -> None:
    """Complete the case's open to-do with each outcome in turn, moving the case on each time."""
    for moment, outcome in moves:
        with store.transaction() as tx:
            [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]  # not the wrap-up
        services.complete_todo(store, todo.id, outcome, moment, data=filled(outcome))
        services.advance_cases(store, rules, moment)


def _periods(store: FakeStore, case_id: str, rule_key: str) -> list[tuple[str, datetime]]:
    return [
        (d["status"], d["due_at"])
        for d in store.state.deadlines.values()
        if d["case_id"] == case_id and d["rule_key"] == rule_key
    ]


def _allerod_case(store: FakeStore, rules: RuleBook, group: str | None = None) -> str:
    case_id = services.record_application(store, rules, "allerod", "dk-1", dk("2026-11-02 10:00"), group=group).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    return case_id


def test_an_activity_ready_citizen_gets_an_offer_within_6_months_then_every_12(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    # LAB § 92 stk. 2: 6 months from first contact is Sunday 2 May 2027: the end of Monday's opening.
    assert _periods(store, case_id, "activity_ready.offer") == [("open", dk("2027-05-03 15:30"))]
    _walk(
        store,
        rules,
        case_id,
        [
            (dk("2026-11-05 10:00"), "held"),
            (dk("2026-11-12 10:00"), "completed"),
            (dk("2026-11-16 10:00"), "signed"),
            (dk("2026-12-01 10:00"), "started"),  # the first offer: in time
        ],
    )
    # LAB § 96: then every 12 continuous months, counted from the offer.
    assert _periods(store, case_id, "activity_ready.offer") == [
        ("met", dk("2027-05-03 15:30")),
        ("open", dk("2027-12-01 10:00")),
    ]


def test_four_job_conversations_in_any_12_months_move_the_period_only_when_the_fourth_is_held(
    rules_2017: RuleBook,
) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    assert _periods(store, case_id, "activity_ready.conversations") == [("open", dk("2027-11-02 10:00"))]
    _walk(
        store,
        rules,
        case_id,
        [
            (dk("2026-11-05 10:00"), "held"),  # conversation 1
            (dk("2026-11-12 10:00"), "completed"),
            (dk("2026-11-16 10:00"), "signed"),
            (dk("2026-12-01 10:00"), "started"),
            (dk("2027-03-01 10:00"), "continue"),  # 2
            (dk("2027-06-01 10:00"), "continue"),  # 3: still 3 of 4, the period ends when it did
        ],
    )
    assert _periods(store, case_id, "activity_ready.conversations") == [("open", dk("2027-11-02 10:00"))]
    _walk(store, rules, case_id, [(dk("2027-09-01 10:00"), "continue")])  # 4
    # With 4 held, the next is needed before the oldest of the last four (5 Nov 2026) is 12 months old.
    assert _periods(store, case_id, "activity_ready.conversations") == [
        ("met", dk("2027-11-02 10:00")),
        ("open", dk("2027-11-05 10:00")),
    ]


def test_a_passive_period_escalates_to_the_team_lead_like_any_missed_deadline(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    report = services.sweep(store, dk("2027-05-05 09:00"))
    passive = [(a.kind, a.recipient) for a in report.fired if a.rule_key == "activity_ready.offer"]
    # Due at Monday 3 May's closing; 1 working day later, counted from Tuesday's opening, is Wednesday 08:00.
    assert passive == [("escalation", "team_lead:jobcenter")]
    # The offer comes late: the period is closed as missed and the next one starts from the offer.
    _walk(
        store,
        rules,
        case_id,
        [
            (dk("2027-05-05 10:00"), "held"),
            (dk("2027-05-06 10:00"), "completed"),
            (dk("2027-05-07 10:00"), "signed"),
            (dk("2027-05-10 10:00"), "started"),
        ],
    )
    assert _periods(store, case_id, "activity_ready.offer") == [
        ("missed", dk("2027-05-03 15:30")),
        ("open", dk("2028-05-10 10:00")),
    ]


def test_education_ready_citizens_get_an_offer_within_a_month_and_then_every_4_weeks(rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    store = FakeStore()
    case_id = _allerod_case(store, rules, group="education_ready")
    assert _periods(store, case_id, "education_ready.offer") == [("open", dk("2026-12-02 10:00"))]
    assert _periods(store, case_id, "activity_ready.offer") == []


def test_vaxjo_five_day_rule_wants_the_citizen_in_an_activity_within_five_days(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = services.record_application(store, rules, "vaxjo", "se-1", at("2026-11-16 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-16 10:00"))
    # Saturday 21 Nov 10:00, closed: the end of Monday's opening.
    assert _periods(store, case_id, "ekonomiskt_bistand.offer") == [("open", at("2026-11-23 16:30"))]


def test_exit_ends_the_obligations_and_re_entry_starts_them_again(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules)
    _walk(
        store,
        rules,
        case_id,
        [
            (dk("2026-11-05 10:00"), "held"),
            (dk("2026-11-12 10:00"), "completed"),
            (dk("2026-11-16 10:00"), "signed"),
            (dk("2026-12-01 10:00"), "started"),
            (dk("2027-01-04 10:00"), "ready_to_exit"),
            (dk("2027-01-11 10:00"), "exited"),
        ],
    )
    statuses = {d["status"] for d in store.state.deadlines.values() if d["todo_id"] is None and d["status"] == "open"}
    assert statuses == set()  # after exit nothing is owed any more
    _walk(store, rules, case_id, [(dk("2027-04-12 10:00"), "re_entered")])
    # Back on benefit: a new first offer within 6 months of the re-entry.
    assert _periods(store, case_id, "activity_ready.offer")[-1] == ("open", dk("2027-10-12 10:00"))


def test_an_unknown_target_group_is_refused_listing_the_groups(rules: RuleBook) -> None:
    with pytest.raises(InputError, match="groups: activity_ready, job_ready, temporarily_unable, education_ready"):
        services.record_application(FakeStore(), rules, "allerod", "dk-1", dk("2026-11-02 10:00"), group="retired")


def test_a_citizen_temporarily_unable_gets_mentor_contact_every_second_week(rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _allerod_case(store, rules, group="temporarily_unable")
    assert _periods(store, case_id, "temporarily_unable.mentor_contact") == [("open", dk("2026-11-16 10:00"))]
    _walk(store, rules, case_id, [(dk("2026-11-12 10:00"), "held")])  # a meeting with the mentor
    assert _periods(store, case_id, "temporarily_unable.mentor_contact") == [
        ("met", dk("2026-11-16 10:00")),
        ("open", dk("2026-11-26 10:00")),
    ]
