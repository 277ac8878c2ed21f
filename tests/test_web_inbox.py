"""The caseworker inbox in the web application: sign-in, to-dos, completing one, the case page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from activation import services
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.web_support import Web, audit_log_unavailable, csrf_of, make_web

NOW = at("2026-11-23 09:00")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    yield w


def _case_for(web: Web, ref: str, caseworker: str | None = "cw-01") -> str:
    recorded = services.record_application(web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker=caseworker)
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return recorded.case_id


def test_a_caseworker_who_is_not_signed_in_is_sent_to_the_sign_in_page(web: Web) -> None:
    response = web.client().get("/inbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/inbox"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(web: Web) -> None:
    response = web.client().post("/sign-in", data={"username": "cw-01", "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert "Wrong username or password" in response.text


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        client.post("/sign-in", data={"username": "cw-01", "password": "wrong-password!"})
    assert client.post("/sign-in", data={"username": "cw-01", "password": "correct-horse-battery"}).status_code == 401


def test_passwords_are_stored_as_argon2_hashes(web: Web) -> None:
    from sqlalchemy import select

    from activation.adapters import tables as t

    with web.rt.engine.connect() as conn:
        stored = conn.execute(select(t.users.c.password_hash).where(t.users.c.username == "cw-01")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct-horse" not in stored


def test_the_inbox_lists_my_first_meeting_and_the_team_queue(web: Web) -> None:
    mine = _case_for(web, "ref-mine")
    queued = _case_for(web, "ref-queued", caseworker=None)
    page = web.client("caseworker").get("/inbox")
    assert page.status_code == 200
    my_part, queue_part = page.text.split('id="queue"')
    assert f"/cases/{mine}" in my_part and f"/cases/{queued}" not in my_part
    assert f"/cases/{queued}" in queue_part
    assert "Hold the first meeting" in page.text


def test_an_overdue_to_do_is_counted_as_overdue(web: Web) -> None:
    _case_for(web, "ref-late")
    web.clock.current = at("2026-11-30 09:00")
    page = web.client("caseworker").get("/inbox").text
    assert "<strong>1</strong> overdue" in page


def test_completing_the_first_meeting_moves_the_case_on_to_the_assessment(web: Web) -> None:
    case_id = _case_for(web, "ref-held")
    client = web.client("caseworker")
    todo_id = f"{case_id}.0"
    form = client.get(f"/todos/{todo_id}")
    response = client.post(
        f"/todos/{todo_id}", data={"csrf": csrf_of(form.text), "outcome": "held"}, follow_redirects=False
    )
    assert response.status_code == 303
    case_page = client.get(response.headers["location"])
    assert "Complete the holistic assessment" in case_page.text
    assert "Recorded. The case has moved on" in case_page.text


def test_a_completion_on_the_to_do_page_and_its_audit_line_are_written_together_or_not_at_all(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case_for(web, "ref-done-together")
    client = web.client("caseworker")
    form = client.get(f"/todos/{case_id}.0")
    audit_log_unavailable(monkeypatch)
    with pytest.raises(RuntimeError, match="audit log"):
        client.post(f"/todos/{case_id}.0", data={"csrf": csrf_of(form.text), "outcome": "held"})
    with web.rt.store.transaction() as tx:
        todo = tx.todo(f"{case_id}.0")
    assert todo is not None and todo.status == "open"
    monkeypatch.undo()
    done = client.post(
        f"/todos/{case_id}.0", data={"csrf": csrf_of(form.text), "outcome": "held"}, follow_redirects=False
    )
    assert done.status_code == 303
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=case_id)
    assert [(e["action"], e["via"]) for e in entries if e["action"] == "complete_todo"] == [("complete_todo", "web")]


def test_a_form_with_errors_shows_them_beside_the_field_and_keeps_what_was_typed(web: Web) -> None:
    case_id = _case_for(web, "ref-assess")
    client = web.client("caseworker")
    page = client.get(f"/todos/{case_id}.0")
    client.post(f"/todos/{case_id}.0", data={"csrf": csrf_of(page.text), "outcome": "held"})
    assessment = f"{case_id}.1"
    page = client.get(f"/todos/{assessment}")
    response = client.post(
        f"/todos/{assessment}",
        data={"csrf": csrf_of(page.text), "outcome": "completed", "health": "Back pain, seeing a GP"},
    )
    assert response.status_code == 422
    assert 'id="error-capacity_band"' in response.text
    assert "Back pain, seeing a GP" in response.text  # nothing typed is lost
    assert "Nothing was saved" in response.text
    with web.rt.store.transaction() as tx:
        todo = tx.todo(assessment)
    assert todo is not None and todo.status == "open"


def test_a_form_post_without_the_csrf_token_is_refused(web: Web) -> None:
    case_id = _case_for(web, "ref-csrf")
    response = web.client("caseworker").post(f"/todos/{case_id}.0", data={"outcome": "held"})
    assert response.status_code == 403
    with web.rt.store.transaction() as tx:
        todo = tx.todo(f"{case_id}.0")
    assert todo is not None and todo.status == "open"


def test_a_caseworker_cannot_open_a_case_of_another_municipality(web: Web) -> None:
    case_id = _case_for(web, "ref-other")
    assert web.client("outsider").get(f"/cases/{case_id}").status_code == 404


def test_every_look_at_a_case_is_written_to_the_audit_log(web: Web) -> None:
    case_id = _case_for(web, "ref-audit")
    client = web.client("caseworker")
    client.get(f"/cases/{case_id}")
    client.get(f"/cases/{case_id}")
    entries = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=case_id)
    assert [(e["username"], e["action"], e["via"]) for e in entries] == [("cw-01", "view_case", "web")] * 2


def test_taking_a_to_do_from_the_team_queue_makes_the_case_mine(web: Web) -> None:
    case_id = _case_for(web, "ref-take", caseworker=None)
    client = web.client("caseworker")
    inbox = client.get("/inbox")
    response = client.post(f"/todos/{case_id}.0/take", data={"csrf": csrf_of(inbox.text)}, follow_redirects=False)
    assert response.status_code == 303
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].caseworker == "cw-01"
        todo = tx.todo(f"{case_id}.0")
    assert todo is not None and todo.assignee == "cw-01"


def test_a_team_lead_reassigns_a_case_and_the_change_is_counted(web: Web) -> None:
    case_id = _case_for(web, "ref-reassign")
    lead = web.client("team_lead")
    page = lead.get(f"/cases/{case_id}")
    assert "Reassign" in page.text
    response = lead.post(
        f"/cases/{case_id}/reassign", data={"csrf": csrf_of(page.text), "caseworker": "cw-02"}, follow_redirects=False
    )
    assert response.status_code == 303
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].caseworker == "cw-02"
        assert len(tx.caseworker_changes(case_id)) == 1
    assert "(1 change)" in lead.get(f"/cases/{case_id}").text


def test_a_caseworker_cannot_reassign(web: Web) -> None:
    case_id = _case_for(web, "ref-no-reassign")
    client = web.client("caseworker")
    page = client.get(f"/cases/{case_id}")
    assert "Reassign" not in page.text
    response = client.post(f"/cases/{case_id}/reassign", data={"csrf": csrf_of(page.text), "caseworker": "cw-02"})
    assert response.status_code == 403


def test_pages_carry_security_headers_and_the_session_cookie_is_http_only_and_secure(web: Web) -> None:
    client = web.client()
    response = client.post(
        "/sign-in", data={"username": "cw-01", "password": "correct-horse-battery"}, follow_redirects=False
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    page = client.get("/inbox")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


def test_sign_in_never_redirects_to_another_site(web: Web) -> None:
    response = web.client().post(
        "/sign-in",
        data={"username": "cw-01", "password": "correct-horse-battery", "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/inbox"


def test_behind_the_sso_proxy_the_trusted_header_signs_a_known_user_in(web: Web) -> None:
    web.settings.trusted_user_header = "X-Remote-User"
    client = web.client()
    assert client.get("/inbox", headers={"X-Remote-User": "cw-01"}).status_code == 200
    unknown = client.get("/inbox", headers={"X-Remote-User": "nobody"}, follow_redirects=False)
    assert unknown.status_code == 303


def test_the_sso_header_is_ignored_from_an_untrusted_address(web: Web) -> None:
    web.settings.trusted_user_header = "X-Remote-User"
    web.settings.trusted_proxies = ("10.0.0.1/32",)
    response = web.client().get("/inbox", headers={"X-Remote-User": "cw-01"}, follow_redirects=False)
    assert response.status_code == 303


def test_pages_name_the_caseworker_and_keep_the_rule_version_behind_the_details(web: Web) -> None:
    from tests.i18n_support import visible_text

    case_id = _case_for(web, "ref-names")
    lead = web.client("team_lead")
    team_inbox = visible_text(lead.get("/inbox?holder=team").text)
    assert "Caseworker One" in team_inbox and "cw-01" not in team_inbox
    page = lead.get(f"/cases/{case_id}").text
    facts = visible_text(page.split("</dl>", 1)[0])
    assert "Caseworker One" in facts and "cw-01" not in facts
    # The version stamp (a configuration hash) is technical detail: inside the disclosure, not beside the rule.
    deadlines = page.split("<h2>Deadlines</h2>", 1)[1].split("</table>", 1)[0]
    rows = deadlines.split("<tr>")[2:]
    # e.g. "rules se-2025-07+938ebcf1": the version in force (the law's or the municipality's) and its hash.
    stamp = re.compile(r"rules [a-z]+-[0-9][0-9.-]*\+[0-9a-f]{8}")
    assert rows and all(stamp.search(row.split("<details", 1)[1]) for row in rows)
    assert not any(stamp.search(row.split("<details", 1)[0]) for row in rows)


def test_the_newest_notifications_of_all_my_recipients_come_first_whoever_has_the_most(web: Web) -> None:
    from datetime import timedelta

    from activation.adapters import tables as t
    from web.queries import notifications_for

    def note(n: float, recipient: str) -> dict[str, object]:
        return {"id": f"n{n}", "case_id": "c-1", "kind": "escalation", "step": 1, "notify_role": "team_lead",
                "recipient": recipient, "rule_key": "first_meeting", "deadline_due_at": NOW,
                "created_at": NOW + timedelta(minutes=n)}  # fmt: skip

    # The team lead's role gets one every minute; the lead by name twice, among the newest.
    rows = [note(n, "team_lead:arbetsmarknad") for n in range(40)] + [note(n, "tl-01") for n in (35.5, 38.5)]
    with web.rt.engine.begin() as conn:
        conn.execute(t.notifications.insert(), rows)
        found = notifications_for(conn, ["tl-01", "team_lead:arbetsmarknad", "queue:arbetsmarknad"], limit=5)
    assert [x["id"] for x in found] == ["n39", "n38.5", "n38", "n37", "n36"]
