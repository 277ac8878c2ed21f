"""Coverage targets in the browser and the API: a caseworker exempts a case, the manager reads the month."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from activation import case_events, services
from activation.access import User
from activation.adapters.accounts import Accounts
from activation.ports import FixedClock
from activation.runtime import get_runtime
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds
from tests.web_support import PASSWORD, csrf_of
from web.app import WebSettings, create_app

NOW = at("2027-02-01 10:00", COPENHAGEN)
STAFF = {
    "caseworker": User("cw-a1", "Caseworker Allerød", "caseworker", "allerod", "jobcenter", "en"),
    "manager": User("mgr-a1", "Manager Allerød", "manager", "allerod", language="en"),
}


class Site:
    """The web app over Allerød's rules with the rule kinds of issue 13, and clients signed in as STAFF."""

    def __init__(self, url: str, config_dir: Path) -> None:
        self.rt = get_runtime(url, config_dir)
        accounts = Accounts(self.rt.engine)
        for user in STAFF.values():
            accounts.add_user(user, PASSWORD, NOW)
        self.clock = FixedClock(NOW)
        self.app = create_app(WebSettings(db_url=url, config_dir=str(config_dir), clock=self.clock))

    def client(self, who: str) -> TestClient:
        client = TestClient(self.app, base_url="https://testserver")
        signed = client.post("/sign-in", data={"username": STAFF[who].username, "password": PASSWORD})
        assert signed.status_code in (200, 303), signed.text
        return client

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {Accounts(self.rt.engine).issue_api_token(STAFF[who].username)}"}

    def job_ready_cases(self, count: int) -> list[str]:
        ids = [
            services.record_application(
                self.rt.store, self.rt.rules, "allerod", f"w-{n}", at("2026-11-02 10:00", COPENHAGEN),
                group="job_ready", caseworker="cw-a1",
            ).case_id
            for n in range(count)
        ]  # fmt: skip
        services.advance_cases(self.rt.store, self.rt.rules, at("2026-11-02 10:00", COPENHAGEN))
        return ids


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    yield Site(database_url, config_with(tmp_path, with_rule_kinds))


def test_a_caseworker_exempts_a_case_on_its_page_and_the_manager_sees_the_month(site: Site) -> None:
    cases = site.job_ready_cases(4)
    offered = at("2027-01-11 10:00", COPENHAGEN)
    for case_id in cases[:2]:
        case_events.record_event(site.rt.store, site.rt.rules, case_id, "offer", offered, offered, "cw-a1")
    worker = site.client("caseworker")
    case_page = worker.get(f"/cases/{cases[2]}")
    assert f'href="/cases/{cases[2]}/exemption"' in case_page.text
    form = worker.get(f"/cases/{cases[2]}/exemption")
    assert form.status_code == 200 and "Vurderes selv at kunne komme i job" in form.text
    missing = worker.post(
        f"/cases/{cases[2]}/exemption", data={"csrf": csrf_of(form.text), "target": "job_ready_offer"}
    )
    assert missing.status_code == 422 and "Choose the reason." in missing.text
    done = worker.post(
        f"/cases/{cases[2]}/exemption",
        data={
            "csrf": csrf_of(form.text),
            "target": "job_ready_offer",
            "reason": "finds_job_themselves",
            "note": "Har selv fundet job fra 1. juni",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    shown = worker.get(f"/cases/{cases[2]}").text
    assert "Exempted from coverage targets" in shown and "Vurderes selv at kunne komme i job" in shown
    assert Accounts(site.rt.engine).audit_count("exempt", cases[2]) == 1
    # In May 2027 (the first offers are due Monday 3 May): 4 cases, 2 met, floor(4 x 25 %) = 1 exempt: 2 of 3.
    site.clock.current = at("2027-06-01 09:00", COPENHAGEN)
    page = site.client("manager").get("/console/coverage?months=2")
    assert page.status_code == 200
    offers = page.text.split("Tilbud i de første 6 måneder (jobparate)", 1)[1]  # the second target's table
    may = offers.split("2027-05", 1)[1].split("</tr>", 1)[0]
    assert "66.7 %" in may and "below" in may
    assert site.client("caseworker").get("/console/coverage").status_code == 403


def test_the_api_exempts_once_and_gives_the_manager_the_shares(site: Site) -> None:
    [case_id] = site.job_ready_cases(1)
    client = TestClient(site.app, base_url="https://testserver")
    body = {"target": "job_ready_offer", "reason": "job_or_education_soon"}
    first = client.post(f"/api/v1/cases/{case_id}/exemptions", json=body, headers=site.bearer("caseworker"))
    assert first.status_code == 201, first.text
    again = client.post(f"/api/v1/cases/{case_id}/exemptions", json=body, headers=site.bearer("caseworker"))
    assert again.status_code == 200 and again.json()["repeated"] is True
    other = client.post(
        f"/api/v1/cases/{case_id}/exemptions",
        json={**body, "reason": "finds_job_themselves"},
        headers=site.bearer("caseworker"),
    )
    assert other.status_code == 409
    wrong = client.post(
        f"/api/v1/cases/{case_id}/exemptions", json={**body, "reason": "bored"}, headers=site.bearer("caseworker")
    )
    assert wrong.status_code == 422 and "reason" in wrong.json()["fields"]
    site.clock.current = at("2027-05-01 09:00", COPENHAGEN)  # the first offer is due Monday 3 May 15:30
    shares = client.get("/api/v1/coverage?months=1", headers=site.bearer("manager"))
    assert shares.status_code == 200, shares.text
    [may] = shares.json()["targets"]["job_ready_offer"]
    # One case, exempted, but floor(1 x 25 %) = 0 exemptions allowed: it counts, still open, not yet due.
    assert (may["month"], may["forecast"], may["cases"], may["exempt"], may["over_cap"], may["pending"]) == (
        "2027-05",
        True,
        1,
        0,
        1,
        1,
    )
    assert client.get("/api/v1/coverage", headers=site.bearer("caseworker")).status_code == 403


def test_job_conversations_recorded_through_the_api_meet_the_first_period(site: Site) -> None:
    [case_id] = site.job_ready_cases(1)
    client = TestClient(site.app, base_url="https://testserver")
    headers = site.bearer("caseworker")
    closed = []
    for when in ("2026-11-10T10:00:00+01:00", "2026-12-01T10:00:00+01:00", "2027-01-05T10:00:00+01:00"):
        answer = client.post(
            f"/api/v1/cases/{case_id}/events", json={"kind": "job_conversation", "occurred_at": when}, headers=headers
        )
        assert answer.status_code == 201, answer.text
        closed += answer.json()["closed"]
    assert [c for c in closed if "first_conversations" in c["deadline_id"]] == []  # 3 of 4: still owed
    fourth = client.post(
        f"/api/v1/cases/{case_id}/events",
        json={"kind": "meeting", "occurred_at": "2027-01-20T10:00:00+01:00"},
        headers=headers,
    )
    assert {"deadline_id": f"{case_id}.job_ready.first_conversations.0", "status": "met"} in fourth.json()["closed"]
