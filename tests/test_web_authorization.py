"""Every route of the web application and the API, tried as every role: only the allowed get through.

The expected access is written out here by hand; a route the application serves that this table
does not name fails the test, so a new page cannot ship without a decision about who may use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from activation import meeting_hours, services
from tests.conftest import at
from tests.web_support import Web, make_web

NOW = at("2026-11-23 09:00")
PUBLIC = "public"
CASE_ROLES = {"caseworker", "team_lead", "manager"}
ACTORS = {"caseworker", "team_lead"}

ACCESS: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("GET", "/"): {"caseworker", "team_lead", "manager", "operations", "outsider"},
    ("POST", "/sign-out"): {"caseworker", "team_lead", "manager", "operations", "outsider"},
    ("GET", "/profile"): {"caseworker", "team_lead", "manager", "operations", "outsider"},
    ("POST", "/profile"): {"caseworker", "team_lead", "manager", "operations", "outsider"},
    ("GET", "/inbox"): {"caseworker", "team_lead", "outsider"},
    ("GET", "/search"): CASE_ROLES | {"outsider"},  # finding nothing outside access: tests/test_web_search.py
    ("GET", "/team"): {"team_lead"},
    ("POST", "/team/assign"): {"team_lead"},
    ("GET", "/cases/{case_id}"): CASE_ROLES,
    ("GET", "/todos/{todo_id}"): CASE_ROLES,
    ("POST", "/todos/{todo_id}"): {"caseworker", "team_lead"},  # the manager may only read this one
    ("POST", "/todos/{todo_id}/take"): {"caseworker"},
    ("POST", "/todos/{todo_id}/discard-draft"): {"caseworker", "team_lead"},
    ("POST", "/cases/{case_id}/reassign"): {"team_lead"},
    # Acting on a case: the team's caseworkers and its lead; the manager reads only (web/case_actions.py).
    ("GET", "/todos/{todo_id}/book"): ACTORS,
    ("POST", "/todos/{todo_id}/book"): ACTORS,
    ("POST", "/todos/{todo_id}/book/cancel"): ACTORS,
    ("GET", "/cases/{case_id}/pause"): ACTORS,
    ("POST", "/cases/{case_id}/pause"): ACTORS,
    ("POST", "/cases/{case_id}/resume"): ACTORS,
    ("GET", "/cases/{case_id}/event"): ACTORS,
    ("POST", "/cases/{case_id}/event"): ACTORS,
    ("POST", "/cases/{case_id}/start"): ACTORS,
    ("GET", "/cases/{case_id}/withdraw"): ACTORS,
    ("POST", "/cases/{case_id}/withdraw"): ACTORS,
    ("GET", "/cases/{case_id}/exemption"): ACTORS,
    ("POST", "/cases/{case_id}/exemption"): ACTORS,
    ("GET", "/cases/{case_id}/week-plan"): ACTORS,
    ("POST", "/cases/{case_id}/week-plan"): ACTORS,
    ("GET", "/console"): {"manager"},
    ("GET", "/console/audit"): {"manager"},
    ("GET", "/console/versions"): {"manager"},
    ("GET", "/console/simulate"): {"manager"},
    ("GET", "/console/coverage"): {"manager"},
    ("POST", "/console/versions/{version}/apply"): {"manager"},
    ("GET", "/operations"): {"operations"},
    ("POST", "/api/v1/applications"): CASE_ROLES,
    ("GET", "/api/v1/todos"): CASE_ROLES | {"outsider"},
    ("POST", "/api/v1/todos/{todo_id}/complete"): {"caseworker", "team_lead"},
    ("POST", "/api/v1/todos/assign"): {"team_lead"},
    ("GET", "/api/v1/cases/{case_id}"): CASE_ROLES,
    ("POST", "/api/v1/todos/{todo_id}/book"): ACTORS,
    ("POST", "/api/v1/todos/{todo_id}/book/cancel"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/pauses"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/resume"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/events"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/start"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/withdraw"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/exemptions"): ACTORS,
    ("POST", "/api/v1/cases/{case_id}/week-plans"): ACTORS,
    ("GET", "/api/v1/coverage"): {"manager"},
    # Meeting hours (issue 15): the caseworker (cw-01) themselves and their team lead.
    ("GET", "/api/v1/caseworkers/{username}/availability"): ACTORS,
    ("PUT", "/api/v1/caseworkers/{username}/availability"): ACTORS,
    ("POST", "/api/v1/caseworkers/{username}/absences"): ACTORS,
    ("DELETE", "/api/v1/caseworkers/{username}/absences/{absence_id}"): ACTORS,
    ("GET", "/api/v1/todos/{todo_id}/proposed-slot"): CASE_ROLES,
}
ROLES = ["anonymous", "caseworker", "team_lead", "manager", "operations", "outsider"]


def served_routes(app: Any) -> set[tuple[str, str]]:
    """Return (method, path) of every route the application serves (static files aside)."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif getattr(route, "methods", None):
                found.update((m, route.path) for m in route.methods if m != "HEAD")

    walk(app.routes)
    return found


@pytest.fixture
def web(tmp_path: Any) -> Iterator[Web]:
    yield make_web(f"sqlite:///{tmp_path / 'authz.db'}", NOW)


def _new_case(web: Web, ref: str, caseworker: str | None = "cw-01") -> str:
    case_id = services.record_application(
        web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker=caseworker
    ).case_id
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return case_id


def _absence(web: Web) -> str:
    """Return the id of a new absence of cw-01, for the route that removes one."""
    added = meeting_hours.add_absence(web.rt.store, None, "cw-01", "course", NOW.date(), NOW.date(), NOW, by="ops")
    return str(added.id)


def _client(web: Web, role: str) -> tuple[TestClient, dict[str, str], str]:
    """Return a client signed in as the role (cookies), its API headers and its CSRF token."""
    if role == "anonymous":
        return web.client(), {}, ""
    client = web.client(role)
    page = client.get("/sign-in")  # any page carries the sign-out form, and with it the CSRF token
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client, {"Authorization": f"Bearer {web.token(role)}"}, csrf


def _call(web: Web, role: str, method: str, path: str, n: int) -> Any:
    client, api_headers, csrf = _client(web, role)
    queued = path.endswith("/take")
    case_id = _new_case(web, f"authz-{n}", caseworker=None if queued else "cw-01")
    # No later rule version ships, so applying the first one is refused as input (422), not as access.
    url = (
        path.replace("{case_id}", case_id)
        .replace("{todo_id}", f"{case_id}.0")
        .replace("{version}", "karlskrona-2026.1")
        .replace("{username}", "cw-01")
        .replace("{absence_id}", _absence(web) if "{absence_id}" in path else "")
    )
    if url.startswith("/api/"):
        body = (
            {"municipality": "karlskrona", "citizen_ref": f"authz-api-{n}"}
            if url.endswith("/applications")
            else {"outcome": "held"}
        )
        return client.request(method, url, headers=api_headers, json=body if method == "POST" else None)
    if method == "POST":
        form = {"csrf": csrf, "outcome": "held", "caseworker": "cw-02", "username": "cw-01", "password": "x" * 12}
        return client.post(url, data=form, follow_redirects=False)
    return client.get(url, follow_redirects=False)


def test_the_access_table_names_every_route_the_application_serves(tmp_path: Any) -> None:
    web = make_web(f"sqlite:///{tmp_path / 'routes.db'}", NOW)
    assert served_routes(web.app) == set(ACCESS)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_lets_in_exactly_the_roles_allowed(web: Web, role: str) -> None:
    wrong: list[str] = []
    for n, ((method, path), allowed) in enumerate(sorted(ACCESS.items())):
        response = _call(web, role, method, path, n)
        status = response.status_code
        location = response.headers.get("location", "")
        if status >= 500:
            wrong.append(f"{method} {path}: server error {status}")
            continue
        refused = status in (401, 403, 404) or location.startswith("/sign-in?next=")
        if allowed == PUBLIC:
            ok = not refused or (method == "POST" and path == "/sign-in" and status == 401)
        else:
            ok = (role in allowed) != refused
        if not ok:
            wrong.append(f"{method} {path}: {status} {location}".strip())
    assert not wrong, f"as {role}: " + "; ".join(wrong)


@pytest.mark.parametrize("role", ["anonymous", "operations", "outsider"])
def test_case_pages_and_case_reads_are_refused_to_those_outside_the_team(web: Web, role: str) -> None:
    case_id = _new_case(web, f"authz-outside-{role}")
    client, api_headers, _ = _client(web, role)
    for url in (f"/cases/{case_id}", f"/todos/{case_id}.0"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code in (303, 403, 404), url
        assert "authz-outside" not in response.text
    api = client.get(f"/api/v1/cases/{case_id}", headers=api_headers)
    assert api.status_code in (401, 403, 404) and "authz-outside" not in api.text
