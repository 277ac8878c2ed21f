"""axe-core in Debian's Chromium finds no WCAG 2.1 A/AA problem on the pages staff use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.axe_support import violations
from tests.test_browser import Site, _sign_in, browser, site  # noqa: F401 (the browser tests' fixtures)

PAGES = {
    "cw-01": ["/inbox", "/cases/{case}", "/todos/{case}.0", "/profile"],
    "tl-01": ["/inbox", "/cases/{case}"],
    "mgr-01": ["/console", "/console/versions", "/console/audit"],
    "ops-01": ["/operations"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_axe_finds_no_accessibility_problem_on_the_pages_of(browser: Any, site: Site, username: str) -> None:  # noqa: F811
    page = _sign_in(browser, site, username)
    page.wait_for_load_state()
    found = {}
    for path in PAGES[username]:
        response = page.goto(site.base + path.format(case=site.case_id))
        assert response is not None and response.status == 200, path
        found[path] = violations(page)
    page.close()
    assert found == {path: [] for path in PAGES[username]}


def test_axe_does_report_a_problem_planted_in_a_page(browser: Any, site: Site) -> None:  # noqa: F811
    page = _sign_in(browser, site, "cw-01")
    page.wait_for_url(f"{site.base}/inbox")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>')")
    found = violations(page)
    page.close()
    assert any(line.startswith("label ") for line in found), found
