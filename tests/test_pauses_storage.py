"""Pauses on a real database (SQLite, and PostgreSQL when configured): rows, history and alarms."""

from __future__ import annotations

from sqlalchemy import select

from activation import pauses, services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.ports import TodoFilter
from tests.conftest import at

TUESDAY_10 = at("2026-11-17 10:00")


def _case(store: SqlStore, rules: RuleBook) -> tuple[str, str]:
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", TUESDAY_10).case_id
    services.advance_cases(store, rules, TUESDAY_10)
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
    return case_id, todo.id


def test_a_stopped_clock_suspends_alarms_and_resuming_writes_new_ones_and_the_history(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id, todo_id = _case(store, rules)
    stopped = pauses.record_pause(
        store, rules, case_id, "sickness", at("2026-11-18 16:00"), None, at("2026-11-18 16:05")
    )
    with store.transaction() as tx:
        [todo] = tx.list_todos(TodoFilter(case_id=case_id))
        assert todo.paused_since == at("2026-11-18 16:00")
        assert tx.list_todos(TodoFilter(overdue_at=at("2026-11-30 12:00"))) == []
    assert services.sweep(store, at("2026-11-30 12:00")).total == 0
    pauses.end_pause(store, rules, stopped.pause.id, at("2026-12-01 09:00"), at("2026-12-01 09:05"))
    with store.engine.connect() as conn:
        states: dict[str, str] = dict(conn.execute(select(t.alarms.c.id, t.alarms.c.state)).tuples().all())
        history = conn.execute(
            select(t.deadline_changes.c.revision, t.deadline_changes.c.due_before, t.deadline_changes.c.due_after)
            .where(t.deadline_changes.c.deadline_id == todo_id)
            .order_by(t.deadline_changes.c.revision)
        ).all()
        deadline = conn.execute(select(t.deadlines).where(t.deadlines.c.id == todo_id)).mappings().one()
    # No sweep ran before the pause, so even Wednesday's reminder was still waiting: all old alarms are
    # replaced by the third revision's.
    assert {states[f"{todo_id}:{a}"] for a in ("r1", "r2", "e1", "e2")} == {"superseded"}
    assert states[f"{todo_id}@3:e1"] == "pending"
    assert [tuple(h) for h in history] == [
        (2, at("2026-11-19 10:00"), None),
        (3, at("2026-11-19 10:00"), at("2026-12-02 16:30")),
    ]
    assert (deadline["revision"], deadline["paused_since"], deadline["due_at"]) == (3, None, at("2026-12-02 16:30"))
    fired = services.sweep(store, at("2026-12-03 09:00"))
    assert [a.id for a in fired.fired if a.kind == "escalation"] == [f"{todo_id}@3:e1"]


def test_a_pause_with_a_known_end_moves_the_todo_at_once(store: SqlStore, rules: RuleBook) -> None:
    case_id, todo_id = _case(store, rules)
    pauses.record_pause(
        store, rules, case_id, "maternity_leave", at("2026-11-18 10:00"), at("2026-11-23 10:00"), at("2026-11-18 10:30")
    )
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        assert todo is not None
        assert todo.due_at == at("2026-11-24 10:00")
        assert [p.basis for p in tx.pauses(case_id)] == ["maternity_leave"]
