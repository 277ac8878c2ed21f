"""The web application in a real headless Chromium (Debian's, driven by Playwright): what users see.

The screenshots in docs/screenshots/ that the README shows are taken here: in English, and the
caseworker's main path and the console in Swedish (Karlskrona) and Danish (Allerød).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from activation import services
from activation.access import User
from activation.adapters.accounts import Accounts
from activation.ports import FixedClock
from activation.runtime import get_runtime
from tests.conftest import at
from tests.i18n_support import english_left
from web.app import WebSettings
from web.serve import start_in_background, web_server

CHROMIUM = os.environ.get("ACTIVATION_CHROMIUM", "/usr/bin/chromium")
# Flags for a closed network: without the background-networking ones Chromium keeps dialling Google.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "browser-test-password"
NOW = at("2026-11-23 10:00")
STAFF = [
    # Karlskrona's staff read English here (their profile's choice); the English screenshots are theirs.
    User("cw-01", "Lena Ström", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    User("cw-02", "Omar Said", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    User("tl-01", "Per Nyberg", "team_lead", "karlskrona", "arbetsmarknad", "en"),
    User("mgr-01", "Sara Lind", "manager", "karlskrona", language="en"),
    User("ops-01", "Operations", "operations"),
    # Staff who read their municipality's language: Swedish in Karlskrona, Danish in Allerød.
    User("sv-cw", "Karin Lund", "caseworker", "karlskrona", "arbetsmarknad"),
    User("sv-mgr", "Anders Ek", "manager", "karlskrona"),
    User("dk-cw", "Jonas Berg", "caseworker", "allerod", "jobcenter"),
    User("dk-tl", "Mette Holm", "team_lead", "allerod", "jobcenter"),
    User("dk-mgr", "Lone Dahl", "manager", "allerod"),
]


@dataclass
class Site:
    """The served application and what was seeded into it."""

    base: str
    case_id: str
    citizen_refs: list[str]
    case_ids: list[str]
    local: dict[str, str]  # per municipality: a fresh case whose first meeting its own-language staff hold


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str) -> tuple[str, list[str], list[str]]:
    """Create staff and eight weeks of synthetic cases: most meetings held in time, some late, one paused."""
    rt = get_runtime(url)
    accounts = Accounts(rt.engine)
    for user in STAFF:
        accounts.add_user(user, PASSWORD, NOW - timedelta(days=90))
    refs: list[str] = []
    ids: list[str] = []
    start = NOW - timedelta(weeks=8)
    for n in range(24):
        received = start + timedelta(days=n * 2, hours=1)
        ref = f"synthetic-ref-{n:03d}"
        case_id = services.record_application(
            rt.store,
            rt.rules,
            "karlskrona",
            ref,
            received,
            caseworker=None if n % 6 == 5 else ("cw-01", "cw-02")[n % 2],
        ).case_id
        refs.append(ref)
        ids.append(case_id)
        services.advance_cases(rt.store, rt.rules, received + timedelta(minutes=5))
        if n % 5 == 4:
            continue  # left open: overdue by now
        held = received + (timedelta(days=4) if n % 4 == 0 else timedelta(hours=20))  # every fourth is late
        services.complete_todo(rt.store, f"{case_id}.0", "held", held, "cw-01", None, rt.rules)
        services.advance_cases(rt.store, rt.rules, held + timedelta(minutes=5))
    services.sweep(rt.store, NOW)
    fresh = services.record_application(
        rt.store, rt.rules, "karlskrona", "synthetic-ref-fresh", NOW - timedelta(hours=2), caseworker="cw-01"
    ).case_id
    services.advance_cases(rt.store, rt.rules, NOW - timedelta(hours=1))
    return fresh, [*refs, "synthetic-ref-fresh"], [*ids, fresh]


def _seed_local(url: str) -> dict[str, str]:
    """Give the Swedish caseworker and the Danish team's caseworker a case each, plus Allerød some history."""
    rt = get_runtime(url)
    start = NOW - timedelta(weeks=6)
    for n in range(10):
        received = start + timedelta(days=n * 3, hours=2)
        case_id = services.record_application(
            rt.store, rt.rules, "allerod", f"synthetic-dk-{n:03d}", received, caseworker=None if n % 4 == 3 else "dk-cw"
        ).case_id
        services.advance_cases(rt.store, rt.rules, received + timedelta(minutes=5))
        if n % 3 != 2:
            held = received + (timedelta(weeks=5) if n % 5 == 0 else timedelta(days=3))
            services.complete_todo(rt.store, f"{case_id}.0", "held", held, "dk-cw", None, rt.rules)
            services.advance_cases(rt.store, rt.rules, held + timedelta(minutes=5))
    services.sweep(rt.store, NOW)
    fresh = {}
    for municipality, caseworker in (("karlskrona", "sv-cw"), ("allerod", "dk-cw")):
        fresh[municipality] = services.record_application(
            rt.store, rt.rules, municipality, f"synthetic-{municipality}-walk", NOW - timedelta(hours=3),
            caseworker=caseworker,
        ).case_id  # fmt: skip
    services.advance_cases(rt.store, rt.rules, NOW - timedelta(hours=1))
    return fresh


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.db'}"
    fresh, refs, ids = _seed(url)
    local = _seed_local(url)
    port = _free_port()
    server = web_server("127.0.0.1", port, WebSettings(db_url=url, clock=FixedClock(NOW)))
    thread = start_in_background(server, print)
    yield Site(f"http://127.0.0.1:{port}", fresh, refs, ids, local)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium), as .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(browser: Any, site: Site, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site.base}/")
    assert "/sign-in" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_a_caseworker_signs_in_holds_the_first_meeting_and_sees_the_assessment_to_do(browser: Any, site: Site) -> None:
    page = _sign_in(browser, site, "cw-01")
    page.wait_for_url(f"{site.base}/inbox")
    assert page.locator("h1").inner_text() == "Inbox"
    row = page.locator(f"tr:has(a[href='/cases/{site.case_id}'])").first
    assert "Hold the first meeting" in row.inner_text()
    row.locator("a", has_text="Hold the first meeting").click()
    page.wait_for_url(f"{site.base}/todos/{site.case_id}.0")
    page.check("input[name=outcome][value=held]")
    page.click("button:has-text('Save')")
    page.wait_for_url(f"{site.base}/cases/{site.case_id}?done={site.case_id}.0")
    assert "Recorded. The case has moved on" in page.content()
    assert page.locator("ul.open-todos").inner_text().startswith("Complete the holistic assessment")
    page.close()


def test_a_form_error_is_shown_next_to_its_field_in_the_browser(browser: Any, site: Site) -> None:
    page = _sign_in(browser, site, "cw-01")
    page.goto(f"{site.base}/todos/{site.case_id}.1")
    page.check("input[name=outcome][value=completed]")
    page.fill("#f-health", "Synthetic note: sleeps badly")
    page.click("button:has-text('Save')")
    error = page.locator("#error-capacity_band")
    assert error.is_visible()
    assert page.locator("#f-health").input_value() == "Synthetic note: sleeps badly"
    page.close()


def test_operations_sees_runs_and_counts_but_no_personal_data(browser: Any, site: Site) -> None:
    page = _sign_in(browser, site, "ops-01")
    page.wait_for_url(f"{site.base}/operations")
    text = page.locator("body").inner_text()
    assert "Operations" in text
    for secret in [*site.citizen_refs, *site.case_ids, "cw-01", "cw-02", "Lena Ström"]:
        assert secret not in text, f"operations page shows {secret!r}"
    page.goto(f"{site.base}/cases/{site.case_id}")
    assert "Not allowed" in page.content()
    page.close()


def test_the_manager_dashboard_shows_charts_of_met_deadlines(browser: Any, site: Site) -> None:
    page = _sign_in(browser, site, "mgr-01")
    page.wait_for_url(f"{site.base}/console")
    assert page.locator("svg").count() >= 2
    assert "first_meeting" in page.content() or "First meeting" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=False)
    page.close()


def _no_english(page: Any, language: str) -> None:
    left = english_left(page.locator("body").inner_text(), language)
    assert left == [], f"{page.url} shows English: {left}"


def _no_english_but_the_configurations_words(page: Any, language: str) -> None:
    # The rules' sources are shown as the configuration writes them (class config-text); <code> holds
    # identifiers (configuration keys), not words.
    page.evaluate("() => document.querySelectorAll('.config-text, code').forEach(e => { e.hidden = true; })")
    _no_english(page, language)


def test_a_swedish_caseworker_holds_the_first_meeting_in_swedish(browser: Any, site: Site) -> None:
    case_id = site.local["karlskrona"]
    page = _sign_in(browser, site, "sv-cw")
    page.wait_for_url(f"{site.base}/inbox")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("h1").inner_text() == "Att göra"
    row = page.locator(f"tr:has(a[href='/cases/{case_id}'])").first
    assert "Håll första mötet" in row.inner_text()
    _no_english(page, "sv")
    page.screenshot(path=str(SCREENSHOTS / "inbox-sv.png"), full_page=False)

    row.locator("a", has_text="Håll första mötet").click()
    page.wait_for_url(f"{site.base}/todos/{case_id}.0")
    _no_english(page, "sv")
    page.check("input[name=outcome][value=held]")
    page.click("button:has-text('Spara')")
    page.wait_for_url(f"{site.base}/cases/{case_id}?done={case_id}.0")
    assert "Registrerat. Ärendet har gått vidare" in page.content()
    assert page.locator("ul.open-todos").inner_text().startswith("Gör kartläggningen")
    _no_english(page, "sv")
    page.screenshot(path=str(SCREENSHOTS / "case-sv.png"), full_page=False)

    page.locator("ul.open-todos a").first.click()
    page.wait_for_url(f"{site.base}/todos/{case_id}.1")
    assert "Aktivitetsförmåga" in page.locator("body").inner_text()
    _no_english(page, "sv")
    page.close()


def test_a_danish_team_lead_holds_the_first_meeting_in_danish(browser: Any, site: Site) -> None:
    case_id = site.local["allerod"]
    page = _sign_in(browser, site, "dk-tl")
    page.wait_for_url(f"{site.base}/inbox")
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.locator("h1").inner_text() == "Opgaver"
    assert "Overskredet i teamet" in page.locator("body").inner_text()
    _no_english(page, "da")
    page.screenshot(path=str(SCREENSHOTS / "inbox-da.png"), full_page=False)

    page.goto(f"{site.base}/cases/{case_id}")
    _no_english(page, "da")
    page.locator("ul.open-todos a", has_text="Hold første jobsamtale").click()
    page.wait_for_url(f"{site.base}/todos/{case_id}.0")
    _no_english(page, "da")
    page.check("input[name=outcome][value=held]")
    page.click("button:has-text('Gem')")
    page.wait_for_url(f"{site.base}/cases/{case_id}?done={case_id}.0")
    assert "Registreret. Sagen er gået videre" in page.content()
    assert page.locator("ul.open-todos").inner_text().startswith("Gennemfør helhedsvurderingen")
    _no_english(page, "da")
    page.screenshot(path=str(SCREENSHOTS / "case-da.png"), full_page=False)
    page.close()


@pytest.mark.parametrize(("username", "language", "title"), [("sv-mgr", "sv", "Konsol"), ("dk-mgr", "da", "Konsol")])
def test_the_console_in_swedish_and_danish(browser: Any, site: Site, username: str, language: str, title: str) -> None:
    page = _sign_in(browser, site, username)
    page.wait_for_url(f"{site.base}/console")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("h1").inner_text().startswith(title)
    assert page.locator("svg").count() >= 2
    page.screenshot(path=str(SCREENSHOTS / f"console-{language}.png"), full_page=False)
    for path in ("/console", "/console/audit", "/console/versions", "/console/simulate?run=1&weeks=2&arrivals=3"):
        page.goto(f"{site.base}{path}")
        _no_english_but_the_configurations_words(page, language)
    page.close()


def test_screenshot_files_are_real_pngs(browser: Any, site: Site) -> None:
    names = ["inbox.png", "dashboard.png"] + [
        f"{p}-{lang}.png" for p in ("inbox", "case", "console") for lang in ("sv", "da")
    ]
    for name in names:
        data = (SCREENSHOTS / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
