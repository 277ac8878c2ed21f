"""Caseworker continuity: reassigning moves the work, and too many changes alert the team lead."""

from __future__ import annotations

from sqlalchemy import select

from activation import services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.ports import TodoFilter
from tests.conftest import at


def _case(store: SqlStore, rules: RuleBook) -> str:
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    return case_id


def test_assigning_a_caseworker_moves_the_open_todo_and_its_reminders_from_the_team_queue(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _case(store, rules)
    first = services.assign_caseworker(store, rules, case_id, "cw-01", at("2026-11-17 11:00"), "tl-1")
    assert (first.previous, first.todos_moved, first.alerted) == (None, 1, False)
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    assert todo.assignee == "cw-01"
    with store.engine.connect() as conn:
        recipients = set(
            conn.execute(
                select(t.alarms.c.recipient).where(t.alarms.c.deadline_id == todo.id, t.alarms.c.kind == "reminder")
            ).scalars()
        )
    assert recipients == {"cw-01"}


def test_a_third_change_within_12_months_alerts_the_team_lead_once(store: SqlStore, rules: RuleBook) -> None:
    case_id = _case(store, rules)
    services.assign_caseworker(store, rules, case_id, "cw-01", at("2026-11-17 11:00"), "tl-1")  # first: no change
    results = [
        services.assign_caseworker(store, rules, case_id, cw, at(day), "tl-1")
        for cw, day in (("cw-02", "2027-01-10 10:00"), ("cw-03", "2027-04-10 10:00"), ("cw-04", "2027-08-10 10:00"))
    ]
    assert [(r.changes_in_window, r.alerted) for r in results] == [(1, False), (2, False), (3, True)]
    same = services.assign_caseworker(store, rules, case_id, "cw-04", at("2027-08-11 10:00"), "tl-1")
    assert same.todos_moved == 0 and not same.alerted  # assigning the same person again changes nothing
    with store.engine.connect() as conn:
        alerts = conn.execute(
            select(t.notifications.c.recipient, t.notifications.c.rule_key).where(t.notifications.c.kind == "alert")
        ).all()
    assert [tuple(a) for a in alerts] == [("team_lead:arbetsmarknad", "continuity")]


def test_changes_older_than_the_window_do_not_count(store: SqlStore, rules: RuleBook) -> None:
    case_id = _case(store, rules)
    services.assign_caseworker(store, rules, case_id, "cw-01", at("2026-11-17 11:00"), "tl-1")
    services.assign_caseworker(store, rules, case_id, "cw-02", at("2026-11-20 10:00"), "tl-1")
    services.assign_caseworker(store, rules, case_id, "cw-03", at("2026-11-25 10:00"), "tl-1")
    late = services.assign_caseworker(store, rules, case_id, "cw-04", at("2028-01-10 10:00"), "tl-1")
    assert (late.changes_in_window, late.alerted) == (1, False)
