"""The caseworker's pages in Swedish (Karlskrona) and Danish (Allerød): no English left, the professions' words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from activation import services
from activation.access import User
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.i18n_support import english_left, visible_text
from tests.web_support import PASSWORD, Web, csrf_of, make_web

NOW = at("2026-11-23 09:00")
# Staff who read their municipality's language (no language of their own chosen).
KARIN = User("sv-cw", "Karin Lund", "caseworker", "karlskrona", "arbetsmarknad")
METTE = User("dk-tl", "Mette Holm", "team_lead", "allerod", "jobcenter")
JONAS = User("dk-cw", "Jonas Berg", "caseworker", "allerod", "jobcenter")
ASSESSMENT = {"capacity_band": "26-50", "barriers": ["housing", "debts"], "health": "Sover dåligt"}
PLAN = {
    "goal": "Arbete inom vården",
    "activities": [{"what": "Praktik", "starts_on": "2026-12-01", "ends_on": "2027-02-26", "responsible": "Karin"}],
    "follow_up_on": "2027-01-15",
    "signed_on": "2026-11-20",
    "intervention": "internship",
}


@dataclass
class Cases:
    """One municipality's seeded cases: one waiting for the plan, one overdue, one in the team queue."""

    planned: str
    overdue: str
    queued: str


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    accounts = Accounts(w.rt.engine)
    for user in (KARIN, METTE, JONAS):
        accounts.add_user(user, PASSWORD, NOW)
    yield w


def _seed(web: Web, municipality: str, caseworker: str) -> Cases:
    """Open three cases a week ago: one moved on to a signed plan, one overdue, one left in the team queue."""
    store, rules = web.rt.store, web.rt.rules
    start = NOW - timedelta(days=7)
    ids = [
        services.record_application(
            store, rules, municipality, f"i18n-{municipality}-{n}", start, caseworker=who
        ).case_id
        for n, who in enumerate((caseworker, caseworker, None))
    ]
    services.advance_cases(store, rules, start)
    planned = ids[0]
    steps = [
        (f"{planned}.0", "held", None),
        (f"{planned}.1", "completed", ASSESSMENT),
        (f"{planned}.2", "signed", PLAN),
    ]
    for n, (todo_id, outcome, data) in enumerate(steps, start=1):
        services.complete_todo(store, todo_id, outcome, start + timedelta(hours=n), caseworker, data, rules)
        services.advance_cases(store, rules, start + timedelta(hours=n, minutes=5))
    services.complete_todo(store, f"{ids[1]}.0", "no_show", start + timedelta(hours=1), caseworker, None, rules)
    services.advance_cases(store, rules, start + timedelta(hours=2))
    services.sweep(store, NOW)
    return Cases(planned, ids[1], ids[2])


def _client(web: Web, user: User) -> TestClient:
    client = web.client()
    signed = client.post("/sign-in", data={"username": user.username, "password": PASSWORD}, follow_redirects=False)
    assert signed.status_code == 303
    return client


def _pages(cases: Cases, planned_todo: str) -> list[str]:
    return ["/inbox", f"/cases/{cases.planned}", f"/cases/{cases.overdue}", f"/todos/{planned_todo}",
            f"/todos/{cases.overdue}.1", f"/todos/{cases.planned}.0"]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "municipality", "caseworker", "language"),
    [(KARIN, "karlskrona", "sv-cw", "sv"), (METTE, "allerod", "dk-cw", "da")],
    ids=["swedish-caseworker", "danish-team-lead"],
)
def test_no_english_phrase_is_left_on_the_inbox_case_and_to_do_pages(
    web: Web, user: User, municipality: str, caseworker: str, language: str
) -> None:
    cases = _seed(web, municipality, caseworker)
    client = _client(web, user)
    left: dict[str, list[tuple[str, str]]] = {}
    for path in _pages(cases, f"{cases.planned}.3"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{language}">' in page.text
        found = english_left(visible_text(page.text), language)
        if found:
            left[path] = found
    assert left == {}


def test_a_swedish_caseworker_reads_att_gora_forfallen_and_the_swedish_journey(web: Web) -> None:
    cases = _seed(web, "karlskrona", "sv-cw")
    client = _client(web, KARIN)
    inbox = visible_text(client.get("/inbox").text)
    assert "Att göra" in inbox and "Förfallna" in inbox and "förfallen för" in inbox
    assert "Boka om första mötet (den sökande uteblev)" in inbox
    assert "Teamets kö: Arbetsmarknadsenheten" in inbox and "queue:" not in inbox
    case = visible_text(client.get(f"/cases/{cases.planned}").text)
    assert "Uppföljningsmöten · Försörjningsstöd med aktivitetskrav" in case
    assert "Aktivitetskrav (ingen passiv period)" in case
    assert "Planering: Undertecknad" in case and "Arbetspraktik" in case  # the intervention by its config name
    assert "ekonomiskt_bistand" not in case and "internship" not in case
    placement = visible_text(client.get(f"/todos/{cases.planned}.3").text)
    assert "Starta insatsen" in placement and "Arbetsgivare eller anordnare" in placement


def test_a_danish_team_lead_reads_opgaver_overskredet_and_jobsamtale(web: Web) -> None:
    cases = _seed(web, "allerod", "dk-cw")
    client = _client(web, METTE)
    inbox = visible_text(client.get("/inbox").text)
    assert "Opgaver" in inbox and "Overskredet i teamet" in inbox
    assert "Hold første jobsamtale" in inbox and "Teamets kø: Jobcenter Allerød" in inbox
    case = visible_text(client.get(f"/cases/{cases.planned}").text)
    # LAB 2019 ended "4 job conversations in any 12 months"; the offer obligation (LAB § 102) remains.
    assert "Tilbud (ingen passiv periode) · Aktivitetsparat" in case and "Min Plan: Underskrevet" in case
    assert "Virksomhedspraktik" in case and "activity_ready" not in case
    todo = visible_text(client.get(f"/todos/{cases.overdue}.1").text)
    assert "Book ny første jobsamtale (borgeren udeblev)" in todo


def test_dates_times_and_relative_times_follow_the_language(web: Web) -> None:
    danish_cases = _seed(web, "allerod", "dk-cw")
    danish = visible_text(_client(web, METTE).get(f"/todos/{danish_cases.overdue}.1").text)
    # Babel's Danish: "man. 23. nov. 2026 10.00 (om 1 time)".
    assert re.search(r"\w+\. \d+\. nov\. 2026 \d\d\.\d\d \(om \d+ (time|timer|dage|dag)\)", danish), danish
    swedish_cases = _seed(web, "karlskrona", "sv-cw")
    swedish = visible_text(_client(web, KARIN).get(f"/todos/{swedish_cases.overdue}.1").text)
    # Babel's Swedish: "fre 20 nov. 2026 10:00 (förfallen för 3 d)".
    assert re.search(r"\w+ \d+ nov\. 2026 \d\d:\d\d \(förfallen för \d+ d\)", swedish), swedish


def test_the_scan_finds_english_on_the_same_pages_read_in_english(web: Web) -> None:
    cases = _seed(web, "karlskrona", "sv-cw")
    Accounts(web.rt.engine).set_language(KARIN.username, "en")
    client = _client(web, KARIN)
    for path in _pages(cases, f"{cases.planned}.3"):
        found = {phrase for phrase, _message in english_left(visible_text(client.get(path).text), "sv")}
        assert {"Due", "Sign out"} <= found, path


def test_the_assessment_form_speaks_swedish_with_the_glossarys_choices(web: Web) -> None:
    store, rules = web.rt.store, web.rt.rules
    case_id = services.record_application(store, rules, "karlskrona", "i18n-form", NOW, caseworker="sv-cw").case_id
    services.advance_cases(store, rules, NOW)
    services.complete_todo(store, f"{case_id}.0", "held", NOW, "sv-cw", None, rules)
    services.advance_cases(store, rules, NOW + timedelta(minutes=5))
    page = visible_text(_client(web, KARIN).get(f"/todos/{case_id}.1").text)
    assert "Aktivitetsförmåga" in page and "Hinder" in page and "Skulder" in page
    assert "Målgrupp efter kartläggningen" in page and "fyll i kartläggning nedan" in page


def test_staff_of_a_municipality_read_its_language_and_operations_read_english(web: Web) -> None:
    assert '<html lang="sv">' in _client(web, KARIN).get("/inbox").text
    assert '<html lang="da">' in _client(web, METTE).get("/inbox").text
    operations = User("ops-i18n", "Ops", "operations")
    Accounts(web.rt.engine).add_user(operations, PASSWORD, NOW)
    assert '<html lang="en">' in _client(web, operations).get("/operations").text


def test_the_sign_in_page_speaks_the_browsers_language_until_someone_signs_in(web: Web) -> None:
    swedish = web.client().get("/sign-in", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
    assert '<html lang="sv">' in swedish.text and "Logga in" in swedish.text
    danish = web.client().get("/sign-in", headers={"Accept-Language": "da"})
    assert "Adgangskode" in danish.text
    assert '<html lang="en">' in web.client().get("/sign-in", headers={"Accept-Language": "de-DE"}).text


def test_an_error_page_is_in_the_readers_language(web: Web) -> None:
    page = _client(web, KARIN).get("/cases/c-doesnotexist")
    assert page.status_code == 404
    assert '<html lang="sv">' in page.text and "Hittades inte" in page.text and "Tillbaka till startsidan" in page.text
    assert "Inget ärende c-doesnotexist som du kan se." in page.text
    assert english_left(visible_text(page.text), "sv") == []


def test_a_form_with_errors_says_them_in_swedish_beside_each_field(web: Web) -> None:
    store, rules = web.rt.store, web.rt.rules
    case_id = services.record_application(store, rules, "karlskrona", "i18n-errors", NOW, caseworker="sv-cw").case_id
    services.advance_cases(store, rules, NOW)
    client = _client(web, KARIN)
    page = client.get(f"/todos/{case_id}.0")
    client.post(f"/todos/{case_id}.0", data={"csrf": csrf_of(page.text), "outcome": "held"})
    assessment = client.post(
        f"/todos/{case_id}.1", data={"csrf": csrf_of(page.text), "outcome": "completed", "health": "Sover dåligt"}
    )
    assert assessment.status_code == 422
    text = visible_text(assessment.text)
    assert "Inget sparades: rätta det som är markerat nedan" in text and "Obligatoriskt." in text
    assert english_left(text, "sv") == []
    form = {"csrf": csrf_of(page.text), "outcome": "completed", "capacity_band": "26-50"}
    client.post(f"/todos/{case_id}.1", data=form)
    plan = client.post(
        f"/todos/{case_id}.2",
        data={"csrf": csrf_of(page.text), "outcome": "signed", "goal": "Arbete", "follow_up_on": "2027-01-15",
              "signed_on": "2026-11-23", "activities.0.what": "Praktik", "activities.0.starts_on": "2026-12-10",
              "activities.0.ends_on": "2026-12-01", "activities.0.responsible": "Karin"},
    )  # fmt: skip
    assert plan.status_code == 422
    text = visible_text(plan.text)
    assert "Rad 1: Slutdatumet måste komma efter startdatumet." in text
    assert english_left(text, "sv") == []
