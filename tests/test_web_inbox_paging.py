"""The inbox leads with what is late: overdue to-dos and obligations, true counts, paged and filtered lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from activation import services
from tests.conftest import at
from tests.i18n_support import visible_text
from tests.web_support import Web, make_web

NOW = at("2026-11-23 09:00")
# Five weeks on: every first meeting is long overdue, and so is the first offer ("in an activity
# within 4 weeks", Karlskrona's target group); the 6-weekly follow-up meeting is not due yet.
LATER = NOW + timedelta(weeks=5)


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    yield make_web(database_url, NOW)


def _open(web: Web, refs: list[str], caseworker: str | None = "cw-01") -> list[str]:
    ids = [
        services.record_application(web.rt.store, web.rt.rules, "karlskrona", ref, NOW, caseworker=caseworker).case_id
        for ref in refs
    ]
    services.advance_cases(web.rt.store, web.rt.rules, NOW)
    return ids


def _section(html: str, anchor: str) -> str:
    """Return the HTML from a section's heading up to the next section's heading."""
    start = html.index(f'<h2 id="{anchor}"')
    end = html.find("<h2 id=", start + 1)
    return html[start : end if end > 0 else len(html)]


def test_overdue_obligations_on_my_cases_appear_in_the_inbox_and_its_overdue_counter(web: Web) -> None:
    cases = _open(web, ["obl-1", "obl-2", "obl-3"])
    _open(web, ["obl-queued"], caseworker=None)  # the queue's obligations are not mine
    web.clock.current = LATER
    html = web.client("caseworker").get("/inbox").text
    # 3 first meetings and 3 first offers are late: the counter says 6, not the 3 to-dos alone.
    assert "<strong>6</strong> overdue" in html
    assert "3 to-dos, 3 meetings and offers owed" in html
    owed = _section(html, "owed")
    assert all(f"/cases/{case_id}" in owed for case_id in cases)
    assert owed.count("Offer (no passive period) · Social assistance with activity requirement") == 3
    assert "obl-queued" not in owed and "ekonomiskt_bistand" not in visible_text(html)


def test_the_counts_are_true_beyond_one_page_and_the_lists_are_paged(web: Web) -> None:
    _open(web, [f"many-{n:02}" for n in range(30)])
    web.clock.current = LATER
    client = web.client("caseworker")
    html = client.get("/inbox").text
    assert "<strong>60</strong> overdue" in html and "<strong>30</strong> mine in all" in html
    mine = _section(html, "mine")
    assert mine.count('<a href="/todos/') == 25
    assert "1–25 of 30" in mine and "page 1 of 2" in mine
    next_page = re.search(r'href="(/inbox\?mine_page=2#mine)" rel="next"', mine)
    assert next_page, mine[-600:]
    second = _section(client.get(next_page.group(1)).text, "mine")
    assert second.count('<a href="/todos/') == 5 and "26–30 of 30" in second and 'rel="prev"' in second
    # The other lists stay on their first page.
    assert "1–25 of 30" in _section(client.get(next_page.group(1)).text, "late")


def test_a_page_past_the_end_shows_the_last_page(web: Web) -> None:
    _open(web, [f"end-{n:02}" for n in range(27)])
    html = web.client("caseworker").get("/inbox?mine_page=99").text
    assert "26–27 of 27" in _section(html, "mine")


def test_filters_narrow_every_list_and_paging_keeps_them(web: Web) -> None:
    first, *rest = _open(web, [f"flt-{n:02}" for n in range(28)])
    services.complete_and_move_on(web.rt.store, web.rt.rules, f"{first}.0", "held", NOW, "cw-01")
    web.clock.current = NOW + timedelta(hours=1)
    client = web.client("caseworker")
    assessment = _section(client.get("/inbox?stage=assessment").text, "mine")
    assert f"/cases/{first}" in assessment and not any(f"/cases/{c}" in assessment for c in rest)
    offers = client.get("/inbox?kind=offer&due=").text
    assert '<a href="/todos/' not in _section(offers, "mine")  # an obligation's kind: no to-do matches
    meetings = client.get("/inbox?stage=first_meeting&sort=case").text
    mine = _section(meetings, "mine")
    assert "1–25 of 27" in mine
    link = re.search(r'href="([^"]+mine_page=2[^"]*)" rel="next"', mine)
    assert link and "stage=first_meeting" in link.group(1) and "sort=case" in link.group(1)
    second = _section(client.get(link.group(1).replace("&amp;", "&")).text, "mine")
    assert "26–27 of 27" in second
    shown = re.findall(r'<a href="/cases/(c-[a-z0-9]+)" class="case-id">', second)
    assert shown == sorted(c for c in rest)[25:]  # ordered by case, the last two on page 2


def test_the_due_window_keeps_what_is_due_today(web: Web) -> None:
    _open(web, ["win-1"])
    due_soon = NOW + timedelta(days=2)  # Karlskrona: 48 hours, so the first meeting is due today
    web.clock.current = due_soon - timedelta(hours=1)
    client = web.client("caseworker")
    assert "<strong>1</strong> due today" in client.get("/inbox").text
    assert "/cases/" in _section(client.get("/inbox?due=today").text, "mine")
    assert '<a href="/todos/' not in _section(client.get("/inbox?due=overdue").text, "mine")


def test_the_filter_form_has_a_label_for_every_field_and_keeps_the_choice(web: Web) -> None:
    html = web.client("caseworker").get("/inbox?stage=plan&due=week&sort=stage").text
    form = html[html.index('<form class="filters"') : html.index("</form>", html.index('<form class="filters"'))]
    for field in ("stage", "kind", "group", "due", "sort"):
        assert f'<label for="f-{field}">' in form and f'id="f-{field}" name="{field}"' in form
    assert '<option value="plan" selected>' in form and '<option value="week" selected>' in form
    assert 'name="holder"' not in form  # a caseworker's lists are always their own
    assert "Clear the filters" in form


def test_a_team_lead_chooses_whose_lists_to_see(web: Web) -> None:
    held = _open(web, ["lead-1"])
    queued = _open(web, ["lead-2"], caseworker=None)
    client = web.client("team_lead")
    assert f"/cases/{held[0]}" not in _section(client.get("/inbox").text, "mine")
    team = _section(client.get("/inbox?holder=team").text, "mine")
    assert f"/cases/{held[0]}" in team and f"/cases/{queued[0]}" in team and "To-dos of the whole team" in team
    queue = _section(client.get("/inbox?holder=queue").text, "mine")
    assert f"/cases/{queued[0]}" in queue and f"/cases/{held[0]}" not in queue


def test_the_lists_show_the_citizens_reference_and_display_names_never_keys(web: Web) -> None:
    _open(web, ["KK-2026-00412"])
    _open(web, ["KK-2026-00413"], caseworker=None)
    web.clock.current = LATER
    text = visible_text(web.client("caseworker").get("/inbox").text)
    assert "KK-2026-00412" in text and "KK-2026-00413" in text
    assert "Team queue: Arbetsmarknadsenheten" in text
    assert "queue:arbetsmarknad" not in text and "ekonomiskt_bistand" not in text and "first_meeting" not in text
