"""Obligation periods and events on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from activation import pauses, services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.forms_filled import ASSESSMENT, filled


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def test_an_offer_closes_the_period_as_met_and_opens_the_next_with_its_alarms(
    store: SqlStore, rules_2017: RuleBook
) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    case_id = services.record_application(store, rules, "allerod", "dk-1", dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    for moment, outcome in (
        ("2026-11-05 10:00", "held"),
        ("2026-11-12 10:00", "completed"),
        ("2026-11-16 10:00", "signed"),
        ("2026-12-01 10:00", "started"),
    ):
        with store.transaction() as tx:
            [todo] = tx.list_todos(TodoFilter(case_id=case_id))
        services.complete_todo(store, todo.id, outcome, dk(moment), data=filled(outcome))
        services.advance_cases(store, rules, dk(moment))
    with store.engine.connect() as conn:
        periods = conn.execute(
            select(t.deadlines.c.rule_key, t.deadlines.c.status, t.deadlines.c.due_at)
            .where(t.deadlines.c.todo_id.is_(None))
            .order_by(t.deadlines.c.rule_key, t.deadlines.c.started_at)
        ).all()
        events = conn.execute(
            select(t.case_events.c.kind, func.count()).group_by(t.case_events.c.kind).order_by(t.case_events.c.kind)
        ).all()
        alarms = conn.execute(
            select(t.alarms.c.state, func.count())
            .where(t.alarms.c.rule_key == "activity_ready.offer")
            .group_by(t.alarms.c.state)
            .order_by(t.alarms.c.state)
        ).all()
        since = conn.execute(select(t.cases.c.obligations_since)).scalar_one()
    assert [tuple(p) for p in periods] == [
        ("activity_ready.conversations", "open", dk("2027-11-02 10:00")),
        ("activity_ready.offer", "met", dk("2027-05-03 15:30")),
        ("activity_ready.offer", "open", dk("2027-12-01 10:00")),
    ]
    assert [tuple(e) for e in events] == [("meeting", 1), ("offer", 1)]
    assert [tuple(a) for a in alarms] == [("cancelled", 4), ("pending", 4)]  # 2 reminders + 2 escalations each
    assert since == dk("2026-11-02 10:00")


def test_a_pause_stops_the_obligation_clocks_with_the_todo(store: SqlStore, rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    case_id = services.record_application(store, rules, "allerod", "dk-1", dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    stopped = pauses.record_pause(
        store, rules, case_id, "sickness", dk("2026-11-03 10:00"), None, dk("2026-11-03 10:00")
    )
    assert sorted(r.deadline_id.split(".", 1)[1] for r in stopped.revisions) == [
        "0",  # the first-meeting to-do
        "activity_ready.conversations.0",
        "activity_ready.offer.0",
    ]


def test_an_assessment_changing_the_group_is_stored_with_its_form_and_restarts_the_obligations(
    store: SqlStore, rules_2017: RuleBook
) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    case_id = services.record_application(store, rules, "allerod", "dk-1", dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    for moment, outcome, data in (
        ("2026-11-05 10:00", "held", None),
        ("2026-11-12 10:00", "completed", {**ASSESSMENT, "group": "job_ready"}),
    ):
        with store.transaction() as tx:
            [todo] = tx.list_todos(TodoFilter(case_id=case_id))
        services.complete_todo(store, todo.id, outcome, dk(moment), data=data, rules=rules)
        services.advance_cases(store, rules, dk(moment))
    with store.reads() as reads:
        detail = reads.case_detail(case_id)
    assert detail is not None
    assert detail.case.target_group == "job_ready"
    assert detail.steps[-1].data is not None and detail.steps[-1].data["capacity_band"] == "26-50"
    open_periods = {d.rule_key: d.due_at for d in detail.deadlines if d.status == "open" and not d.todo_id}
    assert open_periods == {
        "job_ready.offer": dk("2026-12-14 15:30"),
        "job_ready.conversations": dk("2027-11-12 10:00"),
    }
