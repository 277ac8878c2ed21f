"""The work duty's week plan on the case page and through the API: one to-do per week short of hours."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from activation.adapters.accounts import Accounts
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds
from tests.test_web_coverage import Site
from tests.web_support import csrf_of


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    yield Site(database_url, config_with(tmp_path, with_rule_kinds))


def test_a_caseworker_plans_a_short_week_on_the_case_page_and_gets_its_to_do_once(site: Site) -> None:
    site.clock.current = at("2026-12-02 10:00", COPENHAGEN)  # Wednesday: the form offers Monday 7 Dec
    [case_id] = site.job_ready_cases(1)
    worker = site.client("caseworker")
    assert f'href="/cases/{case_id}/week-plan"' in worker.get(f"/cases/{case_id}").text
    form = worker.get(f"/cases/{case_id}/week-plan")
    assert form.status_code == 200 and 'value="2026-12-07"' in form.text and 'value="37"' in form.text
    body = {"csrf": csrf_of(form.text), "week_start": "2026-12-07", "required_hours": "37",
            "activity_0": "Virksomhedspraktik", "hours_0": "20",
            "activity_1": "Danskuddannelse", "hours_1": "9"}  # fmt: skip
    wrong = worker.post(f"/cases/{case_id}/week-plan", data={**body, "hours_1": "ni"})
    assert wrong.status_code == 422 and "Hours as a number" in wrong.text and "Danskuddannelse" in wrong.text
    too_many = worker.post(f"/cases/{case_id}/week-plan", data={**body, "hours_1": "18"})
    assert too_many.status_code == 422 and "at most 37 hours" in too_many.text
    saved = worker.post(f"/cases/{case_id}/week-plan", data=body, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?planned=2026-12-07&short=8")
    worker.post(f"/cases/{case_id}/week-plan", data=body, follow_redirects=False)  # the same again
    inbox = worker.get("/inbox").text
    assert inbox.count("Plan the missing activity hours of the week (work duty)") == 1
    again = worker.get(f"/cases/{case_id}/week-plan?week=2026-12-07")
    assert 'value="Virksomhedspraktik"' in again.text and 'value="20"' in again.text
    assert Accounts(site.rt.engine).audit_count("week_plan", case_id) == 2


def test_the_api_saves_a_week_plan_and_refuses_more_than_37_hours(site: Site) -> None:
    site.clock.current = at("2026-12-02 10:00", COPENHAGEN)
    [case_id] = site.job_ready_cases(1)
    client = TestClient(site.app, base_url="https://testserver")
    headers = site.bearer("caseworker")
    body = {"week_start": "2026-12-07", "activities": [{"activity": "Løntimer", "hours": 15}]}
    first = client.post(f"/api/v1/cases/{case_id}/week-plans", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["planned_hours"], first.json()["shortfall"], first.json()["todo_id"]) == (
        15,
        22,
        f"{case_id}.wd202650",
    )
    again = client.post(f"/api/v1/cases/{case_id}/week-plans", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["todo_id"] is None
    over = {**body, "activities": [{"activity": "Praktik", "hours": 30}, {"activity": "Dansk", "hours": 8}]}
    refused = client.post(f"/api/v1/cases/{case_id}/week-plans", json=over, headers=headers)
    assert refused.status_code == 422 and "activities" in refused.json()["fields"]
    tuesday = client.post(
        f"/api/v1/cases/{case_id}/week-plans", json={**body, "week_start": "2026-12-08"}, headers=headers
    )
    assert tuesday.status_code == 422 and "week_start" in tuesday.json()["fields"]
    manager = client.post(f"/api/v1/cases/{case_id}/week-plans", json=body, headers=site.bearer("manager"))
    assert manager.status_code == 403
