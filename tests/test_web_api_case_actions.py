"""The REST API acts on a case like its page: book, pause, resume, record an event, start, withdraw."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from activation import services
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.web_support import Web, audit_log_unavailable, make_web

NOW = at("2026-11-23 09:00")
OPERATIONS = {
    ("/todos/{todo}/book", "bookMeeting"),
    ("/cases/{case}/pauses", "pauseCase"),
    ("/cases/{case}/resume", "resumeCase"),
    ("/cases/{case}/events", "recordEvent"),
    ("/cases/{case}/start", "startBeside"),
    ("/cases/{case}/withdraw", "withdrawCase"),
}


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


class Api:
    """A client of the API acting with one user's bearer token."""

    def __init__(self, web: Web, who: str) -> None:
        self.client: TestClient = web.client()
        self.headers = {"Authorization": f"Bearer {web.token(who)}"}

    def post(self, path: str, body: Any, key: str | None = None) -> Any:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        return self.client.post(f"/api/v1{path}", json=body, headers=headers)

    def case(self, case_id: str) -> Any:
        return self.client.get(f"/api/v1/cases/{case_id}", headers=self.headers).json()


def _case_for(web: Web, ref: str) -> str:
    recorded = services.record_application(web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker="cw-01")
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return recorded.case_id


def _audited(web: Web, action: str, case_id: str) -> int:
    return Accounts(web.rt.engine).audit_count(action, case_id)


def test_a_meeting_is_booked_inside_opening_hours_or_refused_with_the_field(web: Web) -> None:
    case_id = _case_for(web, "api-book")
    api = Api(web, "caseworker")
    booked = api.post(f"/todos/{case_id}.0/book", {"starts_at": "2026-11-24T10:00:00+01:00", "minutes": 45})
    assert booked.status_code == 200, booked.text
    assert booked.json()["after_deadline"] is False and booked.json()["letter_id"].startswith(f"{case_id}.0:booked:")
    closed = api.post(f"/todos/{case_id}.0/book", {"starts_at": "2026-11-28T10:00:00+01:00"})
    assert closed.status_code == 422 and "starts_at" in closed.json()["fields"]
    assert _audited(web, "book_meeting", case_id) == 1


def test_a_pause_and_its_end_move_the_deadline_and_are_audited(web: Web) -> None:
    case_id = _case_for(web, "api-pause")
    api = Api(web, "caseworker")
    before = api.case(case_id)["open_todos"][0]["due_at"]
    web.clock.current = at("2026-11-23 10:30")
    paused = api.post(f"/cases/{case_id}/pauses", {"basis": "sickness", "starts_at": "2026-11-23T10:00:00+01:00"})
    assert paused.status_code == 201, paused.text
    assert {d["deadline_id"]: d["due_after"] for d in paused.json()["deadlines"]}[f"{case_id}.0"] is None
    overlapping = api.post(f"/cases/{case_id}/pauses", {"basis": "exemption", "starts_at": "2026-11-23T10:15:00+01:00"})
    assert overlapping.status_code == 409
    web.clock.current = at("2026-11-26 10:00")
    api = Api(web, "caseworker")
    resumed = api.post(f"/cases/{case_id}/resume", {"ended_at": "2026-11-26T09:00:00+01:00"})
    assert resumed.status_code == 200, resumed.text
    # 47 of the 48 hours were left at 10:00 Monday; from Thursday 09:00 they end Saturday 08:00, when the
    # office is closed: the end of Monday's opening, 16:30.
    after = api.case(case_id)["open_todos"][0]["due_at"]
    assert before == "2026-11-25T08:00:00Z" and after == "2026-11-30T15:30:00Z"
    assert _audited(web, "pause", case_id) == 1 and _audited(web, "resume", case_id) == 1


def test_an_event_closes_the_overdue_period_as_met_and_the_same_one_again_changes_nothing(web: Web) -> None:
    case_id = _case_for(web, "api-event")
    web.clock.current = at("2027-01-08 10:00")
    api = Api(web, "caseworker")
    body = {"kind": "job_conversation", "occurred_at": "2026-12-28T10:00:00+01:00", "note": "CV"}
    first = api.post(f"/cases/{case_id}/events", body)
    assert first.status_code == 201, first.text
    assert first.json()["closed"] == [
        {"deadline_id": f"{case_id}.ekonomiskt_bistand.follow_up_meetings.0", "status": "met"}
    ]
    assert first.json()["opened"][0]["due_at"] == "2027-02-08T10:00:00+01:00"  # 6 weeks on
    again = api.post(f"/cases/{case_id}/events", body)
    assert again.status_code == 200 and again.json()["repeated"] is True and again.json()["closed"] == []
    with_key = api.post(f"/cases/{case_id}/events", {"kind": "offer", "key": "ext-1"})
    reused = api.post(f"/cases/{case_id}/events", {"kind": "meeting", "key": "ext-1"})
    assert with_key.status_code == 201 and reused.status_code == 409
    assert _audited(web, "record_event", case_id) == 2


def test_health_information_starts_and_a_case_is_withdrawn_only_when_confirmed(web: Web) -> None:
    case_id = _case_for(web, "api-withdraw")
    api = Api(web, "team_lead")
    started = api.post(f"/cases/{case_id}/start", {"what": "health_information"})
    assert started.status_code == 201 and started.json()["kind"] == "health_consent"
    assert api.post(f"/cases/{case_id}/withdraw", {}).status_code == 422
    assert api.post(f"/cases/{case_id}/withdraw", {"confirm": False}).status_code == 422
    withdrawn = api.post(f"/cases/{case_id}/withdraw", {"confirm": True})
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["case"]["status"] == "closed" and withdrawn.json()["todo"]["outcome"] == "withdrawn"
    assert api.post(f"/cases/{case_id}/withdraw", {"confirm": True}).status_code == 409
    assert _audited(web, "start_beside", case_id) == 1 and _audited(web, "withdraw", case_id) == 1


def test_another_teams_user_gets_404_before_the_body_is_read_and_a_manager_403(web: Web) -> None:
    case_id = _case_for(web, "api-outside")
    outsider, manager = Api(web, "outsider"), Api(web, "manager")
    for path, _operation in OPERATIONS:
        url = path.format(case=case_id, todo=f"{case_id}.0")
        refused = outsider.post(url, {"not": "a valid body"})
        assert refused.status_code == 404, url
        assert "api-outside" not in refused.text
        assert manager.post(url, {"not": "a valid body"}).status_code == 403, url
    assert _audited(web, "denied", case_id) == len(OPERATIONS)


def test_the_spec_documents_each_operation_with_examples_and_its_error_answers(web: Web) -> None:
    spec = web.client().get("/openapi.json").json()
    for path, operation_id in OPERATIONS:
        spec_path = "/api/v1" + path.replace("{case}", "{case_id}").replace("{todo}", "{todo_id}")
        operation = spec["paths"][spec_path]["post"]
        assert operation["operationId"] == operation_id
        assert {"401", "403", "404", "409", "422"} <= set(operation["responses"])
        schema = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert spec["components"]["schemas"][schema].get("examples"), schema


# Each operation: where it posts and what, and the rows it writes beside its audit line.
WRITES = {
    "book_meeting": ("/todos/{case}.0/book", {"starts_at": "2026-12-02T10:00:00+01:00"}, t.letters),
    "pause": ("/cases/{case}/pauses", {"basis": "sickness", "starts_at": "2026-12-01T09:00:00+01:00"}, t.pauses),
    "record_event": (
        "/cases/{case}/events",
        {"kind": "offer", "occurred_at": "2026-12-01T09:00:00+01:00"},
        t.case_events,
    ),
    "start_beside": ("/cases/{case}/start", {"what": "coordinated_plan"}, t.todos),
    "withdraw": ("/cases/{case}/withdraw", {"confirm": True}, t.steps),
}


@pytest.mark.parametrize("action", sorted(WRITES))
def test_an_operation_and_its_audit_line_are_written_together_or_not_at_all(
    web: Web, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case_for(web, f"api-together-{action}")
    path, body, table = WRITES[action]
    web.clock.current = at("2026-12-01 10:00")
    api = Api(web, "caseworker")

    def written() -> tuple[int, int, str]:
        with web.rt.engine.connect() as conn:
            rows = conn.execute(select(func.count()).where(table.c.case_id == case_id)).scalar_one()
            status = conn.execute(select(t.cases.c.status).where(t.cases.c.id == case_id)).scalar_one()
        return rows, _audited(web, action, case_id), status

    before = written()
    audit_log_unavailable(monkeypatch)
    with pytest.raises(RuntimeError, match="audit log"):
        api.post(path.format(case=case_id), body)
    assert written() == before
    monkeypatch.undo()
    answer = api.post(path.format(case=case_id), body)
    assert answer.status_code in (200, 201), answer.text
    after = written()
    assert after[0] > before[0] and after[1] == 1


def test_a_booked_meeting_is_cancelled_once_and_an_outsider_is_refused_and_audited(web: Web) -> None:
    case_id = _case_for(web, "api-cancel")
    api, outsider = Api(web, "caseworker"), Api(web, "outsider")
    assert api.post(f"/todos/{case_id}.0/book/cancel", {}).status_code == 409  # nothing booked yet
    api.post(f"/todos/{case_id}.0/book", {"starts_at": "2026-11-24T10:00:00+01:00", "minutes": 45})
    refused = outsider.post(f"/todos/{case_id}.0/book/cancel", {})
    assert refused.status_code == 404 and _audited(web, "denied", case_id) == 1
    cancelled = api.post(f"/todos/{case_id}.0/book/cancel", {})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["sequence"] == 1 and cancelled.json()["starts_at"] == "2026-11-24T10:00:00+01:00"
    assert api.post(f"/todos/{case_id}.0/book/cancel", {}).status_code == 409
    assert _audited(web, "cancel_meeting", case_id) == 1
