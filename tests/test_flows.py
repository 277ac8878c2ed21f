"""The Prefect flows, run for real against a temporary Prefect server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from activation import runtime, services
from activation.adapters import tables as t
from activation.ports import TodoFilter
from tests.conftest import at
from tests.forms_filled import filled

pytestmark = pytest.mark.prefect

CITIZEN_REF = "ref-2611201500-synthetic"


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def flows_on(database_url: str, prefect_api: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[runtime.Runtime]:
    monkeypatch.setenv("ACTIVATION_DATABASE_URL", database_url)
    runtime.reset()
    yield runtime.get_runtime()
    runtime.reset()


def test_karlskrona_friday_application_flows_from_intake_to_escalation_to_assessment(flows_on: runtime.Runtime) -> None:
    from flows.tick import run_tick

    rt = flows_on
    case_id = services.record_application(rt.store, rt.rules, "karlskrona", CITIZEN_REF, at("2026-11-20 15:00")).case_id

    first = run_tick(at("2026-11-20 15:05"))
    assert first["intake"]["todos"] == 1 and first["intake"]["alarms"] == 4
    assert first["intake"]["letters_rendered"] == 1
    with rt.store.transaction() as tx:
        [meeting] = tx.list_todos(TodoFilter(case_id=case_id))
    assert meeting.due_at == at("2026-11-23 16:30")

    # Tuesday 10:00 is past the deadline and past the team lead's step (1 working hour after).
    late = [run_tick(at("2026-11-24 10:00")) for _ in range(2)]
    assert [r["sweep"]["escalations"] for r in late] == [1, 0]
    with rt.engine.connect() as conn:
        escalations = (
            conn.execute(select(t.notifications.c.recipient).where(t.notifications.c.kind == "escalation"))
            .scalars()
            .all()
        )
        letter = conn.execute(select(t.letters.c.body)).scalar_one()
    assert escalations == ["team_lead:arbetsmarknad"]
    assert "Kallelse till första samtal" in letter and case_id in letter

    services.complete_todo(rt.store, meeting.id, "held", at("2026-11-24 11:00"))
    moved = run_tick(at("2026-11-24 11:01"))
    assert moved["advance"] == {"moved": 1, "failed": 0, "todos": 1, "alarms": 3, "letters": 0, "letters_rendered": 0}
    with rt.store.transaction() as tx:
        [assessment] = tx.list_todos(TodoFilter(case_id=case_id))
    assert assessment.kind == "assessment"
    assert assessment.due_at == at("2026-12-15 11:00")  # 3 weeks, Swedish baseline


def test_a_tick_without_prefect_runs_the_same_code_and_asks_no_prefect_server(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `activation tick` with no server up (issue 10): the same flow code, each task's function called.
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.tick import run_tick_without_prefect

    monkeypatch.setenv("ACTIVATION_DATABASE_URL", database_url)
    runtime.reset()
    rt = runtime.get_runtime()
    case_id = services.record_application(rt.store, rt.rules, "karlskrona", CITIZEN_REF, at("2026-11-20 15:00")).case_id
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens there
        first = run_tick_without_prefect(at("2026-11-20 15:05"))
        late = [run_tick_without_prefect(at("2026-11-24 10:00")) for _ in range(2)]
    assert first["intake"]["todos"] == 1 and first["intake"]["alarms"] == 4
    assert first["intake"]["letters_rendered"] == 1
    assert [r["sweep"]["escalations"] for r in late] == [1, 0]
    with rt.store.transaction() as tx:
        assert [t.kind for t in tx.list_todos(TodoFilter(case_id=case_id))] == ["first_meeting"]
    runtime.reset()


def test_letters_for_outcomes_recorded_through_the_web_or_the_api_are_rendered_by_the_next_flow_run(
    flows_on: runtime.Runtime,
) -> None:
    # Issue 9: the web and the API move the case on at once, so the flow run that comes next
    # creates no letter itself; it must still render the one the outcome queued.
    from flows.tick import run_tick

    rt = flows_on
    case_id = services.record_application(rt.store, rt.rules, "karlskrona", CITIZEN_REF, at("2026-11-20 15:00")).case_id
    run_tick(at("2026-11-20 15:05"))
    services.complete_and_move_on(rt.store, rt.rules, f"{case_id}.0", "held", at("2026-11-23 10:00"), "cw-01")
    with rt.store.transaction() as tx:
        [assessment] = tx.list_todos(TodoFilter(case_id=case_id))
    services.complete_and_move_on(
        rt.store, rt.rules, assessment.id, "completed", at("2026-11-24 10:00"), "cw-01", filled("completed")
    )

    after = run_tick(at("2026-11-24 10:01"))

    created = sum(run["letters"] for run in after.values() if "letters" in run)
    rendered = sum(run["letters_rendered"] for run in after.values() if "letters_rendered" in run)
    assert (created, rendered) == (0, 1)
    with rt.engine.connect() as conn:
        pending = conn.execute(select(t.letters.c.form).where(t.letters.c.rendered_at.is_(None))).scalars().all()
        [body] = conn.execute(select(t.letters.c.body).where(t.letters.c.form == "assessment_letter")).scalars()
    assert pending == [] and body and case_id in body


def test_flow_runs_carry_no_citizen_reference(flows_on: runtime.Runtime) -> None:
    from prefect.client.orchestration import get_client

    from flows.tick import run_tick

    services.record_application(flows_on.store, flows_on.rules, "vaxjo", CITIZEN_REF, at("2026-11-20 15:00"))
    run_tick(at("2026-11-20 15:05"))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200)
        task_runs = client.read_task_runs(limit=200)
    assert {r.flow_id for r in runs}
    for run in runs:
        assert CITIZEN_REF not in run.name and CITIZEN_REF not in repr(run.parameters)
    for task_run in task_runs:
        assert CITIZEN_REF not in task_run.name


def test_the_demo_runs_a_short_period_through_the_flows_and_its_summary_adds_up(flows_on: runtime.Runtime) -> None:
    from flows.demo import run_demo

    summary = run_demo("vaxjo", applications=6, seed=3, weeks=2, say=None)
    assert summary["cases"] == 6
    by_key = {r["deadline"]: r for r in summary["deadlines"]}
    assert by_key["first_meeting"]["created"] == 6
    for row in summary["deadlines"]:
        assert row["met"] + row["missed"] + row["ended"] + row["open"] == row["created"], row
    assert sum(summary["cases_by_stage"].values()) == 6
