"""The law's rule kinds placed in the dated Danish national versions work through the versions, by date.

Allerød (Mon-Wed 08:00-15:30, Thu 08:00-17:00, Fri 08:00-13:00) with the shipped config and nothing
added: first-period job conversations and the 8-day self-booking window from dk-2020-01, the work duty
from dk-2025-07, the job-ready first-period offer and the 75 % coverage targets from dk-2026-07. Every
date below is worked out by hand from those opening hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from activation import case_events, coverage, services, work_duty
from activation.adapters.sql import SqlStore
from activation.booking import self_booking_window
from activation.config import DEFAULT_CONFIG_DIR, RuleBook, load
from activation.errors import ConflictError
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds
from tests.test_web_coverage import Site


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


def _open_deadlines(store: SqlStore, case_id: str) -> dict[str, tuple[datetime, str]]:
    with store.reads() as reads:
        return {d.rule_key: (d.due_at, d.config_version) for d in reads.list_deadlines(case_id=case_id)}


def _case(store: SqlStore, rules: RuleBook, ref: str, opened: datetime, group: str | None = None) -> str:
    case_id = services.record_application(store, rules, "allerod", ref, opened, group=group).case_id
    services.advance_cases(store, rules, opened)
    return case_id


def test_an_activity_ready_case_opened_in_september_2026_owes_4_conversations_in_its_first_6_months(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _case(store, rules, "dk-sep", dk("2026-09-01 10:00"))
    deadlines = _open_deadlines(store, case_id)
    # LAB § 31 stk. 3 (dk-2020-01, still in force under dk-2026-07): 6 months from Tuesday 1 Sep 2026
    # 10:00 is Monday 1 March 2027 10:00, inside Monday's opening hours.
    due, stamp = deadlines["activity_ready.first_conversations"]
    assert due == dk("2027-03-01 10:00") and stamp.startswith("dk-2026-07+")
    assert "activity_ready.conversations" not in deadlines  # "4 in any 12 months" ended in 2020
    # Four conversations by February: the period closes as met and no second period opens (LAB § 32).
    for day in ("2026-09-07", "2026-10-05", "2026-11-02", "2027-02-01"):
        held = dk(f"{day} 10:00")
        case_events.record_event(store, rules, case_id, "job_conversation", held, held, "cw-01")
    assert "activity_ready.first_conversations" not in _open_deadlines(store, case_id)


def test_a_case_opened_in_2019_keeps_the_4_in_any_12_months_and_has_no_first_period_count(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _case(store, rules, "dk-2019", dk("2019-06-03 10:00"))
    deadlines = _open_deadlines(store, case_id)
    # The 2017 rules: 4 conversations within 12 months, Monday 3 June 2019 -> Wednesday 3 June 2020 10:00.
    assert deadlines["activity_ready.conversations"][0] == dk("2020-06-03 10:00")
    assert "activity_ready.first_conversations" not in deadlines


def test_job_ready_cases_get_the_first_period_offer_only_from_1_july_2026(store: SqlStore, rules: RuleBook) -> None:
    early = _open_deadlines(store, _case(store, rules, "jr-2025", dk("2025-03-03 10:00"), "job_ready"))
    late = _open_deadlines(store, _case(store, rules, "jr-2026", dk("2026-09-01 10:00"), "job_ready"))
    # Monday 3 March 2025 + 6 months: Wednesday 3 September 2025 10:00; no first-period offer yet.
    assert early["job_ready.first_conversations"][0] == dk("2025-09-03 10:00")
    assert "job_ready.first_offer" not in early
    # Tuesday 1 September 2026 + 6 months: Monday 1 March 2027 10:00, for the offer and the conversations.
    assert late["job_ready.first_offer"][0] == dk("2027-03-01 10:00")
    assert late["job_ready.first_conversations"][0] == dk("2027-03-01 10:00")


def test_the_coverage_target_counts_from_the_month_the_reform_took_effect(rules: RuleBook, tmp_path: Path) -> None:
    assert coverage.target_since(rules, "allerod", "job_ready_offer", dk("2027-02-01 10:00")) == date(2026, 7, 1)
    assert rules.as_of(dk("2026-06-30 12:00")).municipality("allerod").coverage_targets == {}
    # A municipality that sets the target in its own file measures it in every month.
    own = load(config_with(tmp_path, with_rule_kinds))
    assert coverage.target_since(own, "allerod", "job_ready_offer", dk("2027-02-01 10:00")) is None


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    yield Site(database_url, DEFAULT_CONFIG_DIR)  # the shipped rules, nothing added


def test_the_console_shows_the_75_percent_target_for_months_from_july_2026_and_not_before(site: Site) -> None:
    opened = dk("2026-07-06 10:00")  # a Monday, under dk-2026-07
    cases = [
        services.record_application(
            site.rt.store, site.rt.rules, "allerod", f"cov-{n}", opened, group="job_ready", caseworker="cw-a1"
        ).case_id
        for n in range(4)
    ]
    services.advance_cases(site.rt.store, site.rt.rules, opened)
    offered = dk("2026-10-05 10:00")
    for case_id in cases[:3]:
        case_events.record_event(site.rt.store, site.rt.rules, case_id, "offer", offered, offered, "cw-a1")
    # On Monday 1 February 2027 (the site's clock), twelve months asked for.
    client = TestClient(site.app, base_url="https://testserver")
    shares = client.get("/api/v1/coverage?months=12", headers=site.bearer("manager"))
    assert shares.status_code == 200, shares.text
    offer = shares.json()["targets"]["job_ready_offer"]
    assert [m["month"] for m in offer] == [
        "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02",
    ]  # fmt: skip
    # The first offers were due Wednesday 6 January 2027 10:00: 4 cases, 3 met, 3/4 = 75 %, reached.
    january = offer[6]
    assert (january["cases"], january["met"], january["exempt"], january["allowed"]) == (4, 3, 0, 1)
    assert january["share"] == pytest.approx(0.75) and january["reached"] is True
    page = site.client("manager").get("/console/coverage?months=12")
    assert page.status_code == 200
    assert "2026-07" in page.text and "2026-06" not in page.text and "75 %" in page.text
    # Before the reform took effect there is no target to show.
    site.clock.current = dk("2026-06-15 10:00")
    before = client.get("/api/v1/coverage?months=12", headers=site.bearer("manager"))
    assert before.status_code == 200 and before.json()["targets"] == {}


def test_the_work_duty_applies_from_1_july_2025(store: SqlStore, rules: RuleBook) -> None:
    assert rules.as_of(dk("2025-06-30 12:00")).municipality("allerod").work_duty is None
    assert rules.as_of(dk("2025-07-01 00:00")).municipality("allerod").work_duty.hours_a_week == 37  # type: ignore[union-attr]
    case_id = _case(store, rules, "wd-1", dk("2025-06-02 10:00"))
    activities = [("Virksomhedspraktik", 20.0), ("Dansk", 9.0)]
    with pytest.raises(ConflictError, match="no work duty rule"):
        work_duty.set_week_plan(
            store, rules, case_id, date(2025, 6, 30), activities, dk("2025-06-27 10:00"), "cw-01", "caseworker", "cli"
        )
    saved = work_duty.set_week_plan(
        store, rules, case_id, date(2025, 7, 7), activities, dk("2025-07-02 10:00"), "cw-01", "caseworker", "cli"
    )
    assert saved.shortfall == 8  # 29 of 37 hours
    # 2 working days from Wednesday 2 July 2025 10:00: Friday 4 July 10:00 (open 08:00-13:00).
    with store.transaction() as tx:
        todos = [(x.id, x.due_at) for x in tx.list_todos(TodoFilter(case_id=case_id)) if x.kind == "work_duty_week"]
    assert todos == [(f"{case_id}.wd202528", dk("2025-07-04 10:00"))]


def test_the_self_booking_window_is_8_days_from_2020(rules: RuleBook) -> None:
    before, after = dk("2019-12-31 10:00"), dk("2020-01-06 10:00")
    assert self_booking_window(rules.as_of(before).municipality("allerod"), before) is None
    window = self_booking_window(rules.as_of(after).municipality("allerod"), after)
    # Monday 6 January 2020 10:00 + 8 calendar days: Tuesday 14 January 10:00.
    assert window is not None and window.earliest == dk("2020-01-14 10:00")


def test_no_danish_version_leaves_a_rule_pending_and_the_swedish_bill_says_why(rules: RuleBook) -> None:
    assert [v.version for v in rules.national["dk"] if v.pending] == []
    [bill] = [v for v in rules.national["se"] if v.pending]
    assert bill.version == "se-2026-07" and bill.status == "proposed"
    assert bill.pending[0].pending_kind == "hours_a_week" and "37" in Path(bill.path).read_text(encoding="utf-8")
