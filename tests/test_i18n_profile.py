"""The language each member of staff reads: set when the user is added, changed on the profile page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from activation.access import User, check_new_user
from activation.adapters.accounts import Accounts
from activation.errors import InputError
from tests.conftest import at
from tests.test_cli import run
from tests.web_support import PASSWORD, Web, csrf_of, make_web
from web import format as fmt
from web import i18n

NOW = at("2026-11-23 09:00")
KARIN = User("sv-cw", "Karin Lund", "caseworker", "karlskrona", "arbetsmarknad")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    Accounts(w.rt.engine).add_user(KARIN, PASSWORD, NOW)
    yield w


def test_a_caseworker_switches_her_pages_to_english_and_back_to_her_municipalitys_language(web: Web) -> None:
    client = web.client()
    client.post("/sign-in", data={"username": KARIN.username, "password": PASSWORD})
    profile = client.get("/profile")
    assert '<html lang="sv">' in profile.text and "Min kommuns språk" in profile.text
    chosen = client.post("/profile", data={"language": "en", "csrf": csrf_of(profile.text)}, follow_redirects=False)
    assert chosen.status_code == 303
    assert '<html lang="en">' in client.get("/inbox").text
    back = client.post("/profile", data={"language": "", "csrf": csrf_of(profile.text)})
    assert '<html lang="sv">' in back.text and "Sparat." in back.text
    user = Accounts(web.rt.engine).user(KARIN.username)
    assert user is not None and user.language is None


def test_a_change_of_language_is_written_to_the_audit_log(web: Web) -> None:
    client = web.client()
    client.post("/sign-in", data={"username": KARIN.username, "password": PASSWORD})
    client.post("/profile", data={"language": "da", "csrf": csrf_of(client.get("/profile").text)})
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", username=KARIN.username)
    assert [(e["action"], e["detail"]) for e in entries if e["action"] == "set_language"] == [("set_language", "da")]


def test_the_profile_form_needs_its_csrf_token_and_a_language_offered(web: Web) -> None:
    client = web.client()
    client.post("/sign-in", data={"username": KARIN.username, "password": PASSWORD})
    assert client.post("/profile", data={"language": "en", "csrf": "forged"}).status_code == 403
    refused = client.post("/profile", data={"language": "de", "csrf": csrf_of(client.get("/profile").text)})
    assert refused.status_code == 422 and "Välj ett av de språk som erbjuds." in refused.text
    user = Accounts(web.rt.engine).user(KARIN.username)
    assert user is not None and user.language is None


def test_the_profile_page_needs_a_signed_in_user(web: Web) -> None:
    response = web.client().get("/profile", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?next=/profile"


def test_user_add_sets_the_language_and_refuses_one_the_pages_do_not_speak(tmp_path: Path) -> None:
    added = run(
        tmp_path, "user", "add", "tl-09", "--role", "team_lead", "--municipality", "allerod", "--team", "jobcenter",
        "--language", "en", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["language"] == "en"
    listed = json.loads(run(tmp_path, "user", "list", "--json").stdout)
    assert [(u["username"], u["language"]) for u in listed] == [("tl-09", "en")]
    refused = run(tmp_path, "user", "add", "cw-09", "--role", "caseworker", "--municipality", "allerod",
                  "--team", "jobcenter", "--language", "de")  # fmt: skip
    assert refused.returncode == 2 and "unknown language 'de'" in refused.stderr


def test_a_new_user_may_have_no_language_of_their_own() -> None:
    check_new_user(KARIN, {"karlskrona": ("arbetsmarknad",)})
    with pytest.raises(InputError, match="unknown language"):
        check_new_user(User("x-01", "X", "manager", "karlskrona", language="fi"), {"karlskrona": ()})


@pytest.mark.parametrize(
    ("language", "overdue", "ahead"),
    [
        ("da", "forfalden for 2 dage", "om 5 timer"),
        ("sv", "förfallen för 2 d", "om 5 tim"),
        ("en", "overdue 2 days", "in 5 hr"),
    ],
)
def test_relative_times_read_in_each_language(language: str, overdue: str, ahead: str) -> None:
    i18n.use(language)
    try:
        assert fmt.due_in(NOW - timedelta(days=2), NOW) == overdue
        assert fmt.due_in(NOW + timedelta(hours=5), NOW) == ahead
    finally:
        i18n.use(i18n.DEFAULT)


def test_durations_and_shares_read_in_each_language() -> None:
    i18n.use("da")
    try:
        assert fmt.duration("3 working days") == "3 arbejdsdage" and fmt.duration("1 month") == "1 måned"
        assert fmt.percent(0.5) == "50 %" and fmt.number(12345.5) == "12.345,5"
    finally:
        i18n.use(i18n.DEFAULT)
    assert fmt.duration("48 hours") == "48 hours" and fmt.number(12345.5) == "12,345.5"
