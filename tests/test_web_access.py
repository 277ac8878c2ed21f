"""Every refused attempt is audited, and the doors a stranger could push are closed (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from activation import services
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.web_support import PASSWORD, STAFF, Web, csrf_of, make_web

NOW = at("2026-11-23 09:00")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _case_for(web: Web, ref: str) -> str:
    opened = services.open_case(web.rt.store, web.rt.rules, "karlskrona", ref, NOW, NOW, caseworker="cw-01")
    return opened.case_id


def _denied(web: Web, municipality: str = "karlskrona") -> list[tuple[Any, ...]]:
    entries = Accounts(web.rt.engine).audit_entries(municipality)
    return [(e["username"], e["case_id"], e["via"], e["detail"]) for e in entries if e["action"] == "denied"]


def test_another_municipalitys_case_page_is_not_found_and_its_managers_see_the_attempt(web: Web) -> None:
    case_id = _case_for(web, "ref-1")
    assert web.client("outsider").get(f"/cases/{case_id}").status_code == 404
    assert _denied(web) == [("cw-vx", case_id, "web", f"GET /cases/{case_id}: not the user's to see")]
    audit_page = web.client("manager").get("/console/audit")
    assert audit_page.status_code == 200 and "denied" in audit_page.text.lower() and "cw-vx" in audit_page.text


def test_a_refused_api_read_and_complete_are_audited_as_the_api(web: Web) -> None:
    case_id = _case_for(web, "ref-1")
    outsider = TestClient(web.app, base_url="https://testserver")
    headers = {"Authorization": f"Bearer {web.token('outsider')}"}
    assert outsider.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 404
    done = outsider.post(f"/api/v1/todos/{case_id}.0/complete", json={"outcome": "held"}, headers=headers)
    missing = outsider.post("/api/v1/todos/c-nothing.0/complete", json={"outcome": "held"}, headers=headers)
    # Another team's to-do and one that does not exist answer alike: nothing tells them apart.
    assert (
        (done.status_code, done.json()["fields"])
        == (missing.status_code, missing.json()["fields"])
        == (
            404,
            {"todo_id": "not found"},
        )
    )
    assert [(who, case, via) for who, case, via, _ in _denied(web)] == [
        ("cw-vx", case_id, "api"),
        ("cw-vx", case_id, "api"),
    ]


def test_completing_a_colleagues_todo_is_forbidden_and_audited(web: Web) -> None:
    case_id = _case_for(web, "ref-1")
    client = web.client("caseworker2")
    page = client.get(f"/todos/{case_id}.0")
    refused = client.post(f"/todos/{case_id}.0", data={"csrf": csrf_of(page.text), "outcome": "held"})
    assert refused.status_code == 403
    [(who, _case, via, detail)] = _denied(web)
    assert (who, via) == ("cw-02", "web") and "belongs to someone else" in detail


def test_a_page_the_role_may_not_open_is_refused_and_audited(web: Web) -> None:
    assert web.client("caseworker").get("/console").status_code == 403
    assert [(who, via) for who, _, via, _ in _denied(web)] == [("cw-01", "web")]


def test_a_sign_in_posted_from_another_site_signs_nobody_in(web: Web) -> None:
    client = TestClient(web.app, base_url="https://testserver")
    response = client.post(
        "/sign-in",
        data={"username": "cw-01", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403 and "activation_session" not in response.cookies
    same_site = client.post(
        "/sign-in",
        data={"username": "cw-01", "password": PASSWORD},
        headers={"Origin": "https://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_a_browser_that_says_origin_null_is_believed_only_by_its_sec_fetch_site(web: Web) -> None:
    # Our Referrer-Policy makes browsers send "Origin: null" even for our own sign-in form.
    client = TestClient(web.app, base_url="https://testserver")
    form = {"username": "cw-01", "password": PASSWORD}
    forged = client.post("/sign-in", data=form, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "activation_session" not in forged.cookies
    assert client.post("/sign-in", data=form, headers={"Origin": "null"}).status_code == 403
    own = client.post(
        "/sign-in", data=form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}, follow_redirects=False
    )
    assert own.status_code == 303


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(web: Web) -> None:
    client = web.client("caseworker")
    assert client.get("/inbox", follow_redirects=False).status_code == 200
    Accounts(web.rt.engine).set_password("cw-01", "a-brand-new-password")
    assert client.get("/inbox", follow_redirects=False).status_code == 303  # back to the sign-in page


def test_guessing_from_one_address_is_throttled_without_locking_the_people_guessed_at(web: Web) -> None:
    client = TestClient(web.app, base_url="https://testserver")
    for n in range(10):  # ten different names: no single account reaches its own lock (5 failures)
        wrong = client.post("/sign-in", data={"username": f"someone-{n}", "password": "guess-guess-guess"})
        assert wrong.status_code == 401
    throttled = client.post("/sign-in", data={"username": "cw-01", "password": PASSWORD}, follow_redirects=False)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # cw-01 itself is not locked: from another address the right password works at once.
    elsewhere = TestClient(web.app, base_url="https://testserver", client=("10.0.0.2", 50000))
    signed_in = elsewhere.post("/sign-in", data={"username": "cw-01", "password": PASSWORD}, follow_redirects=False)
    assert signed_in.status_code == 303


def test_an_unknown_rule_version_is_not_found_with_the_security_headers(web: Web) -> None:
    client = web.client("manager")
    csrf = csrf_of(client.get("/console/versions").text)
    response = client.post("/console/versions/karlskrona-1999.9/apply", data={"csrf": csrf})
    assert response.status_code == 404
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers


def test_a_server_error_carries_the_security_headers_and_no_traceback(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(web.app, base_url="https://testserver", raise_server_exceptions=False)
    client.post("/sign-in", data={"username": STAFF["caseworker"].username, "password": PASSWORD})

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("web.pages.services.complete_for", broken)
    case_id = _case_for(web, "ref-1")
    csrf = csrf_of(client.get(f"/todos/{case_id}.0").text)
    response = client.post(f"/todos/{case_id}.0", data={"csrf": csrf, "outcome": "held"})
    assert response.status_code == 500
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in response.text and "ZeroDivisionError" not in response.text
