"""The sweep as set-based SQL: what the database writes is what Python wrote before, at any batch size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from activation import services
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from bench.sweep_setup import Database, seed
from tests.query_plans import full_scans, statements_sent

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _alarm(case_id: str, step: int, kind: str, fires_at: datetime, due_at: datetime) -> dict[str, object]:
    return {
        "id": f"{case_id}.1:{kind[0]}{step}",
        "deadline_id": f"{case_id}.1",
        "case_id": case_id,
        "kind": kind,
        "step": step,
        "offset_label": "+1d",
        "notify_role": "team_lead",
        "recipient": "team_lead:jobcenter",
        "fires_at": fires_at,
        "deadline_due_at": due_at,
        "rule_key": "first_meeting",
        "state": "pending",
    }


def _seed_case(store: SqlStore, case_id: str, due_at: datetime, alarms: list[dict[str, object]]) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            t.cases.insert(),
            {"id": case_id, "municipality": "allerod", "citizen_ref": f"ref-{case_id}", "team": "jobcenter",
             "stage": "first_meeting", "stage_entered_at": due_at - timedelta(days=7), "status": "open",
             "created_at": due_at - timedelta(days=7)},
        )  # fmt: skip
        conn.execute(
            t.deadlines.insert(),
            {"id": f"{case_id}.1", "case_id": case_id, "rule_key": "first_meeting", "config_version": "test",
             "calendar": "DK", "start_event": "application received", "started_at": due_at - timedelta(days=7),
             "due_at": due_at, "status": "open", "explanation": "test"},
        )  # fmt: skip
        conn.execute(t.alarms.insert(), alarms)


def test_the_outbox_payload_the_database_builds_is_the_one_python_built(store: SqlStore) -> None:
    # A deadline with microseconds and one on the minute: isoformat writes the fraction only when there is one.
    for case_id, due_at in (("c-micro", datetime(2026, 11, 30, 14, 5, 7, 120034, tzinfo=UTC)),
                            ("c-whole", datetime(2026, 11, 30, 15, 0, tzinfo=UTC))):  # fmt: skip
        _seed_case(store, case_id, due_at, [_alarm(case_id, 1, "escalation", due_at + timedelta(days=1), due_at)])

    report = services.sweep(store, NOW)

    with store.engine.connect() as conn:
        events = {r.id: r for r in conn.execute(select(t.outbox)).all()}
    assert report.fired_escalations == 2
    assert set(events) == {"escalation:c-micro.1:e1", "escalation:c-whole.1:e1"}
    micro = events["escalation:c-micro.1:e1"]
    assert micro.payload == {
        "event": "escalation",
        "id": "escalation:c-micro.1:e1",
        "case_id": "c-micro",
        "municipality": "allerod",
        "occurred_at": "2026-12-02T09:00:00+00:00",
        "step": 1,
        "notify_role": "team_lead",
        "recipient": "team_lead:jobcenter",
        "rule_key": "first_meeting",
        "deadline_due_at": "2026-11-30T14:05:07.120034+00:00",
    }
    assert (micro.kind, micro.case_id, micro.municipality, micro.created_at) == (
        "escalation", "c-micro", "allerod", NOW,
    )  # fmt: skip
    assert events["escalation:c-whole.1:e1"].payload["deadline_due_at"] == "2026-11-30T15:00:00+00:00"


def test_a_sweep_counts_fired_and_skipped_alarms_and_keeps_a_sample_in_firing_order(store: SqlStore) -> None:
    due_at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    _seed_case(
        store,
        "c-1",
        due_at,
        [
            _alarm("c-1", 1, "reminder", due_at - timedelta(days=2), due_at + timedelta(days=5)),  # fires
            _alarm("c-1", 2, "reminder", due_at - timedelta(days=1), due_at),  # its deadline passed: skipped
            _alarm("c-1", 1, "escalation", due_at + timedelta(hours=1), due_at),  # fires
            _alarm("c-1", 2, "escalation", NOW + timedelta(hours=1), due_at),  # not due yet
        ],
    )

    report = services.sweep(store, NOW)

    assert (report.fired_reminders, report.fired_escalations, report.skipped_reminders) == (1, 1, 1)
    assert [a.id for a in report.fired] == ["c-1.1:r1", "c-1.1:e1"]
    with store.engine.connect() as conn:
        notified = conn.execute(select(t.notifications.c.id).order_by(t.notifications.c.id)).scalars().all()
        reported = conn.execute(select(t.outbox.c.id).order_by(t.outbox.c.id)).scalars().all()
    assert notified == ["c-1.1:e1", "c-1.1:r1"]
    assert reported == ["escalation:c-1.1:e1", "reminder:c-1.1:r1"]


def test_one_batch_larger_than_postgresqls_parameter_limit_fires_every_alarm_once(store: SqlStore) -> None:
    # 70,000 > 65,535, the most bind parameters one PostgreSQL statement may carry.
    seed(Database(store.engine, "test", lambda: None), 70_000, 70_000, NOW)

    report = services.sweep(store, NOW, batch=100_000)
    again = services.sweep(store, NOW, batch=100_000)

    assert (report.fired_escalations, report.batches, len(report.fired)) == (70_000, 1, 100)
    assert again.total == 0
    with store.engine.connect() as conn:
        counts = [conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (t.notifications, t.outbox)]  # fmt: skip
        fired = conn.execute(select(func.count()).select_from(t.alarms).where(t.alarms.c.state == "fired")).scalar_one()
    assert counts == [70_000, 70_000]
    assert fired == 70_000


def test_no_statement_of_a_sweep_scans_the_alarms_whatever_the_statistics_say(store: SqlStore) -> None:
    # ANALYZE right after seeding: every alarm pending, no sweep id anywhere, the statistics that
    # once sent SQLite's planner through every alarm to find one batch.
    seed(Database(store.engine, "test", lambda: None), 2_000, 500, NOW)
    with statements_sent(store) as executed:
        report = services.sweep(store, NOW, batch=100)

    assert report.fired_escalations == 500
    assert [statement for statement, _ in executed if "alarms" in statement]
    assert full_scans(store, executed) == []
