"""Acting on a case from its page: book a meeting, pause and resume, record an event, start, withdraw."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from activation import pauses, services
from activation.access import User
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from activation.ports import TodoFilter
from tests.conftest import at
from tests.i18n_support import english_left, visible_text
from tests.web_support import PASSWORD, STAFF, Web, audit_log_unavailable, csrf_of, make_web

NOW = at("2026-11-23 09:00")  # Monday; Karlskrona's 48 hours: the first meeting is due Wednesday 09:00


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _case_for(web: Web, ref: str, caseworker: str | None = "cw-01") -> str:
    recorded = services.record_application(web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker=caseworker)
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return recorded.case_id


def _post(client: TestClient, page_url: str, action: str, form: dict[str, str]) -> tuple[int, str, str]:
    """Open a form's page, post the form with the page's CSRF token; return status, location and text."""
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    response = client.post(action, data={"csrf": csrf_of(page.text), **form}, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


def _audited(web: Web, action: str, case_id: str) -> int:
    return Accounts(web.rt.engine).audit_count(action, case_id)


def _due(web: Web, todo_id: str) -> object:
    with web.rt.store.transaction() as tx:
        todo = tx.todo(todo_id)
    assert todo is not None
    return todo.due_at


def test_a_caseworker_books_a_free_time_and_the_case_page_shows_it(web: Web) -> None:
    case_id = _case_for(web, "ref-book")
    client = web.client("caseworker")
    form = client.get(f"/todos/{case_id}.0/book?minutes=45")
    slots = re.findall(r'name="slot" value="([^"]+)"', form.text)
    # The next ten half-hour starts inside Monday's opening hours (08:00-16:30), all before the deadline.
    assert slots[:2] == ["2026-11-23T09:30:00+01:00", "2026-11-23T10:00:00+01:00"] and len(slots) == 10
    status, location, _ = _post(
        client,
        f"/todos/{case_id}.0/book",
        f"/todos/{case_id}.0/book",
        {"slot": slots[1], "minutes": "45", "place": "Ronnebygatan 1"},
    )
    assert (status, location) == (303, f"/cases/{case_id}?booked={case_id}.0")
    page = client.get(location).text
    assert "Booked." in page and "Meeting booked: Mon, 23 Nov 2026 10:00, 45 min, Ronnebygatan 1" in page
    assert f'href="/todos/{case_id}.0/book">Rebook' in page
    with web.rt.store.transaction() as tx:
        letters = [x for x in tx.pending_letters(20) if x.form == "meeting_booked"]
    assert [x.context["place"] for x in letters] == ["Ronnebygatan 1"]
    assert _audited(web, "book_meeting", case_id) == 1


def test_a_rebooking_replaces_the_time_and_a_time_taken_for_another_case_is_not_offered(web: Web) -> None:
    other = _case_for(web, "ref-other")
    case_id = _case_for(web, "ref-rebook")
    client = web.client("caseworker")
    _post(client, f"/todos/{other}.0/book", f"/todos/{other}.0/book", {"slot": "2026-11-23T09:30:00+01:00"})
    slots = re.findall(r'name="slot" value="([^"]+)"', client.get(f"/todos/{case_id}.0/book").text)
    # cw-01 meets the other citizen 09:30-10:30: an hour-long meeting fits again from 10:30.
    assert slots[0] == "2026-11-23T10:30:00+01:00"
    _post(client, f"/todos/{case_id}.0/book", f"/todos/{case_id}.0/book", {"starts_at": "2026-11-24T13:00"})
    web.clock.current = at("2026-11-23 09:05")
    _post(client, f"/todos/{case_id}.0/book", f"/todos/{case_id}.0/book", {"starts_at": "2026-11-24T14:00"})
    page = client.get(f"/cases/{case_id}").text
    assert "Meeting booked: Tue, 24 Nov 2026 14:00, 60 min, Karlskrona kommun" in page and "13:00, 60 min" not in page


def test_a_time_the_office_cannot_hold_is_refused_beside_the_field_and_nothing_is_booked(web: Web) -> None:
    case_id = _case_for(web, "ref-closed")
    client = web.client("caseworker")
    status, _, text = _post(
        client,
        f"/todos/{case_id}.0/book",
        f"/todos/{case_id}.0/book",
        {"starts_at": "2026-11-28T10:00", "place": "Rum 2"},
    )
    assert status == 422
    assert "The office is closed then: choose a time inside the opening hours" in text and 'value="Rum 2"' in text
    status, _, text = _post(client, f"/todos/{case_id}.0/book", f"/todos/{case_id}.0/book", {})
    assert status == 422 and "Choose a time, or type one." in text
    status, _, text = _post(
        client, f"/todos/{case_id}.0/book", f"/todos/{case_id}.0/book", {"starts_at": "2026-11-24T10:00", "place": "A"}
    )
    assert status == 422 and "A place of 2 to 200 characters, on one line." in text
    with web.rt.store.transaction() as tx:
        assert not [x for x in tx.pending_letters(20) if x.form == "meeting_booked"]


def test_only_an_open_meeting_offers_times_to_book(web: Web) -> None:
    case_id = _case_for(web, "ref-held")
    services.complete_and_move_on(web.rt.store, web.rt.rules, f"{case_id}.0", "held", NOW, "cw-01")
    client = web.client("caseworker")
    for todo_id in (f"{case_id}.0", f"{case_id}.1"):  # the meeting held, the assessment
        page = client.get(f"/todos/{todo_id}/book")
        assert page.status_code == 409 and "This to-do is no longer an open meeting." in page.text


def test_pausing_and_resuming_on_the_page_moves_the_deadline_exactly_as_the_cli_does(web: Web) -> None:
    on_page = _case_for(web, "ref-pause-web")
    by_cli = _case_for(web, "ref-pause-cli")
    original = _due(web, f"{on_page}.0")
    client = web.client("caseworker")
    web.clock.current = at("2026-11-23 10:30")
    status, location, _ = _post(
        client,
        f"/cases/{on_page}/pause",
        f"/cases/{on_page}/pause",
        {"basis": "sickness", "starts_at": "2026-11-23T10:00", "note": "Sjukskriven"},
    )
    assert status == 303 and location.startswith(f"/cases/{on_page}?paused=p-")
    case_page = client.get(location).text
    assert "Paused." in case_page and "paused since Mon, 23 Nov 2026 10:00" in case_page
    web.clock.current = at("2026-11-26 10:00")
    client = web.client("caseworker")  # a session lasts 10 hours: sign in again three days later
    status, location, _ = _post(
        client, f"/cases/{on_page}/pause", f"/cases/{on_page}/resume", {"resumed_at": "2026-11-26T09:00"}
    )
    assert status == 303 and "resumed=" in location
    # What `activation pause c-... sickness --from ...` and `activation resume p-... --at ...` do.
    cli_pause = pauses.record_pause(
        web.rt.store, web.rt.rules, by_cli, "sickness", at("2026-11-23 10:00"), None, at("2026-11-23 10:30")
    )
    pauses.end_pause(web.rt.store, web.rt.rules, cli_pause.pause.id, at("2026-11-26 09:00"), at("2026-11-26 10:00"))
    assert _due(web, f"{on_page}.0") == _due(web, f"{by_cli}.0") != original
    assert _audited(web, "pause", on_page) == 1 and _audited(web, "resume", on_page) == 1


def test_the_pause_form_offers_the_legal_grounds_by_name_and_explains_a_wrong_end(web: Web) -> None:
    case_id = _case_for(web, "ref-pause-wrong")
    client = web.client("caseworker")
    form = client.get(f"/cases/{case_id}/pause").text
    assert '<option value="sickness" >Illness</option>' in form and ">sickness<" not in form
    status, _, text = _post(
        client,
        f"/cases/{case_id}/pause",
        f"/cases/{case_id}/pause",
        {"basis": "sickness", "starts_at": "2026-11-23T08:00", "ends_at": "2026-11-22T08:00"},
    )
    assert status == 422 and "The end must come after the start." in text
    status, _, text = _post(
        client,
        f"/cases/{case_id}/pause",
        f"/cases/{case_id}/pause",
        {"basis": "sickness", "starts_at": "2026-11-30T08:00"},
    )
    assert status == 422 and "A pause starts now or earlier" in text
    with web.rt.store.transaction() as tx:
        assert tx.pauses(case_id) == []


def test_a_job_conversation_recorded_on_the_page_closes_an_overdue_period_as_met(web: Web) -> None:
    case_id = _case_for(web, "ref-event")
    # Karlskrona: a follow-up meeting at least every 6 weeks, the first by Monday 4 January 2027.
    web.clock.current = at("2027-01-08 10:00")
    client = web.client("caseworker")
    before = client.get(f"/cases/{case_id}").text
    assert "No meeting or offer recorded yet." in before
    status, location, _ = _post(
        client,
        f"/cases/{case_id}/event",
        f"/cases/{case_id}/event",
        {"kind": "meeting", "occurred_at": "2026-12-28T10:00", "note": "CV"},
    )
    assert (status, location) == (303, f"/cases/{case_id}?recorded=meeting")
    with web.rt.engine.connect() as conn:
        periods = conn.execute(
            select(t.deadlines.c.status, t.deadlines.c.due_at)
            .where(t.deadlines.c.case_id == case_id, t.deadlines.c.rule_key == "ekonomiskt_bistand.follow_up_meetings")
            .order_by(t.deadlines.c.started_at)
        ).all()
    assert [(s, d) for s, d in periods] == [("met", at("2027-01-04 09:00")), ("open", at("2027-02-08 10:00"))]
    page = client.get(location).text
    obligations = page.split("Obligations: meetings and offers", 1)[1].split("</table>", 1)[0]
    assert "recorded outside the to-dos" in obligations and "CV" in obligations
    assert "Follow-up meetings" in obligations and ">met<" in obligations
    assert _audited(web, "record_event", case_id) == 1


def test_the_same_event_submitted_twice_is_counted_once(web: Web) -> None:
    case_id = _case_for(web, "ref-twice")
    web.clock.current = at("2026-12-01 10:00")
    client = web.client("caseworker")
    form = {"kind": "offer", "occurred_at": "2026-12-01T09:00"}
    for _ in range(2):
        status, _, _ = _post(client, f"/cases/{case_id}/event", f"/cases/{case_id}/event", form)
        assert status == 303
    with web.rt.engine.connect() as conn:
        events = conn.execute(select(func.count()).where(t.case_events.c.case_id == case_id)).scalar_one()
        periods = conn.execute(
            select(func.count()).where(t.deadlines.c.case_id == case_id, t.deadlines.c.rule_key.like("%.offer"))
        ).scalar_one()
    assert (events, periods) == (1, 2)
    assert _audited(web, "record_event", case_id) == 1


def test_an_event_in_the_future_is_refused_in_words(web: Web) -> None:
    case_id = _case_for(web, "ref-future")
    status, _, text = _post(
        web.client("caseworker"),
        f"/cases/{case_id}/event",
        f"/cases/{case_id}/event",
        {"kind": "meeting", "occurred_at": "2026-11-24T09:00"},
    )
    assert status == 422 and "Record it once it has happened" in text


def test_health_information_and_a_coordinated_plan_start_from_the_case_page(web: Web) -> None:
    case_id = _case_for(web, "ref-start")
    client = web.client("team_lead")
    for what in ("health_information", "coordinated_plan"):
        status, location, _ = _post(client, f"/cases/{case_id}", f"/cases/{case_id}/start", {"what": what})
        assert status == 303 and "started=" in location
    with web.rt.store.transaction() as tx:
        kinds = {x.kind for x in tx.list_todos(TodoFilter(case_id=case_id))}
    assert {"health_consent", "coordinated_plan"} <= kinds
    status, _, text = _post(client, f"/cases/{case_id}", f"/cases/{case_id}/start", {"what": "coordinated_plan"})
    assert status == 409 and "That is already under way for this case." in text
    assert _audited(web, "start_beside", case_id) == 2


def test_a_withdrawal_is_recorded_only_after_the_confirmation(web: Web) -> None:
    case_id = _case_for(web, "ref-withdraw")
    client = web.client("caseworker")
    assert f'href="/cases/{case_id}/withdraw"' in client.get(f"/cases/{case_id}").text
    confirm = client.get(f"/cases/{case_id}/withdraw").text
    assert "Are you sure?" in confirm and 'name="confirm" value="yes"' in confirm
    status, _, text = _post(client, f"/cases/{case_id}/withdraw", f"/cases/{case_id}/withdraw", {})
    assert status == 422 and "confirm the withdrawal first" in text
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].status == "open"
    status, location, _ = _post(client, f"/cases/{case_id}/withdraw", f"/cases/{case_id}/withdraw", {"confirm": "yes"})
    assert (status, location) == (303, f"/cases/{case_id}?withdrawn=1")
    with web.rt.store.transaction() as tx:
        case = tx.cases([case_id])[case_id]
        todo = tx.todo(f"{case_id}.0")
    assert (case.status, case.stage) == ("closed", "closed") and todo is not None and todo.outcome == "withdrawn"
    assert _audited(web, "withdraw", case_id) == 1
    assert "Act on the case" not in client.get(f"/cases/{case_id}").text


def test_someone_outside_the_team_cannot_act_and_the_attempt_is_audited(web: Web) -> None:
    case_id = _case_for(web, "ref-outside")
    outsider = web.client("outsider")
    csrf = csrf_of(outsider.get("/profile").text)
    posts = {
        f"/todos/{case_id}.0/book": {"starts_at": "2026-11-24T10:00"},
        f"/cases/{case_id}/pause": {"basis": "sickness", "starts_at": "2026-11-23T08:00"},
        f"/cases/{case_id}/resume": {},
        f"/cases/{case_id}/event": {"kind": "meeting", "occurred_at": "2026-11-23T08:00"},
        f"/cases/{case_id}/start": {"what": "coordinated_plan"},
        f"/cases/{case_id}/withdraw": {"confirm": "yes"},
    }
    for url, form in posts.items():
        response = outsider.post(url, data={"csrf": csrf, **form}, follow_redirects=False)
        assert response.status_code == 404, url
        assert "ref-outside" not in response.text
    assert outsider.get(f"/cases/{case_id}/withdraw").status_code == 404
    assert _audited(web, "denied", case_id) == len(posts) + 1
    # The manager sees the case but does not act on it: 403, audited too; and no form on the page.
    manager = web.client("manager")
    assert "Act on the case" not in manager.get(f"/cases/{case_id}").text
    assert manager.get(f"/cases/{case_id}/pause").status_code == 403
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].status == "open" and tx.pauses(case_id) == []


def test_a_caseworker_of_the_other_team_in_the_same_municipality_gets_404_and_is_audited(web: Web) -> None:
    accounts = Accounts(web.rt.engine)
    mine = User("bo-eb", "Ekonomiskt bistånd", "caseworker", "boras", "ekonomiskt-bistand", "en")
    other = User("bo-jobb", "Jobb Borås", "caseworker", "boras", "jobb-boras", "en")
    for user in (mine, other):
        accounts.add_user(user, PASSWORD, NOW)
    case_id = services.record_application(
        web.rt.store, web.rt.rules, "boras", "bo-1", NOW, "ekonomiskt-bistand"
    ).case_id
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    clients = {}
    for user in (mine, other):
        clients[user.username] = client = web.client()
        client.post("/sign-in", data={"username": user.username, "password": PASSWORD})
    form = {"basis": "sickness", "starts_at": "2026-11-23T08:00"}
    csrf = csrf_of(clients["bo-jobb"].get("/profile").text)
    refused = clients["bo-jobb"].post(f"/cases/{case_id}/pause", data={"csrf": csrf, **form}, follow_redirects=False)
    assert refused.status_code == 404 and "bo-1" not in refused.text
    [line] = accounts.audit_entries("boras", case_id=case_id)
    assert (line["username"], line["action"]) == ("bo-jobb", "denied") and "POST /cases/" in line["detail"]
    status, _, _ = _post(clients["bo-eb"], f"/cases/{case_id}/pause", f"/cases/{case_id}/pause", form)
    assert status == 303


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:
    case_id = _case_for(web, "ref-csrf")
    client = web.client("caseworker")
    response = client.post(f"/cases/{case_id}/withdraw", data={"confirm": "yes"}, follow_redirects=False)
    assert response.status_code == 403
    with web.rt.store.transaction() as tx:
        assert tx.cases([case_id])[case_id].status == "open"


@pytest.mark.parametrize(
    ("municipality", "team", "language"), [("karlskrona", "arbetsmarknad", "sv"), ("allerod", "jobcenter", "da")]
)
def test_the_action_pages_and_their_refusals_leave_no_english_phrase(
    web: Web, municipality: str, team: str, language: str
) -> None:
    reader = User(f"{language}-reader", "Läsare", "caseworker", municipality, team)  # their municipality's language
    Accounts(web.rt.engine).add_user(reader, PASSWORD, NOW)
    recorded = services.record_application(
        web.rt.store, web.rt.rules, municipality, "i18n", NOW, caseworker=reader.username
    )
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    case_id = recorded.case_id
    client = web.client()
    client.post("/sign-in", data={"username": reader.username, "password": PASSWORD})
    pages = {
        url: client.get(url)
        for url in (
            f"/cases/{case_id}",
            f"/todos/{case_id}.0/book",
            f"/cases/{case_id}/pause",
            f"/cases/{case_id}/event",
            f"/cases/{case_id}/withdraw",
        )
    }
    csrf = csrf_of(pages[f"/cases/{case_id}"].text)
    refused = {
        f"/todos/{case_id}.0/book": {"starts_at": "2026-11-28T10:00"},
        f"/cases/{case_id}/pause": {
            "basis": "sickness",
            "starts_at": "2026-11-23T08:00",
            "ends_at": "2026-11-22T08:00",
        },
        f"/cases/{case_id}/event": {"kind": "meeting", "occurred_at": "2026-12-24T10:00"},
        f"/cases/{case_id}/withdraw": {},
    }
    for url, form in refused.items():
        pages[f"POST {url}"] = client.post(url, data={"csrf": csrf, **form})
    left = {}
    for url, page in pages.items():
        assert page.status_code in (200, 422), (url, page.status_code)
        assert f'<html lang="{language}">' in page.text
        # Staff names are data, not the product's words: the synthetic ones ("Caseworker One") are English.
        text = visible_text(page.text)
        for member in STAFF.values():
            text = text.replace(member.display_name, "")
        if found := english_left(text, language):
            left[url] = found
    assert left == {}


def test_the_meeting_to_do_page_links_to_booking_for_its_holder(web: Web) -> None:
    case_id = _case_for(web, "ref-book-link")
    page = web.client("caseworker").get(f"/todos/{case_id}.0")
    assert f'href="/todos/{case_id}.0/book"' in page.text
    assert f'href="/todos/{case_id}.0/book"' not in web.client("manager").get(f"/todos/{case_id}.0").text


def _written(web: Web, case_id: str, action: str) -> tuple[object, ...]:
    """Return what an action may have left on a case: its rows, its clocks' and to-dos' state, its audit lines."""
    with web.rt.engine.connect() as conn:
        counts = tuple(
            conn.execute(select(func.count()).where(table.c.case_id == case_id)).scalar_one()
            for table in (t.pauses, t.case_events, t.letters)
        )
        audited = conn.execute(
            select(func.count()).where(t.audit_log.c.case_id == case_id, t.audit_log.c.action == action)
        ).scalar_one()
        todos = conn.execute(select(t.todos.c.id, t.todos.c.status).where(t.todos.c.case_id == case_id)).all()
        clocks = conn.execute(
            select(t.deadlines.c.id, t.deadlines.c.status, t.deadlines.c.revision).where(
                t.deadlines.c.case_id == case_id
            )
        ).all()
        status = conn.execute(select(t.cases.c.status).where(t.cases.c.id == case_id)).scalar_one()
    return (*counts, audited, sorted(tuple(x) for x in todos), sorted(tuple(x) for x in clocks), status)


# Each action on the case page: the page its form is on, where it posts, what it posts.
ACTIONS = {
    "book_meeting": ("/todos/{case}.0/book", "/todos/{case}.0/book", {"starts_at": "2026-12-02T10:00"}),
    "pause": ("/cases/{case}/pause", "/cases/{case}/pause", {"basis": "sickness", "starts_at": "2026-12-01T09:00"}),
    "record_event": (
        "/cases/{case}/event",
        "/cases/{case}/event",
        {"kind": "offer", "occurred_at": "2026-12-01T09:00"},
    ),
    "start_beside": ("/cases/{case}", "/cases/{case}/start", {"what": "coordinated_plan"}),
    "withdraw": ("/cases/{case}/withdraw", "/cases/{case}/withdraw", {"confirm": "yes"}),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_an_action_on_the_case_page_and_its_audit_line_are_written_together_or_not_at_all(
    web: Web, action: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case_for(web, f"ref-together-{action}")
    form_page, target, form = ACTIONS[action]
    form_page, target = form_page.format(case=case_id), target.format(case=case_id)
    web.clock.current = at("2026-12-01 10:00")
    client = web.client("caseworker")
    before = _written(web, case_id, action)

    # The audit line cannot be written: the action is not recorded either (it was, when the line came after).
    audit_log_unavailable(monkeypatch)
    with pytest.raises(RuntimeError, match="audit log"):
        _post(client, form_page, target, form)
    assert _written(web, case_id, action) == before
    monkeypatch.undo()
    status, _location, text = _post(client, form_page, target, form)
    assert status == 303, text
    assert _written(web, case_id, action) != before
    lines = Accounts(web.rt.engine).audit_entries("karlskrona", case_id=case_id)
    assert [(x["username"], x["via"]) for x in lines if x["action"] == action] == [("cw-01", "web")]
