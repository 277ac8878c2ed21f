"""A caseworker's day and a team lead's, in Debian's Chromium, without the CLI (issue 12).

Find a case by the citizen's reference, book its first meeting, record it held, complete the
assessment after a failed save without retyping, pause the case for sickness and resume it, record a
job conversation that closes an overdue obligation; a team lead assigns three queue items at once.
axe-core checks every page on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from activation import services
from activation.access import User
from activation.adapters.accounts import Accounts
from activation.ports import FixedClock
from activation.runtime import get_runtime
from tests.axe_support import violations
from tests.conftest import at
from tests.test_browser import SCREENSHOTS, _free_port, browser  # noqa: F401 (the browser fixture)
from web.app import WebSettings
from web.serve import start_in_background, web_server

PASSWORD = "browser-day-password"
# Friday 8 January 2027: Karlskrona's first follow-up meeting for a case opened on 23 November was
# due on Monday the 4th (a meeting at least every 6 weeks), so that obligation is overdue.
NOW = at("2027-01-08 10:00")
STAFF = [
    User("cw-01", "Lena Ström", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    User("cw-02", "Omar Said", "caseworker", "karlskrona", "arbetsmarknad", "en"),
    User("tl-01", "Per Nyberg", "team_lead", "karlskrona", "arbetsmarknad", "en"),
]


@dataclass
class Day:
    """The served application and the cases of the day."""

    base: str
    new_case: str  # applied an hour ago: its first meeting is to be booked
    owed_case: str  # opened in November: a follow-up meeting is overdue
    queue: list[str]  # to-dos in the team queue


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser-day') / 'web.db'}"
    rt = get_runtime(url)
    accounts = Accounts(rt.engine)
    for user in STAFF:
        accounts.add_user(user, PASSWORD, NOW - timedelta(days=90))
    opened = at("2026-11-23 09:00")
    owed = services.record_application(
        rt.store, rt.rules, "karlskrona", "synthetic-day-owed", opened, caseworker="cw-01"
    )
    services.advance_cases(rt.store, rt.rules, opened)
    new = services.record_application(
        rt.store, rt.rules, "karlskrona", "synthetic-day-new", NOW - timedelta(hours=1), caseworker="cw-01"
    )
    queued = [
        services.record_application(rt.store, rt.rules, "karlskrona", f"synthetic-day-q{n}", NOW - timedelta(hours=2))
        for n in range(3)
    ]
    services.advance_cases(rt.store, rt.rules, NOW)
    port = _free_port()
    server = web_server("127.0.0.1", port, WebSettings(db_url=url, clock=FixedClock(NOW)))
    thread = start_in_background(server, print)
    yield Day(f"http://127.0.0.1:{port}", new.case_id, owed.case_id, [f"{q.case_id}.0" for q in queued])
    server.should_exit = True
    thread.join(timeout=10)


def _sign_in(chromium: Any, day: Day, username: str) -> Any:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{day.base}/sign-in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(inbox|team)$"))
    return page


def _accessible(page: Any) -> None:
    assert violations(page) == [], page.url


def test_a_caseworkers_day_in_the_browser(browser: Any, day: Day) -> None:  # noqa: F811
    page = _sign_in(browser, day, "cw-01")
    # The inbox leads with what is late: the overdue follow-up meeting is owed to the citizen.
    owed = page.locator("#owed + *")
    assert "synthetic-day-owed" in page.locator("main").inner_text()
    assert owed.count() == 1
    _accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=False)

    # Find the new case by the citizen's reference, from the search box in the header.
    page.fill("#header-q", "synthetic-day-new")
    page.press("#header-q", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=synthetic-day-new"))
    _accessible(page)
    page.click(f"a[href='/cases/{day.new_case}']")
    page.wait_for_url(f"{day.base}/cases/{day.new_case}")

    # Book its first meeting at the first free time offered, with a place.
    page.click(f"a[href='/todos/{day.new_case}.0/book']")
    _accessible(page)
    page.locator("input[name=slot]").first.check()
    page.fill("#f-place", "Ronneby road 4, room 2")
    page.click("button:has-text('Book and send the invitation')")
    page.wait_for_url(re.compile(rf".*/cases/{day.new_case}\?.*booked"))
    assert "Meeting booked:" in page.locator("main").inner_text()
    assert "Ronneby road 4, room 2" in page.locator("main").inner_text()
    _accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=False)

    # Hold it: the case moves on to the holistic assessment.
    page.goto(f"{day.base}/todos/{day.new_case}.0")
    page.check("input[name=outcome][value=held]")
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(rf".*/cases/{day.new_case}\?done="))
    page.click("ul.open-todos a:has-text('holistic assessment')")
    page.wait_for_url(re.compile(rf".*/todos/{day.new_case}\.\d+$"))
    assessment = page.url

    # A failed save keeps everything typed; completing the one missing field saves it all.
    page.check("input[name=outcome][value=completed]")
    page.fill("#f-health", "Synthetic note: sleeps badly")
    page.click("button:has-text('Save')")
    assert page.locator("#error-capacity_band").is_visible()
    assert page.locator("#f-health").input_value() == "Synthetic note: sleeps badly"
    _accessible(page)
    page.locator("[name=capacity_band]").first.select_option(index=1)
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(rf".*/cases/{day.new_case}\?done="))
    assert assessment.rsplit("/", 1)[1] not in page.locator("ul.open-todos").inner_text()

    # Pause the clocks for sickness since yesterday, then resume them today.
    page.click(f"a[href='/cases/{day.new_case}/pause']")
    page.select_option("#f-basis", "sickness")
    page.fill("#f-starts_at", "2027-01-07T09:00")  # sick since yesterday morning
    page.click("button:has-text('Pause')")
    page.wait_for_url(re.compile(r".*\?paused"))
    assert "paused since" in page.locator("main").inner_text()
    page.click(f"a[href='/cases/{day.new_case}/pause']")
    _accessible(page)
    page.locator("input[name=resumed_at]").first.fill("2027-01-08T10:00")
    page.click("button:has-text('Resume the clocks')")
    page.wait_for_url(re.compile(r".*\?resumed"))

    # The owed case: a job conversation held on Wednesday closes the overdue follow-up meeting.
    page.goto(f"{day.base}/cases/{day.owed_case}/event")
    _accessible(page)
    page.get_by_label("A job conversation or follow-up meeting with the citizen").check()
    page.fill("#f-occurred_at", "2027-01-06T13:00")
    page.click("button:has-text('Record')")
    page.wait_for_url(re.compile(rf".*/cases/{day.owed_case}\?recorded="))
    page.goto(f"{day.base}/inbox")
    assert "synthetic-day-owed" not in page.locator("#owed + *").inner_text()
    page.close()


def test_a_team_lead_assigns_three_queue_items_at_once(browser: Any, day: Day) -> None:  # noqa: F811
    page = _sign_in(browser, day, "tl-01")
    page.click("nav a[href='/team']")
    page.wait_for_url(f"{day.base}/team")
    _accessible(page)
    for todo_id in day.queue:
        page.check(f"[id='pick-{todo_id}']")
    page.select_option("#assign-to", "cw-02")
    page.click("form.bulk-assign button:has-text('Assign')")
    page.wait_for_url(re.compile(r".*/team.*"))
    queue = page.locator("#queue").locator("xpath=following-sibling::*").first.inner_text()
    assert not any(todo_id.split(".")[0] in queue for todo_id in day.queue)
    page.screenshot(path=str(SCREENSHOTS / "team.png"), full_page=False)
    page.close()
    omar = _sign_in(browser, day, "cw-02")
    mine = omar.locator("main").inner_text()
    assert all(f"synthetic-day-q{n}" in mine for n in range(3))
    omar.close()


def test_the_days_screenshots_are_real_pngs(browser: Any, day: Day) -> None:  # noqa: F811
    for name in ("inbox.png", "case.png", "team.png"):
        data = (SCREENSHOTS / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, name
