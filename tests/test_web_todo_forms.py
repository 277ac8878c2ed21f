"""The to-do form keeps the caseworker's work: read-only until taken, drafts across an expired session,
errors tied to their fields, a confirmation before closing a case, and words instead of keys."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from activation import services
from activation.access import User
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.forms_filled import ASSESSMENT
from tests.i18n_support import english_left, visible_text
from tests.web_support import PASSWORD, STAFF, Web, csrf_of, make_web

NOW = at("2026-11-23 09:00")
OURS = {"origin": "https://testserver"}  # what a browser sends with a form posted from our own page
KARIN = User("sv-cw", "Karin Lund", "caseworker", "karlskrona", "arbetsmarknad")  # reads Swedish
JONAS = User("dk-cw", "Jonas Berg", "caseworker", "allerod", "jobcenter")  # reads Danish


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    for user in (KARIN, JONAS):
        Accounts(w.rt.engine).add_user(user, PASSWORD, NOW)
    yield w


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of each element by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if "id" in found:
            self.text[found["id"]] = ""
            self._open.append(found["id"])

    def handle_data(self, data: str) -> None:
        for key in self._open:
            self.text[key] += data

    def by_id(self, id_: str) -> dict[str, str]:
        return next(attrs for _tag, attrs in self.tags if attrs.get("id") == id_)


def tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def main_part(html: str) -> str:
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def editable(html: str) -> list[str]:
    """Return the inputs a user could type into or choose in, in the page's main part."""
    return [
        f"{tag} {attrs.get('name', '')}"
        for tag, attrs in tags(main_part(html)).tags
        if tag in ("textarea", "select") or (tag == "input" and attrs.get("type") != "hidden")
    ]


def _case(web: Web, ref: str, caseworker: str | None = "cw-01", municipality: str = "karlskrona") -> str:
    store, rules = web.rt.store, web.rt.rules
    case_id = services.record_application(store, rules, municipality, ref, NOW, caseworker=caseworker).case_id
    services.advance_cases(store, rules, NOW)
    return case_id


def _at_plan(web: Web, ref: str, caseworker: str = "cw-01", municipality: str = "karlskrona") -> str:
    """Return the plan to-do of a new case whose first meeting is held and assessment completed."""
    store, rules = web.rt.store, web.rt.rules
    case_id = _case(web, ref, caseworker, municipality)
    for n, (outcome, data) in enumerate((("held", None), ("completed", ASSESSMENT))):
        services.complete_todo(store, f"{case_id}.{n}", outcome, NOW, caseworker, data, rules)
        services.advance_cases(store, rules, NOW)
    return f"{case_id}.2"


def _signed_in(web: Web, user: User) -> TestClient:
    client = web.client()
    signed = client.post("/sign-in", data={"username": user.username, "password": PASSWORD}, follow_redirects=False)
    assert signed.status_code == 303
    return client


def _status(web: Web, todo_id: str) -> str:
    with web.rt.store.transaction() as tx:
        todo = tx.todo(todo_id)
    assert todo is not None
    return todo.status


def _drafts(web: Web) -> int:
    with web.rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.form_drafts)).scalar_one())


PLAN_TYPED = {
    "outcome": "signed",
    "goal": "Synthetic goal: work in a warehouse",
    "activities.0.what": "Synthetic internship",
    "activities.0.starts_on": "2026-12-01",
    "activities.0.ends_on": "2027-02-26",
    "activities.0.responsible": "cw-01",
    "follow_up_on": "2027-01-15",
    "signed_on": "2026-11-23",
}


# -- 1. read-only until taken -------------------------------------------------------------------


def test_a_caseworker_reads_a_queued_to_do_without_inputs_and_gets_the_form_after_taking_it(web: Web) -> None:
    todo_id = f"{_case(web, 'ref-queued', caseworker=None)}.0"
    client = web.client("caseworker")
    page = client.get(f"/todos/{todo_id}")
    assert page.status_code == 200
    assert editable(page.text) == []  # nothing to type into that a 403 would throw away
    assert f'action="/todos/{todo_id}/take"' in page.text and "Take it to fill in the form" in page.text
    taken = client.post(f"/todos/{todo_id}/take", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert taken.headers["location"] == f"/todos/{todo_id}"
    form = client.get(f"/todos/{todo_id}")
    assert "input outcome" in editable(form.text) and "/take" not in main_part(form.text)


def test_a_colleague_reads_someone_elses_plan_to_do_with_the_forms_fields_and_no_take_button(web: Web) -> None:
    todo_id = _at_plan(web, "ref-colleague")
    page = web.client("caseworker2").get(f"/todos/{todo_id}")
    assert editable(page.text) == [] and "/take" not in main_part(page.text)
    text = visible_text(page.text)
    assert "Only Caseworker One or the team lead can record this to-do" in text
    assert "Follow-up on" in text and "Signed on" in text  # the plan's fields, read-only


def test_a_done_to_do_shows_what_was_recorded_read_only(web: Web) -> None:
    case_id = _at_plan(web, "ref-done").rsplit(".", 1)[0]
    assessment = visible_text(web.client("caseworker").get(f"/todos/{case_id}.1").text)
    assert "26-50 % (up to 20 h a week)" in assessment and "Housing" in assessment and "synthetic" in assessment


# -- 2. drafts across an expired session ----------------------------------------------------------


def test_a_save_after_the_session_expired_keeps_the_work_and_gives_it_back_after_sign_in(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    todo_id = _at_plan(web, "ref-expired")
    client = web.client("caseworker")
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    web.clock.current = NOW + timedelta(hours=11)  # the 10-hour session ran out while the plan was typed
    with caplog.at_level(logging.DEBUG):
        saved = client.post(f"/todos/{todo_id}", data={"csrf": csrf, **PLAN_TYPED}, headers=OURS,
                            follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == f"/sign-in?next=/todos/{todo_id}"
    assert _status(web, todo_id) == "open" and _drafts(web) == 1
    assert "warehouse" not in caplog.text  # what was typed never goes to a log

    again = {"username": "cw-01", "password": PASSWORD, "next": f"/todos/{todo_id}"}
    back = client.post("/sign-in", data=again, follow_redirects=False)
    assert back.headers["location"] == f"/todos/{todo_id}"
    page = client.get(back.headers["location"])
    assert "Your unsaved work was kept." in page.text
    assert "Synthetic goal: work in a warehouse" in page.text and 'value="2027-01-15"' in page.text
    assert 'value="signed" checked' in page.text

    done = client.post(f"/todos/{todo_id}", data={"csrf": csrf_of(page.text), **PLAN_TYPED}, follow_redirects=False)
    assert done.status_code == 303 and _status(web, todo_id) == "done"
    assert _drafts(web) == 0  # saved: the draft is gone


def test_a_draft_is_kept_for_its_own_user_only_and_for_a_week(web: Web) -> None:
    todo_id = _at_plan(web, "ref-week")
    client = web.client("caseworker")
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    web.clock.current = NOW + timedelta(hours=11)
    client.post(f"/todos/{todo_id}", data={"csrf": csrf, **PLAN_TYPED}, headers=OURS)
    lead = web.client("team_lead").get(f"/todos/{todo_id}").text  # the lead may record it, but it is not theirs
    assert "Your unsaved work was kept." not in lead and "warehouse" not in lead
    web.clock.current = NOW + timedelta(days=8)
    page = web.client("caseworker").get(f"/todos/{todo_id}").text
    assert "Your unsaved work was kept." not in page and "warehouse" not in page


def test_a_stale_form_of_a_signed_in_caseworker_comes_back_filled_in(web: Web) -> None:
    todo_id = _at_plan(web, "ref-stale")
    client = web.client("caseworker")
    old = csrf_of(client.get(f"/todos/{todo_id}").text)
    client.post("/sign-in", data={"username": "cw-01", "password": PASSWORD})  # a new session, a new token
    kept = client.post(f"/todos/{todo_id}", data={"csrf": old, **PLAN_TYPED}, headers=OURS, follow_redirects=False)
    assert kept.status_code == 303 and kept.headers["location"] == f"/todos/{todo_id}"
    page = client.get(f"/todos/{todo_id}").text
    assert "Your unsaved work was kept." in page and "Synthetic goal: work in a warehouse" in page
    thrown = client.post(f"/todos/{todo_id}/discard-draft", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert thrown.status_code == 303 and _drafts(web) == 0
    assert "warehouse" not in client.get(f"/todos/{todo_id}").text


def test_a_post_from_another_site_keeps_nothing(web: Web) -> None:
    todo_id = _at_plan(web, "ref-forged")
    client = web.client("caseworker")
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    web.clock.current = NOW + timedelta(hours=11)
    evil = {"origin": "https://evil.example"}
    response = client.post(f"/todos/{todo_id}", data={"csrf": csrf, **PLAN_TYPED}, headers=evil, follow_redirects=False)
    assert response.headers["location"] == f"/sign-in?next=/todos/{todo_id}"
    refused = web.client("caseworker").post(f"/todos/{todo_id}", data={"csrf": "stale", **PLAN_TYPED}, headers=evil)
    assert refused.status_code == 403
    assert _drafts(web) == 0


# -- 3 and 4. cross-field dates, human words, errors tied to their fields -------------------------


def test_a_follow_up_before_signing_is_refused_beside_the_field_and_linked_from_the_summary(web: Web) -> None:
    todo_id = _at_plan(web, "ref-dates")
    client = web.client("caseworker")
    typed = {**PLAN_TYPED, "signed_on": "2030-03-01", "follow_up_on": "2020-03-01"}
    response = client.post(f"/todos/{todo_id}", data={"csrf": csrf_of(client.get(f"/todos/{todo_id}").text), **typed})
    assert response.status_code == 422 and _status(web, todo_id) == "open"
    page = tags(response.text)
    field = page.by_id("f-follow_up_on")
    assert field["aria-invalid"] == "true" and "error-follow_up_on" in field["aria-describedby"].split()
    assert "The follow-up must come after the day the plan is signed." in page.text["error-follow_up_on"]
    summary = page.text["error-summary-title"]
    assert "Nothing was saved" in summary
    assert any(tag == "a" and attrs.get("href") == "#f-follow_up_on" for tag, attrs in page.tags)
    assert 'value="2030-03-01"' in response.text and "Synthetic goal: work in a warehouse" in response.text


def test_an_activity_rows_problems_are_tied_to_its_inputs(web: Web) -> None:
    todo_id = _at_plan(web, "ref-row")
    client = web.client("caseworker")
    typed = {**PLAN_TYPED, "activities.0.ends_on": "2031-02-26", "activities.0.responsible": ""}
    response = client.post(f"/todos/{todo_id}", data={"csrf": csrf_of(client.get(f"/todos/{todo_id}").text), **typed})
    page = tags(response.text)
    who = page.by_id("f-activities-0-responsible")
    assert who["aria-invalid"] == "true" and who["aria-describedby"] == "error-activities-0-responsible"
    assert "Write a value here." in page.text["error-activities-0-responsible"]
    assert "Input should be" not in response.text


@pytest.mark.parametrize(
    ("user", "municipality", "words"),
    [
        (KARIN, "karlskrona", ("Skriv ett värde här.", "Skriv ett datum här.", "Uppföljningen måste komma efter")),
        (JONAS, "allerod", ("Skriv en værdi her.", "Skriv en dato her.", "Opfølgningen skal ligge efter")),
    ],
    ids=["swedish", "danish"],
)
def test_form_errors_are_said_in_the_caseworkers_own_words_in_swedish_and_danish(
    web: Web, user: User, municipality: str, words: tuple[str, ...]
) -> None:
    todo_id = _at_plan(web, f"ref-words-{municipality}", user.username, municipality)
    client = _signed_in(web, user)
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    rows = {"activities.0.what": "Praktik", "activities.0.starts_on": "", "activities.0.responsible": ""}
    typed = {**PLAN_TYPED, **rows, "follow_up_on": "2026-11-01"}
    first = client.post(f"/todos/{todo_id}", data={"csrf": csrf, **typed})
    text = visible_text(first.text)
    assert words[0] in text and words[1] in text
    assert english_left(text, user.language or ("sv" if municipality == "karlskrona" else "da")) == []
    dates = client.post(f"/todos/{todo_id}", data={"csrf": csrf, **PLAN_TYPED, "follow_up_on": "2026-11-01"})
    assert words[2] in visible_text(dates.text)


def test_every_input_of_the_plan_form_has_a_label(web: Web) -> None:
    todo_id = _at_plan(web, "ref-labels")
    html = web.client("caseworker").get(f"/todos/{todo_id}").text
    page = tags(main_part(html))
    labelled = {attrs["for"] for tag, attrs in page.tags if tag == "label" and "for" in attrs}
    inputs = [
        attrs
        for tag, attrs in page.tags
        if tag in ("textarea", "select") or (tag == "input" and attrs.get("type") not in ("hidden", "radio"))
    ]
    assert inputs and [a.get("name") for a in inputs if a.get("id") not in labelled] == []
    assert all(a.get("id", "").startswith("outcome-") for tag, a in page.tags if a.get("type") == "radio")


def test_the_page_starts_with_a_skip_link_to_the_main_content(web: Web) -> None:
    html = web.client("caseworker").get("/inbox").text
    assert re.search(r'<body>\s*<a class="skip-link" href="#main">Skip to main content</a>', html)
    assert '<main id="main"' in html


# -- 5. a confirmation before a case is closed ----------------------------------------------------


def test_withdrawing_a_case_asks_to_confirm_and_keeps_what_was_typed(web: Web) -> None:
    case_id = _case(web, "ref-withdraw")
    client = web.client("caseworker")
    services.complete_todo(web.rt.store, f"{case_id}.0", "held", NOW, "cw-01", None, web.rt.rules)
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    todo_id = f"{case_id}.1"
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    typed = {"csrf": csrf, "outcome": "withdrawn", "health": "Synthetic note kept"}
    asked = client.post(f"/todos/{todo_id}", data=typed)
    assert asked.status_code == 200 and _status(web, todo_id) == "open"
    assert "Confirm: withdraw the case?" in asked.text
    assert 'name="confirm" value="withdrawn"' in asked.text and "Synthetic note kept" in asked.text
    confirmed = {**typed, "health": "", "confirm": "withdrawn"}
    done = client.post(f"/todos/{todo_id}", data=confirmed, follow_redirects=False)
    assert done.status_code == 303 and _status(web, todo_id) == "done"


def test_a_confirmation_given_for_another_outcome_does_not_count(web: Web) -> None:
    todo_id = f"{_case(web, 'ref-other-confirm')}.0"
    client = web.client("caseworker")
    csrf = csrf_of(client.get(f"/todos/{todo_id}").text)
    response = client.post(f"/todos/{todo_id}", data={"csrf": csrf, "outcome": "withdrawn", "confirm": "held"})
    assert "Confirm: withdraw the case?" in response.text and _status(web, todo_id) == "open"


# -- 6. words, not keys ---------------------------------------------------------------------------


def test_the_to_do_page_says_who_and_why_in_words_with_the_technical_details_folded_away(web: Web) -> None:
    todo_id = f"{_case(web, 'ref-words', caseworker=None)}.0"
    html = web.client("team_lead").get(f"/todos/{todo_id}").text
    shown = main_part(html).split('<details class="technical">')[0] + main_part(html).split("</details>", 1)[1]
    # Keys as the configuration writes them: '<role>:<team>', '<group>.<cadence>', snake_case, version stamps.
    for key in (r"queue:\w", r"team_lead:\w", r"ekonomiskt_bistand\b", r"first_meeting", r"karlskrona-2026", r"\+\w"):
        assert not re.search(key, shown), key
    text = visible_text(html)
    assert "Team queue: Arbetsmarknadsenheten" in text and "Social assistance with activity requirement" in text
    assert "Deadline rule: First meeting. 48 hours from application received" in text
    details = re.search(r'<details class="technical">(.*?)</details>', html, re.S)
    assert details and "<summary>Technical details</summary>" in details[1]
    with web.rt.store.transaction() as tx:
        todo = tx.todo(todo_id)
    assert todo is not None and todo.config_version and todo.explanation
    version, digest = todo.config_version.split("+")
    assert version in details[1] and digest in details[1] and todo.explanation in details[1]


def test_a_caseworker_holding_the_to_do_is_named_not_given_as_a_username(web: Web) -> None:
    todo_id = f"{_case(web, 'ref-name')}.0"
    text = visible_text(web.client("team_lead").get(f"/todos/{todo_id}").text)
    assert f"Holder\n{STAFF['caseworker'].display_name}" in text


def test_a_booked_meeting_shows_its_time_on_the_to_do_page(web: Web) -> None:
    todo_id = f"{_case(web, 'ref-booked')}.0"
    services.book_meeting(web.rt.store, web.rt.rules, todo_id, at("2026-11-24 10:00"), NOW, 45, "Ronnebygatan 1")
    text = visible_text(web.client("caseworker").get(f"/todos/{todo_id}").text)
    assert "Meeting booked\nTue, 24 Nov 2026 10:00 · 45 minutes · Ronnebygatan 1" in text
