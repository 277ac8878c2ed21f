"""Count in the first period: 4 job conversations within the first 6 months, restarting with the run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from activation import case_events, services
from activation.adapters.sql import SqlStore
from activation.config import ConfigError, RuleBook, load
from activation.ports import Store, TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import filled
from tests.rule_kinds_config import config_with, with_first_conversations

KEY = "activity_ready.first_conversations"


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


@pytest.fixture
def first_rules(tmp_path: Path) -> RuleBook:
    return load(config_with(tmp_path, with_first_conversations))


def _case(store: Store, rules: RuleBook) -> str:
    case_id = services.record_application(store, rules, "allerod", "dk-1", dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    return case_id


def _periods(store: FakeStore, case_id: str, rule_key: str = KEY) -> list[tuple[str, datetime]]:
    return [
        (d["status"], d["due_at"])
        for d in store.state.deadlines.values()
        if d["case_id"] == case_id and d["rule_key"] == rule_key
    ]


def _step(
    store: Store, rules: RuleBook, case_id: str, moment: datetime, outcome: str, data: dict[str, Any] | None = None
) -> None:
    with store.transaction() as tx:
        [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]
    services.complete_todo(store, todo.id, outcome, moment, data=data or filled(outcome), rules=rules)
    services.advance_cases(store, rules, moment)


def _conversation(store: Store, rules: RuleBook, case_id: str, when: str, now: str | None = None) -> None:
    case_events.record_event(store, rules, case_id, "job_conversation", dk(when), dk(now or when), "cw-01")


def test_the_fourth_conversation_in_the_first_six_months_meets_the_period_and_opens_no_next_one(
    first_rules: RuleBook,
) -> None:
    store = FakeStore()
    case_id = _case(store, first_rules)
    # 2 Nov 2026 10:00 + 6 months is Sunday 2 May 2027: the end of Monday's opening, 15:30.
    assert _periods(store, case_id) == [("open", dk("2027-05-03 15:30"))]
    _step(store, first_rules, case_id, dk("2026-11-05 10:00"), "held")  # conversation 1: a stage's event
    _conversation(store, first_rules, case_id, "2026-12-10 10:00")  # 2
    _conversation(store, first_rules, case_id, "2027-02-01 10:00")  # 3: still owed, due when it was
    assert _periods(store, case_id) == [("open", dk("2027-05-03 15:30"))]
    _conversation(store, first_rules, case_id, "2027-03-15 10:00")  # 4
    assert _periods(store, case_id) == [("met", dk("2027-05-03 15:30"))]
    # LAB § 32: after the first period the course is agreed case by case; a fifth opens nothing.
    _conversation(store, first_rules, case_id, "2027-06-01 10:00")
    assert _periods(store, case_id) == [("met", dk("2027-05-03 15:30"))]


def test_three_conversations_by_the_due_time_escalate_and_a_late_fourth_closes_the_period_as_missed(
    first_rules: RuleBook,
) -> None:
    store = FakeStore()
    case_id = _case(store, first_rules)
    for when in ("2026-11-20 10:00", "2027-01-15 10:00", "2027-03-15 10:00"):
        _conversation(store, first_rules, case_id, when)
    fired = [
        (a.kind, a.recipient, a.fires_at)
        for moment in ("2027-04-05 16:00", "2027-05-05 09:00")
        for a in services.sweep(store, dk(moment)).fired
        if a.rule_key == KEY
    ]
    # 4 weeks before Monday 3 May 15:30 is Monday 5 April 15:30, an open moment (Easter Monday 2027 is
    # 29 March). The escalation: 1 working day after Monday's closing, counted from Tuesday's
    # opening, is Wednesday 5 May 08:00.
    assert fired == [
        ("reminder", "queue:jobcenter", dk("2027-04-05 15:30")),
        ("escalation", "team_lead:jobcenter", dk("2027-05-05 08:00")),
    ]
    _conversation(store, first_rules, case_id, "2027-05-20 10:00")
    assert _periods(store, case_id) == [("missed", dk("2027-05-03 15:30"))]


def test_a_change_of_group_restarts_the_count_from_the_change(first_rules: RuleBook) -> None:
    store = FakeStore()
    case_id = _case(store, first_rules)
    _step(store, first_rules, case_id, dk("2026-11-05 10:00"), "held")
    _conversation(store, first_rules, case_id, "2026-11-10 10:00")
    # The assessment moves the citizen to job-ready (a new benefit situation): 4 new conversations are
    # owed within 6 months of Thursday 12 Nov 2026 10:00, i.e. by Wednesday 12 May 2027 10:00 (open).
    assessment = {**(filled("completed") or {}), "group": "job_ready"}
    _step(store, first_rules, case_id, dk("2026-11-12 10:00"), "completed", assessment)
    assert _periods(store, case_id) == [("ended", dk("2027-05-03 15:30"))]
    assert _periods(store, case_id, "job_ready.first_conversations") == [("open", dk("2027-05-12 10:00"))]
    for when in ("2026-12-01 10:00", "2027-01-05 10:00", "2027-02-01 10:00"):
        _conversation(store, first_rules, case_id, when)
    # The two conversations before the change do not count: three so far, still open.
    assert _periods(store, case_id, "job_ready.first_conversations") == [("open", dk("2027-05-12 10:00"))]


def test_the_sql_store_keeps_the_first_period_met_with_the_fourth_conversation(store: SqlStore, tmp_path: Path) -> None:
    rules = load(config_with(tmp_path, with_first_conversations))
    case_id = _case(store, rules)
    for when in ("2026-11-05 10:00", "2026-12-10 10:00", "2027-02-01 10:00", "2027-03-15 10:00"):
        _conversation(store, rules, case_id, when)
    with store.reads() as reads:
        detail = reads.case_detail(case_id)
    assert detail is not None
    assert [(d.status, d.due_at) for d in detail.deadlines if d.rule_key == KEY] == [("met", dk("2027-05-03 15:30"))]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first_due": "1 month"}, "first_due: only for a maximum gap"),
        ({"first_due": "1 month", "at_least": 1}, "first_due: not with window first_period"),
        ({"on_change_due": "1 month"}, "on_change_due: not with window first_period"),
        ({"window": "first_six_months"}, "window"),
        ({"source": None}, "source"),
    ],
)
def test_a_first_period_obligation_that_cannot_work_is_refused_naming_the_file_and_key(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    def broken(data: dict[str, Any]) -> None:
        with_first_conversations(data)
        rule = data["groups"]["activity_ready"]["cadences"]["first_conversations"]
        rule.update(change)
        if change.get("source", "") is None:
            del rule["source"]

    with pytest.raises(ConfigError) as caught:
        load(config_with(tmp_path, broken))
    text = str(caught.value)
    assert "allerod.yaml" in text and "groups.activity_ready.cadences.first_conversations" in text and message in text
