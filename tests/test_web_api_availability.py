"""Meeting hours over the API: the caseworker and their team lead set them; others are refused and audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from activation import services
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.web_support import Web, make_web

NOW = at("2026-11-23 09:00")  # a Monday
HOURS = {"hours": {"mon": "13:00-16:00", "tue": "09:00-12:00"}, "slot_minutes": 60, "max_per_day": 3}


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _headers(web: Web, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {web.token(who)}"}


def test_the_team_lead_sets_the_hours_the_caseworker_reads_them_and_the_slot_follows(web: Web) -> None:
    client = web.client()
    url = "/api/v1/caseworkers/cw-01/availability"
    put = client.put(url, json=HOURS, headers=_headers(web, "team_lead"))
    assert put.status_code == 200, put.text
    away = client.post(
        "/api/v1/caseworkers/cw-01/absences",
        json={"kind": "sickness", "first": "2026-11-24"},
        headers=_headers(web, "caseworker"),
    )
    assert away.status_code == 201 and away.json()["last"] == "2026-11-24"
    got = client.get(url, headers=_headers(web, "caseworker")).json()
    assert got["hours"] == HOURS["hours"] and got["max_per_day"] == 3
    assert [(a["kind"], a["first"]) for a in got["absences"]] == [("sickness", "2026-11-24")]
    case_id = services.record_application(
        web.rt.store, web.rt.rules, "karlskrona", "api-slot", NOW, caseworker="cw-01"
    ).case_id
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    slot = client.get(f"/api/v1/todos/{case_id}.0/proposed-slot", headers=_headers(web, "caseworker")).json()
    # Due 48 hours on, Wednesday 09:00; Monday 13:00 is cw-01's first meeting hour.
    assert (slot["username"], slot["starts_at"], slot["ends_at"]) == (
        "cw-01",
        "2026-11-23T13:00:00+01:00",
        "2026-11-23T14:00:00+01:00",
    )
    removed = client.delete(
        f"/api/v1/caseworkers/cw-01/absences/{away.json()['id']}", headers=_headers(web, "caseworker")
    )
    assert removed.status_code == 204
    assert Accounts(web.rt.engine).audit_count("set_meeting_hours") == 1


def test_bad_hours_name_the_field_and_others_are_refused_and_audited(web: Web) -> None:
    client = web.client()
    url = "/api/v1/caseworkers/cw-01/availability"
    bad = client.put(url, json={"hours": {"mon": "16:00-09:00"}}, headers=_headers(web, "caseworker"))
    assert bad.status_code == 422 and "hours" in bad.json()["fields"]
    teammate = client.put(url, json=HOURS, headers=_headers(web, "caseworker2"))
    outsider = client.get(url, headers=_headers(web, "outsider"))
    assert teammate.status_code == 403 and outsider.status_code == 404
    assert client.get("/api/v1/caseworkers/cw-99/availability", headers=_headers(web, "team_lead")).status_code == 404
    assert Accounts(web.rt.engine).audit_count("denied") == 2
