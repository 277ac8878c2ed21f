"""The REST API: bearer tokens, recording applications, listing and completing to-dos, reading cases, idempotency."""

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
from tests.forms_filled import ASSESSMENT, PLACEMENT, PLAN
from tests.web_support import Web, audit_log_unavailable, make_web

NOW = at("2026-11-23 09:00")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


class Api:
    """A client of the API acting with one user's bearer token."""

    def __init__(self, web: Web, who: str | None) -> None:
        self.client: TestClient = web.client()
        self.headers = {"Authorization": f"Bearer {web.token(who)}"} if who else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params=params, headers=self.headers)

    def post(self, path: str, body: Any, key: str | None = None) -> Any:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        return self.client.post(f"/api/v1{path}", json=body, headers=headers)


def _case_for(web: Web, ref: str, caseworker: str | None = "cw-01", municipality: str = "karlskrona") -> str:
    recorded = services.record_application(web.rt.store, web.rt.rules, municipality, ref, NOW, caseworker=caseworker)
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return recorded.case_id


def _cases(web: Web) -> int:
    with web.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.cases)).scalar_one())


def _todo_status(web: Web, todo_id: str) -> str:
    with web.rt.store.transaction() as tx:
        todo = tx.todo(todo_id)
    assert todo is not None
    return todo.status


APPLICATION = {"municipality": "karlskrona", "citizen_ref": "ref-api-1", "received_at": "2026-11-23T08:30:00+01:00"}


# -- recording applications -------------------------------------------------------------------------


def test_an_integration_records_an_application_and_gets_the_new_case_id(web: Web) -> None:
    response = Api(web, "caseworker").post("/applications", APPLICATION)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] is True and body["municipality"] == "karlskrona"
    with web.rt.store.transaction() as tx:
        case = tx.cases([body["case_id"]])[body["case_id"]]
    # The first-meeting to-do was written with the case, in the same transaction: no flow run needed.
    assert case.citizen_ref == "ref-api-1" and case.stage == "first_meeting"
    todos = Api(web, "caseworker").get("/todos", case_id=body["case_id"]).json()["items"]
    assert [x["kind"] for x in todos] == ["first_meeting"]
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=body["case_id"])
    assert [(e["username"], e["action"], e["via"]) for e in entries] == [("cw-01", "record_application", "api")]


def test_recording_the_same_citizen_again_answers_200_with_the_case_already_open(web: Web) -> None:
    api = Api(web, "caseworker")
    first = api.post("/applications", APPLICATION).json()
    again = api.post("/applications", APPLICATION)
    assert again.status_code == 200
    assert again.json() == {**first, "created": False}


def test_a_caseworker_cannot_record_an_application_in_another_municipality(web: Web) -> None:
    response = Api(web, "caseworker").post("/applications", {**APPLICATION, "municipality": "vaxjo"})
    assert response.status_code == 403
    assert _cases(web) == 0


def test_an_unknown_team_or_a_caseworker_of_another_team_is_refused_field_by_field(web: Web) -> None:
    api = Api(web, "caseworker")
    team = api.post("/applications", {**APPLICATION, "team": "no-such-team"})
    assert team.status_code == 422 and set(team.json()["fields"]) == {"team"}
    caseworker = api.post("/applications", {**APPLICATION, "caseworker": "cw-vx"})
    assert caseworker.status_code == 422 and set(caseworker.json()["fields"]) == {"caseworker"}
    assert _cases(web) == 0


def test_malformed_application_fields_are_refused_with_422_and_the_problem_of_each(web: Web) -> None:
    body = {"municipality": "Karlskrona!", "citizen_ref": "x" * 129, "received_at": "2026-11-23T08:30:00", "age": 3}
    response = Api(web, "caseworker").post("/applications", body)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"municipality", "citizen_ref", "received_at", "age"}


def test_an_application_from_the_future_is_refused(web: Web) -> None:
    response = Api(web, "caseworker").post("/applications", {**APPLICATION, "received_at": "2027-01-01T00:00:00Z"})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"received_at"}


def test_a_body_that_is_not_json_gets_422_not_a_server_error(web: Web) -> None:
    api = Api(web, "caseworker")
    response = api.client.post(
        "/api/v1/applications", content=b"{not json", headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "fields" in response.json()


# -- idempotency ----------------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_opens_one_case_and_replays_the_first_answer(web: Web) -> None:
    api = Api(web, "caseworker")
    first = api.post("/applications", APPLICATION, key="app-0001")
    second = api.post("/applications", APPLICATION, key="app-0001")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()  # created: true again, although the case exists by now
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _cases(web) == 1
    assert Accounts(web.rt.engine).audit_count("record_application") == 1  # the replay did nothing


def test_the_same_idempotency_key_with_another_body_is_refused_with_409(web: Web) -> None:
    api = Api(web, "caseworker")
    assert api.post("/applications", APPLICATION, key="app-0002").status_code == 201
    other = api.post("/applications", {**APPLICATION, "citizen_ref": "ref-api-2"}, key="app-0002")
    assert other.status_code == 409
    assert _cases(web) == 1


def test_the_same_body_in_another_key_order_counts_as_the_same_request(web: Web) -> None:
    api = Api(web, "caseworker")
    api.post("/applications", APPLICATION, key="app-0003")
    reordered = dict(reversed(list(APPLICATION.items())))
    assert api.post("/applications", reordered, key="app-0003").headers["Idempotent-Replayed"] == "true"


def test_idempotency_keys_belong_to_one_user(web: Web) -> None:
    Api(web, "caseworker").post("/applications", APPLICATION, key="shared-key")
    other = Api(web, "caseworker2").post("/applications", {**APPLICATION, "citizen_ref": "ref-x"}, key="shared-key")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers


def test_a_refused_input_is_replayed_but_a_forbidden_request_is_not_remembered(web: Web) -> None:
    api = Api(web, "caseworker")
    bad = {**APPLICATION, "team": "no-such-team"}
    assert api.post("/applications", bad, key="bad-0001").status_code == 422
    replay = api.post("/applications", bad, key="bad-0001")
    assert replay.status_code == 422 and replay.headers["Idempotent-Replayed"] == "true"
    elsewhere = {**APPLICATION, "municipality": "vaxjo"}
    assert api.post("/applications", elsewhere, key="bad-0002").status_code == 403
    assert Accounts(web.rt.engine).stored_response("cw-01", "bad-0002") is None


def test_an_idempotency_key_longer_than_128_characters_is_refused_with_422(web: Web) -> None:
    response = Api(web, "caseworker").post("/applications", APPLICATION, key="k" * 129)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"Idempotency-Key"}
    assert _cases(web) == 0


def test_completing_a_to_do_twice_with_one_key_completes_it_once(web: Web) -> None:
    case_id = _case_for(web, "ref-twice")
    api = Api(web, "caseworker")
    first = api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}, key="done-0001")
    second = api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}, key="done-0001")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second.headers["Idempotent-Replayed"] == "true"
    assert Accounts(web.rt.engine).audit_count("complete_todo", case_id) == 1


# -- who may call ---------------------------------------------------------------------------------


def test_every_operation_without_a_bearer_token_gets_401(web: Web) -> None:
    case_id = _case_for(web, "ref-anon")
    anonymous = Api(web, None)
    answers = [
        anonymous.post("/applications", APPLICATION),
        anonymous.get("/todos"),
        anonymous.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}),
        anonymous.get(f"/cases/{case_id}"),
    ]
    assert [r.status_code for r in answers] == [401] * 4
    assert _todo_status(web, f"{case_id}.0") == "open"


def test_a_wrong_token_gets_401_and_a_session_cookie_does_not_sign_in_to_the_api(web: Web) -> None:
    api = Api(web, "caseworker")
    api.headers = {"Authorization": "Bearer act_not-a-real-token"}
    assert api.get("/todos").status_code == 401
    signed_in = web.client("caseworker")  # a browser session, with its cookie
    assert signed_in.get("/api/v1/todos").status_code == 401


def test_operations_staff_get_403_from_every_api_operation(web: Web) -> None:
    case_id = _case_for(web, "ref-ops")
    ops = Api(web, "operations")
    answers = [
        ops.post("/applications", APPLICATION, key="ops-0001"),
        ops.get("/todos"),
        ops.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}),
        ops.get(f"/cases/{case_id}"),
    ]
    assert [r.status_code for r in answers] == [403] * 4
    assert "ref-ops" not in "".join(r.text for r in answers)


# -- to-dos ---------------------------------------------------------------------------------------


def test_a_caseworker_lists_the_teams_open_to_dos_and_not_another_municipalitys(web: Web) -> None:
    mine = _case_for(web, "ref-mine")
    queued = _case_for(web, "ref-queued", caseworker=None)
    elsewhere = _case_for(web, "ref-vx", caseworker="cw-vx", municipality="vaxjo")
    listed = Api(web, "caseworker").get("/todos").json()
    assert {x["case_id"] for x in listed["items"]} == {mine, queued}
    assert listed["count"] == 2
    only_mine = Api(web, "caseworker").get("/todos", mine=True).json()
    assert [x["id"] for x in only_mine["items"]] == [f"{mine}.0"]
    outsider = Api(web, "outsider").get("/todos").json()
    assert [x["case_id"] for x in outsider["items"]] == [elsewhere]


def test_a_manager_lists_the_municipalitys_to_dos_and_filters_by_case_and_overdue(web: Web) -> None:
    first = _case_for(web, "ref-m1")
    _case_for(web, "ref-m2", caseworker=None)
    manager = Api(web, "manager")
    assert manager.get("/todos").json()["count"] == 2
    assert [x["case_id"] for x in manager.get("/todos", case_id=first).json()["items"]] == [first]
    assert manager.get("/todos", overdue=True).json()["count"] == 0
    web.clock.current = at("2026-12-30 09:00")
    late = manager.get("/todos", overdue=True).json()
    assert late["count"] == 2 and all(x["overdue"] for x in late["items"])


def test_a_limit_outside_1_to_500_is_refused(web: Web) -> None:
    api = Api(web, "caseworker")
    assert api.get("/todos", limit=0).status_code == 422
    response = api.get("/todos", limit=501)
    assert response.status_code == 422 and set(response.json()["fields"]) == {"limit"}


def test_completing_the_first_meeting_moves_the_case_on_to_the_assessment(web: Web) -> None:
    case_id = _case_for(web, "ref-held")
    response = Api(web, "caseworker").post(f"/todos/{case_id}.0/complete", {"outcome": "held"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["todo"]["status"] == "done" and body["todo"]["outcome"] == "held"
    assert body["case"]["stage"] == "assessment"
    assert [x["title"] for x in body["open_todos"]] == ["Complete the holistic assessment"]
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=case_id)
    assert [(e["action"], e["via"]) for e in entries] == [("complete_todo", "api")]


def test_a_completion_and_its_audit_line_are_written_together_or_not_at_all(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case_for(web, "ref-held-together")
    api = Api(web, "caseworker")
    audit_log_unavailable(monkeypatch)
    with pytest.raises(RuntimeError, match="audit log"):
        api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"})
    assert _todo_status(web, f"{case_id}.0") == "open"  # the outcome went with the audit line
    monkeypatch.undo()
    assert api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}).status_code == 200
    assert _todo_status(web, f"{case_id}.0") == "done"
    assert Accounts(web.rt.engine).audit_count("complete_todo", case_id) == 1


def test_bad_assessment_data_is_refused_with_422_and_the_problem_of_each_field(web: Web) -> None:
    case_id = _case_for(web, "ref-assess")
    api = Api(web, "caseworker")
    api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"})
    assessment = {"outcome": "completed", "data": {"barriers": ["gambling"], "health": "Back pain"}}
    response = api.post(f"/todos/{case_id}.1/complete", assessment)
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert "data.capacity_band" in fields and any(k.startswith("data.barriers") for k in fields)
    assert _todo_status(web, f"{case_id}.1") == "open"
    good = {"outcome": "completed", "data": {"capacity_band": "26-50", "barriers": ["housing"]}}
    assert api.post(f"/todos/{case_id}.1/complete", good).status_code == 200


def test_dates_far_outside_the_present_are_refused_before_anything_is_written(web: Web) -> None:
    # A placement ending in year 9999 once passed validation and overflowed the calendar arithmetic.
    case_id = _case_for(web, "ref-dates")
    api = Api(web, "caseworker")
    plan = {**PLAN, "activities": [{**PLAN["activities"][0], "ends_on": "9999-12-31"}]}
    for todo, outcome, data in (("0", "held", None), ("1", "completed", ASSESSMENT)):
        api.post(f"/todos/{case_id}.{todo}/complete", {"outcome": outcome, "data": data})
    bad_plan = api.post(f"/todos/{case_id}.2/complete", {"outcome": "signed", "data": plan})
    assert bad_plan.status_code == 422 and set(bad_plan.json()["fields"]) == {"data.activities.0.ends_on"}
    assert api.post(f"/todos/{case_id}.2/complete", {"outcome": "signed", "data": PLAN}).status_code == 200
    placement = {**PLACEMENT, "starts_on": "0001-01-01", "ends_on": "9999-12-31"}
    response = api.post(f"/todos/{case_id}.3/complete", {"outcome": "started", "data": placement})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"data.starts_on", "data.ends_on"}
    assert _todo_status(web, f"{case_id}.3") == "open"


def test_an_outcome_the_to_do_does_not_accept_is_refused_on_the_outcome_field(web: Web) -> None:
    case_id = _case_for(web, "ref-outcome")
    response = Api(web, "caseworker").post(f"/todos/{case_id}.0/complete", {"outcome": "signed"})
    assert response.status_code == 422 and set(response.json()["fields"]) == {"outcome"}


def test_a_caseworker_cannot_complete_a_colleagues_to_do(web: Web) -> None:
    case_id = _case_for(web, "ref-colleague")
    response = Api(web, "caseworker2").post(f"/todos/{case_id}.0/complete", {"outcome": "held"})
    assert response.status_code == 403
    assert _todo_status(web, f"{case_id}.0") == "open"


def test_a_to_do_of_another_municipality_is_not_found(web: Web) -> None:
    case_id = _case_for(web, "ref-far")
    outsider = Api(web, "outsider")
    assert outsider.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}).status_code == 404
    assert outsider.post("/todos/c-nothing.0/complete", {"outcome": "held"}).status_code == 404
    assert _todo_status(web, f"{case_id}.0") == "open"


def test_completing_a_done_to_do_with_another_outcome_is_a_conflict(web: Web) -> None:
    case_id = _case_for(web, "ref-conflict")
    api = Api(web, "caseworker")
    assert api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}).status_code == 200
    assert api.post(f"/todos/{case_id}.0/complete", {"outcome": "held"}).status_code == 200  # a retry
    assert api.post(f"/todos/{case_id}.0/complete", {"outcome": "no_show"}).status_code == 409


def test_a_caseworker_working_a_queued_to_do_becomes_responsible_for_the_case(web: Web) -> None:
    case_id = _case_for(web, "ref-queue", caseworker=None)
    assert Api(web, "caseworker").post(f"/todos/{case_id}.0/complete", {"outcome": "held"}).status_code == 200
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].caseworker == "cw-01"


# -- cases ----------------------------------------------------------------------------------------


def test_reading_a_case_shows_its_open_to_dos_deadlines_with_their_explanation_and_pauses(web: Web) -> None:
    case_id = _case_for(web, "ref-read")
    response = Api(web, "caseworker").get(f"/cases/{case_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["case"]["id"] == case_id and body["case"]["citizen_ref"] == "ref-read"
    assert [x["id"] for x in body["open_todos"]] == [f"{case_id}.0"]
    assert body["open_deadlines"] and all(d["explanation"] for d in body["open_deadlines"])
    assert body["pauses"] == []


def test_every_read_of_a_case_through_the_api_is_written_to_the_audit_log(web: Web) -> None:
    case_id = _case_for(web, "ref-audit")
    api = Api(web, "manager")
    api.get(f"/cases/{case_id}")
    api.get(f"/cases/{case_id}")
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=case_id)
    assert [(e["username"], e["action"], e["via"]) for e in entries] == [("mgr-01", "view_case", "api")] * 2


def test_a_case_of_another_municipality_looks_the_same_as_one_that_does_not_exist(web: Web) -> None:
    case_id = _case_for(web, "ref-hidden")
    outsider = Api(web, "outsider")
    hidden, missing = outsider.get(f"/cases/{case_id}"), outsider.get("/cases/c-nothing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(case_id, "X") == missing.json()["detail"].replace("c-nothing", "X")
    assert Accounts(web.rt.engine).audit_count("view_case") == 0


# -- the spec -------------------------------------------------------------------------------------


def test_the_openapi_spec_declares_bearer_auth_and_the_error_answers(web: Web) -> None:
    spec = web.client().get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerToken"]["description"],
    }
    complete = spec["paths"]["/api/v1/todos/{todo_id}/complete"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(complete["responses"])
    assert complete["security"] == [{"bearerToken": []}]
    assert any(p["name"] == "Idempotency-Key" for p in complete["parameters"])
    assert all(op.get("summary") and op.get("tags") for path in spec["paths"].values() for op in path.values())
    # Pages are not part of the API.
    assert not any(path.startswith(("/inbox", "/cases", "/operations")) for path in spec["paths"])
