"""The use cases on an in-memory store with a fixed clock: fast, no database, no Prefect."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from activation import config, services
from activation.config import RuleBook
from activation.model import TodoView
from activation.ports import FixedClock, TodoFilter
from tests.conftest import at
from tests.fakes import FakeStore

ROOT = Path(__file__).resolve().parent.parent


def _todos(store: FakeStore, **kw: Any) -> list[TodoView]:
    with store.transaction() as tx:
        return tx.list_todos(TodoFilter(**kw))


def _escalations(store: FakeStore) -> list[tuple[str, str]]:
    return [(n.notify_role, n.recipient) for n in store.state.notifications.values() if n.kind == "escalation"]


def test_first_meeting_missed_escalates_to_team_lead_after_48_hours(rules: RuleBook) -> None:
    store, clock = FakeStore(), FixedClock(at("2026-11-17 10:00"))  # a Tuesday morning in Karlskrona
    services.record_application(store, rules, "karlskrona", "ext-1", clock.now())
    services.advance_cases(store, rules, clock.now())
    [meeting] = _todos(store)
    assert meeting.due_at == at("2026-11-19 10:00")  # 48 hours later, the office is open: no extension

    # Walk the clock hour by hour through Thursday, sweeping as the scheduled flow would.
    fired_at: dict[str, object] = {}
    while clock.current < at("2026-11-20 12:00"):
        clock.current += timedelta(minutes=30)
        for alarm in services.sweep(store, clock.now()).fired:
            fired_at[alarm.id] = clock.now()
    assert fired_at == {
        f"{meeting.id}:r1": at("2026-11-18 10:00"),  # 24 hours before
        f"{meeting.id}:r2": at("2026-11-19 08:00"),  # 2 working hours before (the office opens at 08:00)
        f"{meeting.id}:e1": at("2026-11-19 11:00"),  # 1 working hour after the deadline: the team lead
        f"{meeting.id}:e2": at("2026-11-20 10:00"),  # 1 working day after: the manager
    }
    assert _escalations(store) == [("team_lead", "team_lead:arbetsmarknad"), ("manager", "manager:karlskrona")]


def test_a_meeting_held_in_time_escalates_to_nobody(rules: RuleBook) -> None:
    store, clock = FakeStore(), FixedClock(at("2026-11-17 10:00"))
    services.record_application(store, rules, "karlskrona", "ext-1", clock.now())
    services.advance_cases(store, rules, clock.now())
    [meeting] = _todos(store)
    clock.current = at("2026-11-18 14:00")
    services.complete_todo(store, meeting.id, "held", clock.now())
    clock.current = at("2026-12-01 12:00")  # before the offer obligation's first reminder (11 Dec)
    assert services.sweep(store, clock.now()).total == 0
    assert _escalations(store) == []
    assert store.state.deadlines[meeting.id]["status"] == "met"


def test_vaxjo_five_day_rule_counts_calendar_days_and_extends_past_the_weekend(rules: RuleBook) -> None:
    store = FakeStore()
    received = at("2026-11-18 11:00")  # Wednesday; + 5 days = Monday 23 Nov 11:00, open
    services.record_application(store, rules, "vaxjo", "ext-1", received)
    services.advance_cases(store, rules, received)
    assert _todos(store)[0].due_at == at("2026-11-23 11:00")
    saturday = at("2026-11-21 10:00")  # + 5 days = Thursday 26 Nov 10:00
    services.record_application(store, rules, "vaxjo", "ext-2", saturday)
    services.advance_cases(store, rules, saturday)
    assert _todos(store, case_id=_case_of(store, "ext-2"))[0].due_at == at("2026-11-26 10:00")


def _case_of(store: FakeStore, ref: str) -> str:
    return next(c.id for c in store.state.cases.values() if c.citizen_ref == ref)


def test_boras_counts_the_first_meeting_on_its_four_day_meetings_calendar(rules: RuleBook) -> None:
    store = FakeStore()
    received = at("2026-11-19 09:00")  # Thursday; meetings Monday-Thursday only
    services.record_application(store, rules, "boras", "ext-1", received)
    services.advance_cases(store, rules, received)
    # 5 working days on Mon-Thu: Mon 23, Tue 24, Wed 25, Thu 26, Mon 30 Nov at 09:00.
    assert _todos(store)[0].due_at == at("2026-11-30 09:00")


def test_a_step_that_cannot_be_planned_does_not_hold_up_the_others_and_is_parked_after_three_tries(
    rules: RuleBook, tmp_path: Path
) -> None:
    import shutil

    store = FakeStore()
    services.record_application(store, rules, "boras", "ext-1", at("2026-11-17 10:00"))
    services.record_application(store, rules, "karlskrona", "ext-2", at("2026-11-17 10:00"))
    # Borås disappears from the rules (a bad deploy): its case cannot be planned...
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "municipalities" / "boras.yaml").unlink()
    without_boras = config.load(tmp_path / "config")
    first = services.advance_cases(store, without_boras, at("2026-11-17 10:05"))
    # ...but Karlskrona's moves on, and Borås's step is given back with its error, nothing half-written.
    assert [p.case_id for p in first.progress] == [_case_of(store, "ext-2")]
    [(step, error)] = first.failed
    assert step.case_id == _case_of(store, "ext-1")
    assert "unknown municipality 'boras'" in error
    assert [x.municipality for x in _todos(store)] == ["karlskrona"]
    # Two more failed runs park it, so it no longer comes back in every batch.
    for _ in range(2):
        assert len(services.advance_cases(store, without_boras, at("2026-11-17 10:10")).failed) == 1
    assert services.advance_cases(store, without_boras, at("2026-11-17 10:15")).claimed == 0
    with store.transaction() as tx:
        assert [s.case_id for s in tx.parked_steps(10)] == [_case_of(store, "ext-1")]


def test_the_letter_for_the_first_meeting_carries_no_citizen_reference(rules: RuleBook) -> None:
    store = FakeStore()
    services.record_application(store, rules, "karlskrona", "19121212-1212", at("2026-11-17 10:00"))
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    [letter] = store.state.letters.values()
    assert "19121212-1212" not in repr(letter["letter"].context)
    assert letter["letter"].language == "sv"
