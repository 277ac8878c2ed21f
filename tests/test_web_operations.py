"""The operations view and /health: flow health in counts and runs, never a citizen's data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from activation import services
from activation.adapters import tables as t
from activation.adapters.operations import error_class
from tests.conftest import at
from tests.web_support import STAFF, Web, make_web

NOW = at("2026-11-23 09:00")
RUN_ID = str(uuid.UUID(int=42))


@pytest.fixture
def web(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    w = make_web(database_url, NOW)
    w.settings.prefect_ui = "http://prefect.test:4200"
    yield w


def _prefect(handler_runs: list[dict[str, object]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/flow_runs/filter":
            query = json.loads(request.content)
            assert query["flow_runs"]["state"]["type"]["any_"] == ["FAILED", "CRASHED"]
            assert query["limit"] == 20
            return httpx.Response(200, json=handler_runs)
        if request.url.path == "/api/flows/filter":
            return httpx.Response(200, json=[{"id": "f-1", "name": "deadline-sweep"}])
        return httpx.Response(404)

    return httpx.MockTransport(handle)


FAILED_RUN: dict[str, object] = {
    "id": RUN_ID,
    "name": "deadline sweep 2026-11-23 08:55:00",
    "flow_id": "f-1",
    "state_type": "FAILED",
    "state_name": "Failed",
    "state": {"type": "FAILED", "name": "Failed", "message": "InputError: case c-secret01 is broken"},
    "start_time": "2026-11-23T07:55:00Z",
}


def _seed(web: Web) -> dict[str, str]:
    """Cases in two municipalities, one step parked with an error naming its case; return what is personal."""
    personal: dict[str, str] = {}
    for ref, municipality, caseworker in (
        ("ref-ops-alpha-19870101", "karlskrona", "cw-01"),
        ("ref-ops-beta-19900202", "karlskrona", "cw-02"),
        ("ref-ops-gamma-19750303", "vaxjo", "cw-vx"),
    ):
        recorded = services.record_application(
            web.rt.store, web.rt.rules, municipality, ref, NOW, caseworker=caseworker
        )
        personal[ref] = recorded.case_id
        personal[caseworker] = caseworker
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    parked = services.record_application(web.rt.store, web.rt.rules, "karlskrona", "ref-ops-parked-2001", NOW)
    personal["ref-ops-parked-2001"] = parked.case_id
    with web.rt.engine.begin() as conn:
        conn.execute(
            update(t.steps)
            .where(t.steps.c.case_id == parked.case_id)
            .values(failures=3, last_error=f"ConfigError: no rules for case {parked.case_id} (ref-ops-parked-2001)")
        )
    return personal


def test_the_operations_page_shows_the_backlog_parked_steps_and_failed_runs(web: Web) -> None:
    _seed(web)
    web.app.state.prefect_transport = _prefect([FAILED_RUN])
    web.clock.current = at("2026-12-10 09:00")  # reminders and escalations have come due, unswept
    page = web.client("operations").get("/operations")
    assert page.status_code == 200
    text = page.text
    # Municipalities by the names their configuration gives them.
    assert "<tr><td>Karlskrona kommun</td><td>" in text and "<tr><td>Växjö kommun</td><td>" in text
    assert "ConfigError" in text and "no rules for case" not in text
    assert f'href="http://prefect.test:4200/runs/flow-run/{RUN_ID}"' in text
    assert "deadline sweep 2026-11-23 08:55:00" in text and "deadline-sweep" in text
    assert 'href="http://prefect.test:4200/runs"' in text
    assert "c-secret01" not in text  # a run's state message is not shown: it may name a case


def test_the_operations_page_holds_no_citizen_reference_caseworker_or_case_id(web: Web) -> None:
    personal = _seed(web)
    web.app.state.prefect_transport = _prefect([FAILED_RUN])
    web.clock.current = at("2026-12-10 09:00")
    text = web.client("operations").get("/operations").text
    leaked = [value for value in personal.values() if value in text]
    leaked += [u.display_name for key, u in STAFF.items() if key != "operations" and u.display_name in text]
    assert leaked == []


def test_the_backlog_counts_due_alarms_unapplied_steps_and_unrendered_letters(web: Web) -> None:
    _seed(web)
    web.clock.current = at("2026-12-10 09:00")
    with web.rt.engine.connect() as conn:
        from activation.adapters.operations import flow_health

        health = flow_health(conn, web.clock.now())
    assert health.due_alarms > 0 and health.unrendered_letters == 3 and health.unapplied_steps == 0
    assert health.parked_steps == 1 and [g.count for g in health.parked] == [1]
    assert {m.municipality: m.unrendered_letters for m in health.by_municipality} == {"karlskrona": 2, "vaxjo": 1}
    assert health.last_sweep_at is None
    services.sweep(web.rt.store, web.clock.now())
    with web.rt.engine.connect() as conn:
        swept = flow_health(conn, web.clock.now())
    assert swept.due_alarms == 0 and swept.last_sweep_at == web.clock.now()


def test_when_prefect_is_not_reachable_the_page_says_so_instead_of_failing(web: Web) -> None:
    web.settings.prefect_ui = "http://127.0.0.1:9"  # nothing listens on the discard port
    page = web.client("operations").get("/operations")
    assert page.status_code == 200
    assert "Prefect API not reachable at http://127.0.0.1:9/api" in page.text


def test_prefect_api_url_from_the_environment_wins_over_the_ui_address(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api/")
    page = web.client("operations").get("/operations")
    assert "Prefect API not reachable at http://127.0.0.1:9/api " in page.text


def test_only_operations_staff_open_the_operations_page(web: Web) -> None:
    assert web.client("caseworker").get("/operations").status_code == 403
    assert web.client("manager").get("/operations").status_code == 403
    anonymous = web.client().get("/operations", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/sign-in?next=/operations"


def test_the_operations_page_has_no_inline_styles_or_scripts(web: Web) -> None:
    _seed(web)
    text = web.client("operations").get("/operations").text
    assert "<script" not in text and "style=" not in text and "<style" not in text


def test_health_answers_ok_without_sign_in_and_without_personal_data(web: Web) -> None:
    response = web.client().get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "last_sweep_at": None,
        "due_backlog": 0,
        "parked_steps": 0,
    }
    assert response.headers["cache-control"] == "no-store"


def test_health_is_degraded_while_steps_are_parked_and_shows_only_counts(web: Web) -> None:
    personal = _seed(web)
    response = web.client().get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["parked_steps"] == 1 and body["due_backlog"] == 3
    assert not any(value in response.text for value in personal.values())


def test_health_is_degraded_when_due_work_waits_longer_than_two_sweep_intervals(web: Web) -> None:
    services.record_application(web.rt.store, web.rt.rules, "karlskrona", "ref-waiting", NOW)
    assert web.client().get("/health").json()["status"] == "ok"  # just recorded: the flows have time
    web.clock.current = at("2026-11-23 09:11")
    body = web.client().get("/health").json()
    assert body["status"] == "degraded" and body["due_backlog"] == 1


def test_health_answers_503_when_the_database_does_not_answer(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("web.operations.flow_health", broken)
    response = web.client().get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "down" and response.json()["database"] == "unreachable"


def test_only_the_class_of_a_steps_error_is_shown() -> None:
    assert error_class("ConfigError: unknown municipality 'x' for c-abc") == "ConfigError"
    assert error_class("c-abc failed badly") == "unknown"
    assert error_class(None) == "unknown"
