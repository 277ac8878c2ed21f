"""The manager console: rules in force, timeliness with excused misses apart, escalations, caseload, audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from markupsafe import Markup

from activation import pauses, services
from activation.access import User
from activation.adapters import reports
from activation.adapters.accounts import Accounts
from tests.conftest import at
from tests.web_support import PASSWORD, Web, make_web
from web import charts
from web.console import parse_months

NOW = at("2026-11-23 09:00")  # a Monday; Karlskrona's first meeting is due 48 hours after the application
LATER = at("2026-11-27 12:00")  # the Friday after: the first meetings of Monday's cases are past due
VAXJO_MANAGER = User("mgr-vx", "Växjö Manager", "manager", "vaxjo", language="en")


@pytest.fixture
def web(database_url: str) -> Iterator[Web]:
    w = make_web(database_url, NOW)
    yield w


@dataclass
class Cases:
    met: str
    missed: str
    paused: str
    no_show: str
    young: str


def _apply(web: Web, ref: str, when: datetime = NOW, caseworker: str | None = "cw-01") -> str:
    recorded = services.record_application(web.rt.store, web.rt.rules, "karlskrona", ref, when, caseworker=caseworker)
    services.advance_cases(web.rt.store, web.rt.rules, when)
    return recorded.case_id


def _five_cases(web: Web) -> Cases:
    """Five first meetings, judged on Friday 27 Nov at noon (first meetings are due Wed 25 Nov 09:00):

    met      held on Tuesday                                  -> met
    missed   never held                                       -> real miss
    paused   never held, but the citizen was sick for a day   -> excused miss (pause overlaps)
    no_show  recorded as no-show on Thursday, after the due   -> excused miss (no_show); its rebooking is open
    young    applied on Thursday, due Mon 30 Nov              -> open, not yet due
    """
    store, rules = web.rt.store, web.rt.rules
    met = _apply(web, "ref-met")
    missed = _apply(web, "ref-missed")
    paused = _apply(web, "ref-paused", caseworker="cw-02")
    no_show = _apply(web, "ref-no-show", caseworker=None)
    services.complete_todo(store, f"{met}.0", "held", at("2026-11-24 10:00"), "cw-01", rules=rules)
    services.advance_cases(store, rules, at("2026-11-24 10:00"))
    pauses.record_pause(
        store, rules, paused, "sickness", at("2026-11-23 10:00"), at("2026-11-24 10:00"), at("2026-11-24 10:30")
    )
    services.complete_todo(store, f"{no_show}.0", "no_show", at("2026-11-26 10:00"), "cw-01", rules=rules)
    services.advance_cases(store, rules, at("2026-11-26 10:00"))
    young = _apply(web, "ref-young", when=at("2026-11-26 12:00"), caseworker="cw-02")
    services.sweep(store, LATER)
    web.clock.current = LATER
    return Cases(met, missed, paused, no_show, young)


def _tally(t: reports.Tally) -> tuple[int, int, int, int]:
    return (t.met, t.missed, t.excused, t.open)


def _window(months: int = 6) -> reports.Window:
    return reports.month_window(LATER, "Europe/Stockholm", months)


# -- the reports -------------------------------------------------------------------------------


def test_the_window_is_whole_calendar_months_in_the_municipalitys_time_zone() -> None:
    window = _window(3)
    assert window.months == ((2026, 9), (2026, 10), (2026, 11))
    assert window.since == at("2026-09-01 00:00") and window.until == at("2026-12-01 00:00")
    assert reports.month_window(at("2027-01-15 09:00"), "Europe/Stockholm", 2).months == ((2026, 12), (2027, 1))


def test_met_real_and_excused_misses_and_open_deadlines_are_counted_apart(web: Web) -> None:
    _five_cases(web)
    with web.rt.engine.connect() as conn:
        report = reports.timeliness(conn, "karlskrona", LATER, _window())
    # Only the first meetings and the rebooking fall due in November; the offer and meeting
    # obligations are due in December and January, after the window.
    assert _tally(report.by_stage["first_meeting"]) == (1, 1, 2, 1)
    assert _tally(report.by_stage["first_meeting_rebooking"]) == (0, 0, 0, 1)
    assert set(report.by_stage) == {"first_meeting", "first_meeting_rebooking"}
    assert _tally(report.total) == (1, 1, 2, 2)
    assert report.total.share == 0.5  # 1 met / (1 met + 1 real miss): excused misses are left out
    assert _tally(report.by_team["arbetsmarknad"]) == (1, 1, 2, 2)
    assert _tally(report.by_month[(2026, 11)]) == (1, 1, 2, 2)
    assert report.by_month[(2026, 10)].share is None  # nothing to judge in October
    assert list(report.by_month) == list(_window().months)


def test_a_deadline_that_is_not_yet_due_is_open_and_a_missed_one_stays_missed_later(web: Web) -> None:
    _five_cases(web)
    with web.rt.engine.connect() as conn:
        before = reports.timeliness(conn, "karlskrona", at("2026-11-24 12:00"), _window())
    # On Tuesday only the held meeting is judged; Wednesday's due times have not come yet.
    assert _tally(before.by_stage["first_meeting"]) == (1, 0, 1, 3)  # the no-show is closed as missed already


def test_escalations_are_counted_per_team_and_month(web: Web) -> None:
    _five_cases(web)
    with web.rt.engine.connect() as conn:
        report = reports.escalations(conn, "karlskrona", _window())
    # The never-held and the paused meeting each escalated to the team lead and then the manager;
    # the no-show was recorded before any sweep, which cancelled its escalations.
    assert report.by_team == {"arbetsmarknad": 4}
    assert report.by_team_month["arbetsmarknad"][(2026, 11)] == 4
    assert report.total == 4


def test_caseload_counts_open_cases_per_caseworker_the_team_queue_and_open_to_dos(web: Web) -> None:
    _five_cases(web)
    with web.rt.engine.connect() as conn:
        load = reports.caseload(conn, "karlskrona", LATER)
    assert {(r["caseworker"], r["open_cases"]) for r in load.cases} == {("cw-01", 2), ("cw-02", 2), (None, 1)}
    todos = {r["assignee"]: (r["open_todos"], r["overdue"]) for r in load.todos}
    # cw-01: the met case's assessment and the missed first meeting; cw-02: the paused (now overdue)
    # meeting and the young one; the queue: the rebooking.
    assert todos == {"cw-01": (2, 1), "cw-02": (2, 1), "queue:arbetsmarknad": (1, 0)}


def test_a_case_without_an_offer_past_its_offer_deadline_is_in_a_passive_period(web: Web) -> None:
    case_id = _apply(web, "ref-passive")
    offers = ["ekonomiskt_bistand.offer"]
    with web.rt.engine.connect() as conn:
        assert reports.passive_periods(conn, "karlskrona", offers, at("2026-12-18 12:00")) == []
        [passive] = reports.passive_periods(conn, "karlskrona", offers, at("2026-12-28 12:00"))
    # Karlskrona keeps Sweden's default: the first offer within 4 weeks of the application.
    assert passive.case_id == case_id and passive.rule_key == "ekonomiskt_bistand.offer"
    assert passive.due_at == at("2026-12-21 09:00") and passive.last_offer is None


# -- the charts --------------------------------------------------------------------------------


def test_a_bar_chart_is_an_accessible_svg_with_escaped_labels() -> None:
    svg = charts.bar_chart(
        [("<script>team</script>", 0.5), ("empty", None)], title="Met & missed", chart_id="c1", maximum=1.0
    )
    assert isinstance(svg, Markup)
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Met &amp; missed</title>' in svg
    assert "<script>" not in svg and "&lt;script&gt;team&lt;/script&gt;" in svg
    assert "no data" in svg and "style=" not in svg


def test_a_column_chart_draws_one_column_per_month() -> None:
    svg = charts.column_chart(
        [("2026-10", 0.25), ("2026-11", 1.0)], title="Per month", chart_id="m", maximum=1.0, fmt=charts.percent
    )
    assert svg.count("<rect") == 2 and "25 %" in svg and "100 %" in svg


# -- the pages ---------------------------------------------------------------------------------


def _section(html: str, start: str, end: str) -> str:
    return html.split(f'id="{start}"', 1)[1].split(f'id="{end}"', 1)[0]


def test_the_console_shows_the_dashboard_numbers(web: Web) -> None:
    cases = _five_cases(web)
    page = web.client("manager").get("/console")
    assert page.status_code == 200
    timeliness = _section(page.text, "timeliness", "escalations")
    assert "<strong>1</strong> met" in timeliness
    assert "<strong>1</strong> real misses" in timeliness
    assert "<strong>2</strong> excused misses" in timeliness
    assert "<strong>2</strong> open, not yet due" in timeliness
    assert "<strong>50 %</strong> met share" in timeliness
    stage_row = re.search(r"<tr><td>First meeting<br>.*?</tr>", timeliness, re.S)
    assert stage_row is not None
    assert re.findall(r'<td class="num">(?:<strong>)?([^<]+)', stage_row.group(0)) == ["1", "1", "2", "1", "50 %"]
    escalations = _section(page.text, "escalations", "caseload")
    assert "<strong>4</strong>" in escalations
    passive = _section(page.text, "passive", "sla")
    assert "ekonomiskt_bistand.offer" in passive and "No case is in a passive period now." in passive
    assert f"/cases/{cases.missed}" not in passive


def test_the_console_lists_passive_cases_with_a_link_to_the_case(web: Web) -> None:
    case_id = _apply(web, "ref-passive")
    web.clock.current = at("2026-12-28 12:00")
    passive = _section(web.client("manager").get("/console").text, "passive", "sla")
    assert f'href="/cases/{case_id}"' in passive


def test_the_console_shows_karlskronas_48_hour_first_meeting_with_its_source(web: Web) -> None:
    page = web.client("manager").get("/console").text
    row = page.split('id="rule-first_meeting"', 1)[1].split("</tr>", 1)[0]
    assert "<td>48 hours</td>" in row
    assert "Karlskrona: appointment within 48 hours of applying (004 L1502-1574, L1516)" in row
    rebooking = page.split('id="rule-first_meeting_rebooking"', 1)[1].split("</tr>", 1)[0]
    assert "local choice" in rebooking
    assert "in an activity (no passive period)" in page  # the cadences per group
    assert "Arbetspraktik" in page  # the intervention start deadlines


def test_the_console_draws_its_charts_as_svg(web: Web) -> None:
    _five_cases(web)
    page = web.client("manager").get("/console").text
    assert page.count("<svg") >= 4
    for chart_id in ("chart-month", "chart-stage", "chart-escalations"):
        assert f'<title id="{chart_id}-title">' in page
    assert "<script" not in page and "style=" not in page


@pytest.mark.parametrize(
    ("asked", "shown"), [(None, 6), ("3", 3), ("0", 1), ("-5", 1), ("99", 24), ("abc", 6), ("1e9", 6), ("9" * 5000, 6)]
)
def test_the_number_of_months_is_read_safely_and_clamped(asked: str | None, shown: int) -> None:
    assert parse_months(asked)[0] == shown


def test_a_bad_months_parameter_shows_the_default_with_a_note_instead_of_failing(web: Web) -> None:
    client = web.client("manager")
    page = client.get("/console", params={"months": "lots"})
    assert page.status_code == 200 and "showing 6" in page.text
    page = client.get("/console", params={"months": "40"})
    assert page.status_code == 200 and "showing 24" in page.text
    assert "2024-12 to 2026-11" in page.text


def test_only_managers_open_the_console(web: Web) -> None:
    assert web.client("caseworker").get("/console").status_code == 403
    assert web.client("team_lead").get("/console/audit").status_code == 403
    assert web.client("operations").get("/console").status_code == 403
    assert web.client().get("/console", follow_redirects=False).status_code == 303


def test_the_audit_log_lists_the_managers_case_views(web: Web) -> None:
    case_id = _apply(web, "ref-audited")
    client = web.client("manager")
    assert client.get(f"/cases/{case_id}").status_code == 200
    web.client("caseworker").get(f"/cases/{case_id}")
    page = client.get("/console/audit", params={"username": "mgr-01"})
    assert page.status_code == 200
    rows = page.text.split("<tbody>", 1)[1]
    assert "mgr-01" in rows and "View case" in rows and case_id in rows
    assert "cw-01" not in rows  # filtered to the manager
    by_case = client.get("/console/audit", params={"case_id": case_id}).text.split("<tbody>", 1)[1]
    assert "mgr-01" in by_case and "cw-01" in by_case


def test_the_audit_log_says_when_it_shows_only_the_newest_entries(web: Web) -> None:
    from activation.adapters.accounts import AuditEntry

    entries = [AuditEntry("cw-01", "caseworker", "view_case", f"c-{i}", "karlskrona", "web") for i in range(201)]
    Accounts(web.rt.engine).audit(entries, NOW)
    page = web.client("manager").get("/console/audit").text
    assert "Showing the newest 200 entries only" in page
    assert page.split("<tbody>", 1)[1].count("<tr>") == 200


def test_a_manager_of_another_municipality_sees_none_of_karlskronas_data(web: Web) -> None:
    cases = _five_cases(web)
    web.client("manager").get(f"/cases/{cases.missed}")
    Accounts(web.rt.engine).add_user(VAXJO_MANAGER, PASSWORD, NOW)
    client = web.client()
    client.post("/sign-in", data={"username": "mgr-vx", "password": PASSWORD})
    console = client.get("/console").text
    assert "Växjö kommun" in console and "Karlskrona" not in console
    assert "<strong>0</strong> met" in console and "<strong>0</strong> real misses" in console
    assert "cw-01" not in console and "queue:arbetsmarknad" not in console
    audit = client.get("/console/audit").text
    assert cases.missed not in audit and "mgr-01" not in audit
    assert "No entries match" in client.get("/console/audit", params={"case_id": cases.missed}).text
    assert client.get(f"/cases/{cases.missed}").status_code == 404
