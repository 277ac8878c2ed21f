"""What-if simulation: small cohorts whose numbers are worked out by hand, through the real rules.

Karlskrona (the shipped rules): the first meeting is due 48 hours after the application; a due time
while the office is closed moves to the end of the next opening (Monday 16:30); the escalation ladder
is 1 working hour after the deadline (team lead), then 1 working day (manager). Applications arrive
at 09:00 on weekdays, caseworkers work at 13:00, the sweep runs at 13:00 and 23:00. The runs start
on Monday 7 September 2026.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from activation import config
from activation.adapters.simulation import run_on_scratch
from activation.config import RuleBook
from activation.simulation import Capacity, Cohort, SimulationResult, side_by_side
from tests.conftest import at
from tests.test_cli import run
from tests.web_support import Web, make_web
from web.app import WebSettings

ROOT = Path(__file__).resolve().parent.parent
START = date(2026, 9, 7)
FIVE_WORKING_DAYS = """\
version: karlskrona-2026.2
effective_from: 2027-01-01
note: First meeting within 5 working days instead of 48 hours (a what-if).
changes:
  deadlines:
    first_meeting:
      due: 5 working days
      remind_before: [1 working day]
      escalate_after:
        - {after: 1 working hour, notify: team_lead}
      source: "A manager's what-if: 5 working days"
      local_choice: true
"""


def versioned(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(ROOT / "config", directory)
    (directory / "versions" / "karlskrona").mkdir(parents=True)
    (directory / "versions" / "karlskrona" / "2026.2.yaml").write_text(FIVE_WORKING_DAYS)
    return directory


def simulate(
    rules: RuleBook, weeks: int, cohort: Cohort, capacity: Capacity, version: str = "karlskrona-2026.1"
) -> SimulationResult:
    return run_on_scratch(rules, "karlskrona", version, START, weeks, cohort, capacity)


ONE_A_DAY_FOR_A_WEEK = Cohort(arrivals_per_week=5, arrival_weeks=1, no_show_rate=0.0)


def test_no_capacity_misses_every_first_meeting_and_fires_the_whole_ladder(rules: RuleBook) -> None:
    # Five applications Mon-Fri; nobody works. Mon-Wed's are due Wed-Fri 09:00 (overdue in week 1),
    # Thu's and Fri's fall on the weekend and move to Monday 16:30 (overdue in week 2).
    result = simulate(rules, 3, ONE_A_DAY_FOR_A_WEEK, Capacity(caseworkers=1, meetings_per_week=0))
    first = result.deadlines["first_meeting"]
    assert (first.met, first.missed, first.excused, first.open) == (0, 5, 0, 0)
    assert result.met_share("first_meeting") == 0.0
    assert result.escalations["first_meeting"] == 5 * 2  # arrivals x ladder steps
    assert result.backlog == [3, 5, 5]
    assert result.counts["applications"] == 5 and result.counts["todos_done"] == 0
    assert result.done_per_week == [{"cw-01": 0}] * 3


def test_ample_capacity_and_no_no_shows_meet_every_first_meeting(rules: RuleBook) -> None:
    # 2 a weekday for 4 weeks, each seen at 13:00 the day they apply. The 4 of the last Thursday and
    # Friday are due the Monday after the period and are not judged: 40 - 4 = 36 met.
    cohort = Cohort(arrivals_per_week=10, no_show_rate=0.0)
    result = simulate(rules, 4, cohort, Capacity(caseworkers=2, meetings_per_week=50, days_per_week=5))
    first = result.deadlines["first_meeting"]
    assert (first.met, first.missed) == (36, 0)
    assert result.met_share("first_meeting") == 1.0
    assert result.escalations["first_meeting"] == 0
    assert result.backlog == [0, 0, 0, 0]


def test_capacity_for_three_meetings_a_week_meets_four_of_five(rules: RuleBook) -> None:
    # One caseworker, one slot on Mon, Tue and Wed. Week 1: Mon-Wed's citizens are seen the day they
    # apply (met). Thu's and Fri's are due Mon 16:30: Thu's is seen Mon 13:00 (met), Fri's Tue 13:00
    # (missed, after its team-lead step fired at Tue 09:00; the manager step is cancelled).
    capacity = Capacity(caseworkers=1, meetings_per_week=3, days_per_week=5)
    result = simulate(rules, 2, ONE_A_DAY_FOR_A_WEEK, capacity)
    first = result.deadlines["first_meeting"]
    assert (first.met, first.missed) == (4, 1)
    assert result.met_share("first_meeting") == 0.8
    assert result.escalations["first_meeting"] == 1
    assert result.done_per_week == [{"cw-01": 3}, {"cw-01": 3}]


def test_a_longer_first_meeting_deadline_meets_at_least_as_many(tmp_path: Path) -> None:
    # Version B gives 5 working days: Friday's citizen, seen on Tuesday, is now in time too.
    rules = config.load(versioned(tmp_path))
    capacity = Capacity(caseworkers=1, meetings_per_week=3, days_per_week=5)
    a = simulate(rules, 2, ONE_A_DAY_FOR_A_WEEK, capacity, "karlskrona-2026.1")
    b = simulate(rules, 2, ONE_A_DAY_FOR_A_WEEK, capacity, "karlskrona-2026.2")
    assert a.version.startswith("karlskrona-2026.1+") and b.version.startswith("karlskrona-2026.2+")
    assert a.met_share("first_meeting") == 0.8 and b.met_share("first_meeting") == 1.0
    row = next(r for r in side_by_side(a, b) if r["deadline"] == "first_meeting")
    assert (row["a"]["met"], row["a"]["missed"], row["b"]["met"], row["b"]["missed"]) == (4, 1, 5, 0)


def test_pinning_a_version_holds_it_at_every_moment(tmp_path: Path) -> None:
    rules = config.load(versioned(tmp_path))
    pinned = rules.pinned("karlskrona", "karlskrona-2026.2")
    assert pinned.in_force("karlskrona", at("2026-09-07 09:00")).version == "karlskrona-2026.2"
    assert str(pinned.as_of(at("2026-09-07 09:00")).municipality("karlskrona").rule("first_meeting").due) == (
        "5 working days"
    )
    # Untouched: without the pin, the law in force then (SoL 2025:400 since 1 July 2025) applies.
    assert rules.in_force("karlskrona", at("2026-09-07 09:00")).version == "se-2025-07"


def test_the_same_seed_replays_the_same_run(rules: RuleBook) -> None:
    cohort = Cohort(arrivals_per_week=15, seed=3)
    capacity = Capacity(caseworkers=2, meetings_per_week=12)
    first, again = (simulate(rules, 6, cohort, capacity).as_dict() for _ in range(2))
    assert first == again and first["counts"]["outcome_no_show"] > 0


def test_unknown_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown capacity bands"):
        Cohort(readiness={"1-100": 1.0})


def test_the_command_prints_both_versions_and_plots_them(tmp_path: Path) -> None:
    # Two weeks of one a weekday (the command has no stop to arrivals), 3 slots a week, soonest due first:
    #   met: week 1 Mon, Tue, Wed (seen the same day), week 1 Thu (seen Mon 13:00, due Mon 16:30) = 4
    #   missed: week 1 Fri (seen Tue), week 2 Mon (due Wed 09:00, seen Wed 13:00), week 2 Tue and
    #   Wed (never seen) = 4; week 2 Thu and Fri are due after the period: not judged.
    directory = versioned(tmp_path)
    done = run(
        tmp_path, "--config-dir", str(directory), "simulate", "karlskrona", "--weeks", "2",
        "--arrivals-per-week", "5", "--caseworkers", "1", "--meetings-per-week", "3", "--days-per-week", "5",
        "--no-show-rate", "0", "--compare", "karlskrona-2026.2", "--json", "--plot", "met.svg",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    a, b = out["runs"]
    assert a["deadlines"]["first_meeting"] == {"met": 4, "missed": 4, "excused": 0, "open": 0, "met_share": 0.5}
    assert b["deadlines"]["first_meeting"]["met_share"] >= 0.5
    assert "week 2/2" in done.stderr
    svg = (tmp_path / "met.svg").read_text()
    assert svg.count("<svg") == 3 and "karlskrona-2026.2" in svg  # one document holding two charts


def test_the_console_page_charts_two_versions(database_url: str, tmp_path: Path) -> None:
    directory = versioned(tmp_path)
    base = make_web(database_url, at("2026-09-07 08:00"))
    web = Web(
        base.url, base.rt, base.clock, WebSettings(db_url=database_url, clock=base.clock, config_dir=str(directory))
    )
    client = web.client("manager")
    response = client.get(
        "/console/simulate",
        params={"run": "1", "weeks": "2", "arrivals": "5", "caseworkers": "1", "meetings": "3", "days": "5",
                "no_show": "0", "version": "karlskrona-2026.1", "compare": "karlskrona-2026.2"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.text.count("<svg") == 2
    assert "karlskrona-2026.2" in response.text
    bounded = client.get("/console/simulate", params={"weeks": "500", "arrivals": "5000"})
    assert bounded.status_code == 200 and "<svg" not in bounded.text and "goes from 1 to 52" in bounded.text
