"""A web application over a test database, with one user per role, and clients signed in as each."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from activation.access import User
from activation.adapters.accounts import Accounts
from activation.ports import FixedClock
from activation.runtime import Runtime, get_runtime
from web.app import WebSettings, create_app

PASSWORD = "correct-horse-battery"
# Synthetic staff of Karlskrona's one team, one per role, plus a caseworker of another municipality.
# They read the pages in English (their profile's choice), so the tests can check the English text;
# tests/test_i18n_pages.py signs in staff who read their municipality's language.
STAFF = {
    "caseworker": User("cw-01", "Caseworker One", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    "caseworker2": User("cw-02", "Caseworker Two", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    "team_lead": User("tl-01", "Team Lead", "team_lead", "karlskrona", "arbetsmarknad", "en"),
    "manager": User("mgr-01", "Manager", "manager", "karlskrona", language="en"),
    "operations": User("ops-01", "Operations", "operations", language="en"),
    "outsider": User("cw-vx", "Växjö Caseworker", "caseworker", "vaxjo", "koordinatorer", "en"),
}


@dataclass
class Web:
    """The app, its runtime and clock, and a way to get a client signed in as someone."""

    url: str
    rt: Runtime
    clock: FixedClock
    settings: WebSettings
    app: FastAPI = field(init=False)

    def __post_init__(self) -> None:
        self.app = create_app(self.settings)

    def client(self, who: str | None = None) -> TestClient:
        """Return a client (HTTPS, so Secure cookies travel), signed in as STAFF[who] if given."""
        client = TestClient(self.app, base_url="https://testserver")
        if who is not None:
            response = client.post(
                "/sign-in", data={"username": STAFF[who].username, "password": PASSWORD}, follow_redirects=False
            )
            assert response.status_code == 303, response.text
        return client

    def token(self, who: str) -> str:
        """Return a fresh API bearer token for STAFF[who]."""
        return Accounts(self.rt.engine).issue_api_token(STAFF[who].username)


def make_web(database_url: str, now: datetime) -> Web:
    """Build the web app on a migrated test database with STAFF in it and the clock at now."""
    rt = get_runtime(database_url)
    accounts = Accounts(rt.engine)
    for user in STAFF.values():
        accounts.add_user(user, PASSWORD, now)
    clock = FixedClock(now)
    return Web(database_url, rt, clock, WebSettings(db_url=database_url, clock=clock))


def csrf_of(html: str) -> str:
    """Return the CSRF token embedded in a page's forms."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def audit_log_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every audit line written in a transaction fail, as a full disk or a lost connection would."""
    from activation.adapters.sql import SqlTransaction

    def unavailable(*_args: object) -> None:
        raise RuntimeError("the audit log cannot be written")

    monkeypatch.setattr(SqlTransaction, "record_access", unavailable)
