"""The team lead's view: overdue work first, caseload per caseworker, and assigning the queue in bulk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from activation import services
from activation.adapters import tables as t
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.i18n_support import visible_text
from tests.web_support import Web, csrf_of, make_web

NOW = at("2026-11-23 09:00")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _open(web: Web, refs: list[str], caseworker: str | None = None, municipality: str = "karlskrona") -> list[str]:
    ids = [
        services.record_application(web.rt.store, web.rt.rules, municipality, ref, NOW, caseworker=caseworker).case_id
        for ref in refs
    ]
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return ids


def _caseworkers(web: Web, case_ids: list[str]) -> dict[str, str | None]:
    with web.rt.store.transaction() as tx:
        return {k: c.caseworker for k, c in tx.cases(case_ids).items()}


def _assign(web: Web, todo_ids: list[str], caseworker: str) -> httpx.Response:
    lead = web.client("team_lead")
    csrf = csrf_of(lead.get("/team").text)
    form = {"csrf": csrf, "caseworker": caseworker, "todo": todo_ids}
    answer: httpx.Response = lead.post("/team/assign", data=form, follow_redirects=False)
    return answer


def test_the_team_view_leads_with_overdue_work_then_caseload_then_the_queue(web: Web) -> None:
    held = _open(web, ["team-1", "team-2"], caseworker="cw-01")
    queued = _open(web, ["team-3"])
    web.clock.current = NOW + timedelta(weeks=5)
    page = web.client("team_lead").get("/team")
    assert page.status_code == 200
    html = page.text
    order = [html.index(f'<h2 id="{anchor}"') for anchor in ("late", "owed", "caseload", "queue")]
    assert order == sorted(order)
    assert "<strong>3</strong> to-dos overdue" in html and "<strong>3</strong> meetings and offers overdue" in html
    caseload = html[order[2] : order[3]]
    rows = {
        cells[0]: cells[1:]
        for row in caseload.split("<tr>")[2:]
        if (cells := [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]])
    }
    assert rows["Caseworker One"] == ["2", "2", "2", "2"]
    assert rows["Caseworker Two"] == ["0", "0", "0", "0"]
    assert rows["Team queue: Arbetsmarknadsenheten"] == ["1", "1", "1", "1"]
    queue = html[order[3] :]
    assert f'name="todo" value="{queued[0]}.0"' in queue and not any(f'value="{c}.0"' in queue for c in held)
    text = visible_text(html)
    assert "queue:arbetsmarknad" not in text and "ekonomiskt_bistand" not in text


def _caseload(html: str) -> dict[str, list[str]]:
    part = html[html.index('<h2 id="caseload"') : html.index('<h2 id="queue"')]
    return {
        cells[0]: cells[1:]
        for row in part.split("<tr>")[2:]
        if (cells := [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("<td")[1:]])
    }


def test_someone_no_longer_in_the_team_who_still_holds_cases_is_in_the_caseload_after_the_caseworkers(
    web: Web,
) -> None:
    _open(web, ["left-1", "left-2"], caseworker="cw-left")  # no account (left, or assigned from the CLI)
    _open(web, ["held-1"], caseworker="cw-01")
    _open(web, ["elsewhere-1"], caseworker="cw-vx", municipality="vaxjo")  # another municipality's holder
    web.clock.current = NOW + timedelta(weeks=5)
    rows = _caseload(web.client("team_lead").get("/team").text)
    assert list(rows) == ["Team queue: Arbetsmarknadsenheten", "Caseworker One", "Caseworker Two", "cw-left"]
    assert rows["cw-left"] == ["2", "2", "2", "2"] and rows["Caseworker One"] == ["1", "1", "1", "1"]


def test_bulk_assign_of_three_queue_items_applies_the_continuity_rule(web: Web) -> None:
    cases = _open(web, ["bulk-1", "bulk-2", "bulk-3"])
    todos = [f"{c}.0" for c in cases]
    first = _assign(web, todos, "cw-01")
    assert first.status_code == 303
    assert _caseworkers(web, cases) == dict.fromkeys(cases, "cw-01")
    with web.rt.store.transaction() as tx:
        assert [getattr(tx.todo(x), "assignee", None) for x in todos] == ["cw-01"] * 3
        assert all(tx.caseworker_changes(c) == [] for c in cases)  # the first caseworker is no change
    # Karlskrona allows 2 changes in 12 months; the third change of each case alerts the team lead.
    for n, who in enumerate(("cw-02", "cw-01", "cw-02"), start=1):
        web.clock.current = NOW + timedelta(days=n)
        answer = _assign(web, todos, who)
        assert answer.headers["location"] == f"/team?assigned=3&to={who}&alerts={3 if n == 3 else 0}#queue"
    with web.rt.engine.connect() as conn:
        alerts = conn.execute(
            select(t.notifications.c.case_id, t.notifications.c.recipient).where(t.notifications.c.kind == "alert")
        ).all()
    assert sorted(alerts) == sorted((c, "team_lead:arbetsmarknad") for c in cases)
    done = web.client("team_lead").get("/team?assigned=3&to=cw-02&alerts=3").text
    assert "3 cases given to Caseworker Two." in done and "3 of them have changed caseworker too often" in done
    audit = [e for e in Accounts(web.rt.engine).audit_entries("karlskrona") if e["action"] == "reassign"]
    assert len(audit) == 12 and {e["via"] for e in audit} == {"web"}


def test_bulk_assign_moves_nothing_when_one_to_do_is_not_the_teams(web: Web) -> None:
    mine = _open(web, ["mixed-1", "mixed-2"])
    elsewhere = _open(web, ["mixed-vx"], municipality="vaxjo")
    answer = _assign(web, [f"{mine[0]}.0", f"{elsewhere[0]}.0", f"{mine[1]}.0"], "cw-01")
    assert answer.status_code == 404
    assert _caseworkers(web, mine) == dict.fromkeys(mine, None)


def test_bulk_assign_refuses_a_caseworker_of_another_team_and_an_empty_choice(web: Web) -> None:
    cases = _open(web, ["refuse-1"])
    wrong = _assign(web, [f"{cases[0]}.0"], "cw-vx")
    assert wrong.status_code == 422 and "Choose a caseworker of the team." in wrong.text
    empty = _assign(web, [], "cw-01")
    assert empty.status_code == 422 and "Choose at least one to-do from the team queue." in empty.text
    assert _caseworkers(web, cases) == {cases[0]: None}


def test_the_api_assigns_several_to_dos_at_once_with_the_same_rule(web: Web) -> None:
    cases = _open(web, ["api-1", "api-2"])
    client = web.client()
    lead = {"Authorization": f"Bearer {web.token('team_lead')}"}
    body = {"todo_ids": [f"{cases[0]}.0", f"{cases[1]}.0", f"{cases[0]}.0"], "caseworker": "cw-02"}
    answer = client.post("/api/v1/todos/assign", json=body, headers=lead)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == 2  # one per case, however often a case's to-dos are named
    assert {(i["case_id"], i["previous"], i["changes_in_window"], i["alerted"]) for i in answer.json()["items"]} == {
        (cases[0], None, 0, False), (cases[1], None, 0, False)
    }  # fmt: skip
    assert _caseworkers(web, cases) == dict.fromkeys(cases, "cw-02")
    audit = [e for e in Accounts(web.rt.engine).audit_entries("karlskrona") if e["action"] == "reassign"]
    assert sorted((e["case_id"], e["via"], e["username"]) for e in audit) == sorted((c, "api", "tl-01") for c in cases)
    again = client.post("/api/v1/todos/assign", json={**body, "caseworker": "cw-01"}, headers=lead).json()
    assert {(i["previous"], i["changes_in_window"]) for i in again["items"]} == {("cw-02", 1)}
    caseworker = {"Authorization": f"Bearer {web.token('caseworker')}"}
    assert client.post("/api/v1/todos/assign", json=body, headers=caseworker).status_code == 403
    assert client.post("/api/v1/todos/assign", json={**body, "todo_ids": []}, headers=lead).status_code == 422
    spec = client.get("/openapi.json").json()["paths"]["/api/v1/todos/assign"]["post"]
    assert spec["operationId"] == "assignTodos" and {"200", "401", "403", "404", "409", "422"} <= set(spec["responses"])


def test_a_done_to_do_is_a_conflict_and_nothing_moves(web: Web) -> None:
    cases = _open(web, ["done-1", "done-2"])
    services.complete_and_move_on(web.rt.store, web.rt.rules, f"{cases[0]}.0", "held", NOW, "tl-01")
    lead = {"Authorization": f"Bearer {web.token('team_lead')}"}
    body = {"todo_ids": [f"{cases[0]}.0", f"{cases[1]}.0"], "caseworker": "cw-01"}
    assert web.client().post("/api/v1/todos/assign", json=body, headers=lead).status_code == 409
    assert _caseworkers(web, cases) == dict.fromkeys(cases, None)
