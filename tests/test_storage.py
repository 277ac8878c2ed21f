"""The use cases on a real database: SQLite always, PostgreSQL when ACTIVATION_TEST_DATABASE_URL is set."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from activation import services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.model import SweepReport, TodoView
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at

FRIDAY_15 = at("2026-11-20 15:00")  # Karlskrona, Europe/Stockholm
MONDAY_CLOSING = at("2026-11-23 16:30")


def _open_karlskrona_case(store: SqlStore, rules: RuleBook, ref: str = "ext-1", caseworker: str | None = None) -> str:
    recorded = services.record_application(store, rules, "karlskrona", ref, FRIDAY_15, caseworker=caseworker)
    services.advance_cases(store, rules, FRIDAY_15)
    return recorded.case_id


def _todos(store: SqlStore, **kw: Any) -> list[TodoView]:
    with store.transaction() as tx:
        return tx.list_todos(TodoFilter(**kw))


# These tests are about to-do deadlines; the obligation periods (rule keys "<group>.<cadence>")
# have tests of their own in test_obligations.py.
TODO_ALARMS = t.alarms.c.rule_key.not_like("%.%")


def _notifications(store: SqlStore) -> list[tuple[str, str, int, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                t.notifications.c.case_id, t.notifications.c.kind, t.notifications.c.step, t.notifications.c.recipient
            )
            .where(t.notifications.c.rule_key.not_like("%.%"))
            .order_by(t.notifications.c.id)
        ).all()
    return [tuple(r) for r in rows]


def _alarm_states(store: SqlStore) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(t.alarms.c.id, t.alarms.c.state).where(TODO_ALARMS)).tuples().all())


def test_an_application_recorded_twice_opens_one_case(store: SqlStore, rules: RuleBook) -> None:
    first = services.record_application(store, rules, "karlskrona", "ext-1", FRIDAY_15)
    second = services.record_application(store, rules, "karlskrona", "ext-1", FRIDAY_15 + timedelta(minutes=5))
    assert first.created and not second.created
    assert first.case_id == second.case_id
    services.advance_cases(store, rules, FRIDAY_15)
    assert len(_todos(store)) == 1


def test_the_same_citizen_reference_in_two_municipalities_is_two_cases(store: SqlStore, rules: RuleBook) -> None:
    a = services.record_application(store, rules, "karlskrona", "ext-1", FRIDAY_15)
    b = services.record_application(store, rules, "vaxjo", "ext-1", FRIDAY_15)
    assert a.case_id != b.case_id


def test_karlskrona_friday_afternoon_application_is_due_monday_at_closing_with_reminders_and_ladder(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _open_karlskrona_case(store, rules)
    [todo] = _todos(store)
    assert (todo.kind, todo.case_id, todo.stage) == ("first_meeting", case_id, "first_meeting")
    # 48 hours from Friday 15:00 is Sunday 15:00, when the office is closed: the end of Monday's opening.
    assert todo.due_at == MONDAY_CLOSING
    assert todo.outcomes == ("held", "no_show", "withdrawn")
    with store.engine.connect() as conn:
        alarms = conn.execute(
            select(t.alarms.c.kind, t.alarms.c.step, t.alarms.c.fires_at, t.alarms.c.recipient)
            .where(TODO_ALARMS)
            .order_by(t.alarms.c.fires_at)
        ).all()
    assert [tuple(a) for a in alarms] == [
        # 24 hours before is Sunday 16:30: moved back to Friday's closing, the last open moment.
        ("reminder", 1, FRIDAY_15, "queue:arbetsmarknad"),
        ("reminder", 2, at("2026-11-23 14:30"), "queue:arbetsmarknad"),
        ("escalation", 1, at("2026-11-24 09:00"), "team_lead:arbetsmarknad"),  # 1 working hour after
        ("escalation", 2, at("2026-11-25 08:00"), "manager:karlskrona"),  # 1 working day after
    ]


def test_every_deadline_records_its_rule_key_config_version_and_why(store: SqlStore, rules: RuleBook) -> None:
    _open_karlskrona_case(store, rules)
    [todo] = _todos(store)
    assert todo.rule_key == "first_meeting"
    # The version in force when the application came: Karlskrona's rules over SoL 2025:400 (from 1 July 2025).
    assert todo.config_version == rules.in_force("karlskrona", at("2026-11-20 15:00")).stamp
    assert todo.config_version.startswith("se-2025-07+")
    assert "48 hours from application received at Fri 20 Nov 2026 15:00" in (todo.explanation or "")
    assert "moves to the end of the next opening" in (todo.explanation or "")


def test_a_missed_first_meeting_escalates_to_the_team_lead_exactly_once_even_when_swept_twice(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _open_karlskrona_case(store, rules)
    tuesday_10 = at("2026-11-24 10:00")
    first = services.sweep(store, tuesday_10)
    second = services.sweep(store, tuesday_10)
    assert (first.fired_escalations, second.fired_escalations) == (1, 0)
    # No sweep ran before Tuesday: both reminders are stale (their deadline passed) and are skipped.
    assert (first.fired_reminders, first.skipped_reminders) == (0, 2)
    assert second.total == 0
    escalations = [n for n in _notifications(store) if n[1] == "escalation"]
    assert escalations == [(case_id, "escalation", 1, "team_lead:arbetsmarknad")]
    # The manager's step comes a working day after the deadline.
    services.sweep(store, at("2026-11-25 08:00"))
    assert [n[3] for n in _notifications(store) if n[1] == "escalation"] == [
        "team_lead:arbetsmarknad",
        "manager:karlskrona",
    ]


def test_completing_the_meeting_stops_reminders_and_escalations_not_yet_fired(store: SqlStore, rules: RuleBook) -> None:
    _open_karlskrona_case(store, rules)
    [todo] = _todos(store)
    services.sweep(store, FRIDAY_15)  # the first reminder fires at once
    services.complete_todo(store, todo.id, "held", at("2026-11-23 10:00"))
    services.sweep(store, at("2026-12-31 12:00"))
    states = _alarm_states(store)
    assert states == {
        f"{todo.id}:r1": "fired",
        f"{todo.id}:r2": "cancelled",
        f"{todo.id}:e1": "cancelled",
        f"{todo.id}:e2": "cancelled",
    }


def test_holding_the_first_meeting_creates_the_assessment_todo_with_its_configured_deadline(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _open_karlskrona_case(store, rules)
    [meeting] = _todos(store)
    held_at = at("2026-11-23 10:00")
    done = services.complete_todo(store, meeting.id, "held", held_at, by="cw-01")
    assert (done.status, done.outcome, done.completed_at) == ("done", "held", held_at)
    assert _todos(store, case_id=case_id) == []  # the next to-do comes with the next flow run
    services.advance_cases(store, rules, held_at)
    [assessment] = _todos(store, case_id=case_id)
    assert assessment.kind == "assessment"
    assert assessment.stage == "assessment"
    # Swedish baseline: 3 weeks from the meeting (Monday 23 Nov 10:00 -> Monday 14 Dec 10:00).
    assert assessment.due_at == at("2026-12-14 10:00")
    with store.engine.connect() as conn:
        stage = conn.execute(select(t.cases.c.stage).where(t.cases.c.id == case_id)).scalar_one()
        met = conn.execute(select(t.deadlines.c.status).where(t.deadlines.c.id == meeting.id)).scalar_one()
    assert (stage, met) == ("assessment", "met")


def test_a_no_show_creates_a_rebooking_todo_with_the_rebooking_deadline(store: SqlStore, rules: RuleBook) -> None:
    case_id = _open_karlskrona_case(store, rules)
    [meeting] = _todos(store)
    services.complete_todo(store, meeting.id, "no_show", at("2026-11-23 09:00"))
    services.advance_cases(store, rules, at("2026-11-23 09:00"))
    [rebook] = _todos(store, case_id=case_id)
    assert rebook.kind == "rebook_first_meeting"
    assert rebook.stage == "first_meeting"
    assert rebook.rule_key == "first_meeting_rebooking"
    assert rebook.due_at == at("2026-11-25 09:00")  # Karlskrona: 48 hours again
    with store.engine.connect() as conn:
        letters = conn.execute(select(t.letters.c.todo_id, t.letters.c.context)).all()
    assert {row[0] for row in letters} == {meeting.id, rebook.id}
    assert [row[1]["rebooking"] for row in letters if row[0] == rebook.id] == [True]


def test_a_meeting_held_after_the_deadline_counts_as_missed(store: SqlStore, rules: RuleBook) -> None:
    _open_karlskrona_case(store, rules)
    [meeting] = _todos(store)
    services.complete_todo(store, meeting.id, "held", at("2026-11-24 11:00"))
    with store.engine.connect() as conn:
        assert conn.execute(select(t.deadlines.c.status).where(t.deadlines.c.id == meeting.id)).scalar_one() == "missed"


def test_a_wrong_outcome_an_unknown_todo_and_a_changed_outcome_are_refused(store: SqlStore, rules: RuleBook) -> None:
    _open_karlskrona_case(store, rules)
    [meeting] = _todos(store)
    with pytest.raises(services.InputError, match="accepts outcomes held, no_show, withdrawn"):
        services.complete_todo(store, meeting.id, "completed", at("2026-11-23 10:00"))
    with pytest.raises(services.InputError, match="unknown to-do"):
        services.complete_todo(store, "c-nothere.0", "held", at("2026-11-23 10:00"))
    services.complete_todo(store, meeting.id, "held", at("2026-11-23 10:00"))
    again = services.complete_todo(store, meeting.id, "held", at("2026-11-23 10:05"))
    assert again.completed_at == at("2026-11-23 10:00")  # a double click records nothing new
    with pytest.raises(services.InputError, match="already done"):
        services.complete_todo(store, meeting.id, "no_show", at("2026-11-23 10:05"))
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.steps)).scalar_one() == 2


def test_unknown_municipality_and_team_are_refused_with_the_known_ones(store: SqlStore, rules: RuleBook) -> None:
    with pytest.raises(services.InputError, match="configured: allerod, boras, karlskrona"):
        services.record_application(store, rules, "atlantis", "ext-1", FRIDAY_15)
    with pytest.raises(services.InputError, match="teams: arbetsmarknad"):
        services.record_application(store, rules, "karlskrona", "ext-1", FRIDAY_15, team="nope")


def test_a_case_with_a_responsible_caseworker_gets_the_todo_else_the_team_queue(
    store: SqlStore, rules: RuleBook
) -> None:
    _open_karlskrona_case(store, rules, "ext-1", caseworker="cw-07")
    _open_karlskrona_case(store, rules, "ext-2")
    assignees = sorted(x.assignee for x in _todos(store))
    assert assignees == ["cw-07", "queue:arbetsmarknad"]
    assert [x.assignee for x in _todos(store, assignee="cw-07")] == ["cw-07"]


def test_overdue_filter_shows_only_open_todos_past_due(store: SqlStore, rules: RuleBook) -> None:
    _open_karlskrona_case(store, rules, "ext-1")
    assert _todos(store, overdue_at=at("2026-11-23 16:00")) == []
    assert len(_todos(store, overdue_at=at("2026-11-23 17:00"))) == 1


def test_a_danish_application_is_counted_on_the_danish_calendar(store: SqlStore, rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    received = at("2026-12-01 10:00", COPENHAGEN)
    services.record_application(store, rules, "allerod", "dk-ref-1", received)
    services.advance_cases(store, rules, received)
    [todo] = _todos(store)
    # Allerød: 4 weeks -> Tuesday 29 Dec 10:00, an open day between Christmas and New Year.
    assert todo.due_at == at("2026-12-29 10:00", COPENHAGEN)
    assert todo.config_version is not None
    assert todo.config_version.startswith("allerod-2026.1+")


def test_dry_run_lists_due_alarms_and_pending_steps_without_writing(store: SqlStore, rules: RuleBook) -> None:
    services.record_application(store, rules, "karlskrona", "ext-1", FRIDAY_15)
    with store.transaction() as tx:
        assert [s.outcome for s in tx.pending_steps(None, 10)] == ["received"]
    services.advance_cases(store, rules, FRIDAY_15)
    with store.transaction() as tx:
        due = tx.due_alarms(at("2026-11-24 10:00"), 100)
    assert sorted(a.kind for a in due) == ["escalation", "reminder", "reminder"]
    assert set(_alarm_states(store).values()) == {"pending"}
    assert _notifications(store) == []


def test_concurrent_sweeps_fire_every_alarm_exactly_once(store: SqlStore, rules: RuleBook) -> None:
    for i in range(60):
        services.record_application(store, rules, "karlskrona", f"ext-{i}", FRIDAY_15)
    services.advance_cases(store, rules, FRIDAY_15, limit=1000)

    def three_sweeps_at_once(now: datetime) -> list[SweepReport]:
        reports: list[SweepReport] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                reports.append(services.sweep(store, now, batch=7))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        return reports

    # Monday 15:00: both reminders of every case are due and their deadline has not passed.
    reminders = three_sweeps_at_once(at("2026-11-23 15:00"))
    assert sum(r.fired_reminders for r in reminders) == 120
    # 1 December: the first-meeting ladders have run out; the offer obligations are not yet due.
    escalations = three_sweeps_at_once(at("2026-12-01 12:00"))
    assert sum(r.fired_escalations for r in escalations) == 120  # 2 ladder steps x 60 cases
    notes = _notifications(store)
    assert len(notes) == len(set(notes)) == 240
    assert services.sweep(store, at("2026-12-01 12:00")).total == 0


def test_concurrent_intake_runs_create_each_todo_once(store: SqlStore, rules: RuleBook) -> None:
    for i in range(40):
        services.record_application(store, rules, "vaxjo", f"ext-{i}", FRIDAY_15)
    moved: list[int] = []

    def run() -> None:
        while (batch := services.advance_cases(store, rules, FRIDAY_15, ["application"], limit=5)).claimed:
            moved.append(batch.moved)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(moved) == 40
    assert len(_todos(store, limit=1000)) == 40


def test_a_step_whose_rules_are_gone_is_released_with_its_error_and_parked_after_three_tries(
    store: SqlStore, rules: RuleBook, tmp_path: object
) -> None:
    import shutil
    from pathlib import Path

    from activation import config

    services.record_application(store, rules, "boras", "ext-1", FRIDAY_15)
    services.record_application(store, rules, "karlskrona", "ext-2", FRIDAY_15)
    copy = Path(str(tmp_path)) / "config"
    shutil.copytree(Path(__file__).resolve().parent.parent / "config", copy)
    (copy / "municipalities" / "boras.yaml").unlink()
    without_boras = config.load(copy)
    first = services.advance_cases(store, without_boras, FRIDAY_15)
    assert (first.claimed, first.moved, len(first.failed)) == (2, 1, 1)
    assert [x.municipality for x in _todos(store)] == ["karlskrona"]
    services.advance_cases(store, without_boras, FRIDAY_15)
    services.advance_cases(store, without_boras, FRIDAY_15)
    assert services.advance_cases(store, without_boras, FRIDAY_15).claimed == 0
    with store.transaction() as tx:
        [parked] = tx.parked_steps(10)
    assert parked.failures == 3
    assert "unknown municipality 'boras'" in (parked.last_error or "")
    # Once the rules are repaired, operations give it another try and it moves on.
    with store.transaction() as tx:
        assert tx.unpark_steps() == 1
    assert services.advance_cases(store, rules, FRIDAY_15).moved == 1


def test_a_fired_escalation_lands_in_the_outbox_in_the_same_transaction(store: SqlStore, rules: RuleBook) -> None:
    recorded = services.record_application(store, rules, "karlskrona", "ref-outbox", at("2026-11-20 09:00"))
    services.advance_cases(store, rules, at("2026-11-20 09:05"))
    report = services.sweep(store, at("2026-12-20 09:00"))
    with store.engine.connect() as conn:
        events = conn.execute(select(t.outbox).where(t.outbox.c.case_id == recorded.case_id)).mappings().all()
        notified = conn.execute(
            select(t.notifications.c.kind, t.notifications.c.id).where(t.notifications.c.case_id == recorded.case_id)
        ).all()
    assert report.fired_escalations >= 1
    assert {e["id"] for e in events} == {f"{kind}:{id_}" for kind, id_ in notified}
    assert {e["municipality"] for e in events} == {"karlskrona"}
    assert all("ref-outbox" not in str(e["payload"]) for e in events)  # pseudonymous
