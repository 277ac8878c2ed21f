"""Search: a case by its exact id or citizen reference, within the user's access only, every search audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from activation import services
from activation.access import User
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.i18n_support import visible_text
from tests.web_support import PASSWORD, Web, make_web

NOW = at("2026-11-23 09:00")
# Borås has two teams: a caseworker of one must not find the other's cases.
BORAS = {
    "economy": User("bo-eb", "Borås Economy", "caseworker", "boras", "ekonomiskt-bistand", "en"),
    "jobs": User("bo-jobb", "Borås Jobs", "caseworker", "boras", "jobb-boras", "en"),
    "manager": User("bo-mgr", "Borås Manager", "manager", "boras", language="en"),
}


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    accounts = Accounts(w.rt.engine)
    for user in BORAS.values():
        accounts.add_user(user, PASSWORD, NOW)
    yield w


def _case(web: Web, municipality: str, ref: str, team: str | None = None) -> str:
    case_id = services.record_application(web.rt.store, web.rt.rules, municipality, ref, NOW, team=team).case_id
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return case_id


def _as(web: Web, user: User) -> TestClient:
    client = web.client()
    signed = client.post("/sign-in", data={"username": user.username, "password": PASSWORD}, follow_redirects=False)
    assert signed.status_code == 303
    return client


def _searches(web: Web, municipality: str) -> list[dict[str, object]]:
    return [e for e in Accounts(web.rt.engine).audit_entries(municipality) if e["action"] == "search"]


def test_a_caseworker_finds_a_case_by_its_case_id(web: Web) -> None:
    case_id = _case(web, "karlskrona", "KK-2026-00412")
    page = web.client("caseworker").get("/search", params={"q": f"  {case_id.upper()} "})
    assert page.status_code == 200
    text = visible_text(page.text)
    assert f'href="/cases/{case_id}"' in page.text and "KK-2026-00412" in text and "1 case found" in text
    [line] = _searches(web, "karlskrona")
    assert (line["username"], line["case_id"], line["detail"], line["via"]) == (
        "cw-01", case_id, "found by case id", "web"
    )  # fmt: skip


def test_a_caseworker_finds_a_case_by_its_citizen_reference_and_the_audit_keeps_no_reference(web: Web) -> None:
    case_id = _case(web, "karlskrona", "KK-2026-00999")
    page = web.client("caseworker").get("/search?q=KK-2026-00999")
    assert f'href="/cases/{case_id}"' in page.text
    [line] = _searches(web, "karlskrona")
    assert (line["case_id"], line["detail"]) == (case_id, "found by citizen reference")
    every_line = Accounts(web.rt.engine).audit_entries(None, limit=1000)
    assert not any("KK-2026-00999" in str(value) for entry in every_line for value in entry.values())


def test_a_reference_matches_exactly_not_in_part_or_in_another_case(web: Web) -> None:
    _case(web, "karlskrona", "KK-2026-00412")
    client = web.client("caseworker")
    for almost in ("KK-2026-0041", "kk-2026-00412", "%"):
        assert "No case found." in client.get("/search", params={"q": almost}).text, almost


def test_a_case_of_another_team_is_not_found_and_the_attempt_is_audited(web: Web) -> None:
    case_id = _case(web, "boras", "BO-77", team="jobb-boras")
    outsider = _as(web, BORAS["economy"])
    for q in (case_id, "BO-77"):
        page = outsider.get("/search", params={"q": q})
        assert page.status_code == 200 and "No case found." in page.text
        assert case_id not in page.text.replace(f'value="{case_id}"', "")  # only the search box repeats it
    assert [e["detail"] for e in _searches(web, "boras")] == ["no case found", "no case found"]
    refused = [e for e in Accounts(web.rt.engine).audit_entries("boras", case_id=case_id) if e["action"] == "denied"]
    assert len(refused) == 2 and all("BO-77" not in str(e["detail"]) for e in refused)
    # The team's own caseworker and the municipality's manager find it.
    assert f'href="/cases/{case_id}"' in _as(web, BORAS["jobs"]).get("/search?q=BO-77").text
    assert f'href="/cases/{case_id}"' in _as(web, BORAS["manager"]).get(f"/search?q={case_id}").text


def test_a_case_of_another_municipality_reads_exactly_like_a_missing_one(web: Web) -> None:
    case_id = _case(web, "karlskrona", "KK-2026-00412")
    outsider = web.client("outsider")  # a caseworker of Växjö
    found_elsewhere = outsider.get("/search", params={"q": case_id}).text
    missing = outsider.get("/search", params={"q": "c-zzzzzzzz"}).text
    assert found_elsewhere.replace(case_id, "X") == missing.replace("c-zzzzzzzz", "X")
    assert "No case found." in outsider.get("/search?q=KK-2026-00412").text  # references are per municipality


def test_operations_may_not_search(web: Web) -> None:
    assert web.client("operations").get("/search?q=anything").status_code == 403


def test_every_page_of_a_signed_in_caseworker_has_the_search_box_with_a_label(web: Web) -> None:
    case_id = _case(web, "karlskrona", "KK-1")
    client = web.client("team_lead")
    for path in ("/inbox", "/team", f"/cases/{case_id}", f"/todos/{case_id}.0", "/profile"):
        html = client.get(path).text
        assert '<form class="search" method="get" action="/search" role="search">' in html, path
        assert '<label for="header-q"' in html and 'id="header-q" name="q"' in html, path
    assert 'action="/search"' in web.client("manager").get("/console").text
    assert 'action="/search"' not in web.client("operations").get("/operations").text
    assert 'action="/search"' not in web.client().get("/sign-in").text


def test_an_empty_search_shows_the_form_and_audits_nothing(web: Web) -> None:
    page = web.client("caseworker").get("/search?q=%20")
    assert page.status_code == 200 and '<input id="search-q"' in page.text and "No case found." not in page.text
    assert _searches(web, "karlskrona") == []
