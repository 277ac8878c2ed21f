"""Caseload coverage targets: the share that met an obligation, exemptions up to the cap, the forecast."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from activation import case_events, coverage, services
from activation.adapters import tables as t
from activation.adapters.coverage_sql import case_exemptions, target_coverage
from activation.adapters.sql import SqlStore
from activation.config import ConfigError, CoverageTarget, RuleBook, load
from activation.errors import ConflictError, InputError
from activation.model import Exemption
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds
from tests.test_cli import run
from tests.test_cli_errors import assert_one_line_mistake

TARGET = CoverageTarget(label="offer", obligation="job_ready.first_offer", target=75, max_exempt=25, source="test")
TZ = "Europe/Copenhagen"
MAY = (2027, 5)


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


MAY_DUE = dk("2027-05-03 15:30")


def _periods(statuses: str, due: datetime = MAY_DUE) -> list[coverage.PeriodFact]:
    """One period per case c1, c2, ...: m met, x missed, o open."""
    word = {"m": "met", "x": "missed", "o": "open"}
    return [coverage.PeriodFact(f"c{n}", due, word[s]) for n, s in enumerate(statuses, 1)]


def _exempt(*cases: int) -> list[Exemption]:
    """Exemptions of these cases, recorded one day apart in the order given."""
    first = dk("2027-04-01 10:00")
    return [
        Exemption(f"c{n}", "allerod", "job_ready_offer", "finds_job_themselves", "cw-01", first + timedelta(days=i))
        for i, n in enumerate(cases)
    ]


def test_eight_cases_five_met_and_one_exempt_give_five_of_seven_below_the_target() -> None:
    [may] = coverage.measure(TARGET, _periods("mmmmmxxx"), _exempt(6), [MAY], TZ, dk("2027-06-01 09:00"))
    assert (may.cases, may.met, may.exempt, may.over_cap, may.allowed, may.counted) == (8, 5, 1, 0, 2, 7)
    assert may.share == pytest.approx(5 / 7)  # 71.4 %
    assert may.reached is False


def test_exemptions_beyond_a_quarter_count_as_not_exempt_in_the_order_recorded() -> None:
    # 8 cases allow floor(8 x 25 %) = 2 exemptions; c8, c5 were recorded first, c6 and c7 come over the cap.
    [may] = coverage.measure(TARGET, _periods("mmmmxxxx"), _exempt(8, 5, 6, 7), [MAY], TZ, dk("2027-06-01 09:00"))
    assert (may.exempt, may.over_cap, may.counted) == (2, 2, 6)
    assert may.share == pytest.approx(4 / 6)


def test_a_case_that_met_the_obligation_uses_no_exemption() -> None:
    # c1 met and was exempted first: the two allowed exemptions go to c7 and c8.
    [may] = coverage.measure(TARGET, _periods("mmmmmmxx"), _exempt(1, 7, 8), [MAY], TZ, dk("2027-06-01 09:00"))
    assert (may.met, may.exempt, may.over_cap, may.counted) == (6, 2, 0, 6)
    assert may.share == 1.0 and may.reached is True


def test_the_current_month_forecasts_what_can_still_be_reached() -> None:
    # On 10 May: 3 met, 3 due on 20 May and still open, 1 overdue (due 3 May), 1 exempt.
    periods = [*_periods("mmm"), *_periods("ooo", dk("2027-05-20 15:30"))[:3], *_periods("ox", dk("2027-05-03 15:30"))]
    periods = [coverage.PeriodFact(f"c{n}", p.due_at, p.status) for n, p in enumerate(periods, 1)]
    [may] = coverage.measure(TARGET, periods, _exempt(8), [MAY], TZ, dk("2027-05-10 09:00"))
    assert (may.cases, may.met, may.pending, may.exempt, may.counted, may.current) == (8, 3, 3, 1, 7, True)
    assert may.share == pytest.approx(3 / 7) and may.reachable == pytest.approx(6 / 7)
    assert may.reached is True  # 85.7 % is still within reach


def test_a_month_is_the_month_the_period_is_due_in_local_time() -> None:
    # 30 April 2027 23:30 UTC is 1 May 01:30 in Copenhagen: a May period.
    late = [coverage.PeriodFact("c1", datetime.fromisoformat("2027-04-30T23:30:00+00:00"), "met")]
    april, may = coverage.measure(TARGET, late, [], [(2027, 4), MAY], TZ, dk("2027-06-01 09:00"))
    assert (april.cases, may.cases) == (0, 1) and april.share is None and april.reached is None


@pytest.fixture
def kinds(tmp_path: Path) -> RuleBook:
    return load(config_with(tmp_path, with_rule_kinds))


def _job_ready_cases(store: SqlStore, rules: RuleBook, count: int) -> list[str]:
    ids = []
    for n in range(1, count + 1):
        opened = services.record_application(
            store, rules, "allerod", f"dk-{n}", dk("2026-11-02 10:00"), group="job_ready"
        )
        ids.append(opened.case_id)
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    return ids


def test_the_stored_caseload_shows_five_of_seven_for_may_and_exemptions_are_audited(
    store: SqlStore, kinds: RuleBook
) -> None:
    cases = _job_ready_cases(store, kinds, 8)
    # The first offer is owed by 2 May 2027 10:00, a Sunday: Monday 3 May 15:30, a May period.
    for case_id in cases[:5]:
        case_events.record_event(store, kinds, case_id, "offer", dk("2027-01-11 10:00"), dk("2027-01-11 10:00"), "cw")
    now = dk("2027-02-01 10:00")
    exempted = coverage.record_exemption(
        store, kinds, cases[5], "job_ready_offer", "finds_job_themselves", now, "cw-01", "caseworker", "cli"
    )
    assert exempted.repeated is False
    again = coverage.record_exemption(
        store, kinds, cases[5], "job_ready_offer", "finds_job_themselves", now, "cw-01", "caseworker", "api"
    )
    assert again.repeated is True and again.exemption.recorded_at == now
    with pytest.raises(ConflictError, match="exempted from job_ready_offer on 2027-02-01 by cw-01"):
        coverage.record_exemption(store, kinds, cases[5], "job_ready_offer", "other", now, "cw-02", "caseworker", "web")
    with store.engine.connect() as conn:
        months = target_coverage(conn, kinds.municipality("allerod"), "job_ready_offer", dk("2027-06-01 09:00"), 2)
        audited = conn.execute(select(func.count()).where(t.audit_log.c.action == "exempt")).scalar_one()
        listed = case_exemptions(conn, cases[5])
    may, june = months
    assert (june.month, june.cases, june.current) == ((2027, 6), 0, True)
    assert (may.cases, may.met, may.exempt, may.counted, may.current) == (8, 5, 1, 7, False)
    assert may.share == pytest.approx(5 / 7) and may.reached is False
    assert audited == 1 and [(e.reason, e.recorded_by) for e in listed] == [("finds_job_themselves", "cw-01")]


@pytest.mark.parametrize(
    ("target", "reason", "field"),
    [("no_such_target", "finds_job_themselves", "target"), ("job_ready_offer", "no_such_reason", "reason")],
)
def test_an_exemption_names_what_is_wrong(
    store: SqlStore, kinds: RuleBook, target: str, reason: str, field: str
) -> None:
    [case_id] = _job_ready_cases(store, kinds, 1)
    with pytest.raises(InputError) as caught:
        coverage.record_exemption(
            store, kinds, case_id, target, reason, dk("2027-02-01 10:00"), "cw", "caseworker", "cli"
        )
    assert list(caught.value.fields) == [field]


def test_a_case_of_another_group_cannot_be_exempted_from_the_target(store: SqlStore, kinds: RuleBook) -> None:
    case_id = services.record_application(store, kinds, "allerod", "dk-9", dk("2026-11-02 10:00")).case_id
    with pytest.raises(ConflictError, match="not an open case of group 'job_ready'"):
        coverage.record_exemption(
            store,
            kinds,
            case_id,
            "job_ready_offer",
            "finds_job_themselves",
            dk("2027-02-01 10:00"),
            "cw",
            "caseworker",
            "cli",
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"obligation": "job_ready.nothing"}, "coverage_targets.job_ready_offer.obligation: unknown obligation"),
        ({"target": 120}, "coverage_targets.job_ready_offer.target"),
        ({"max_exempt": -1}, "coverage_targets.job_ready_offer.max_exempt"),
        ({"source": ""}, "coverage_targets.job_ready_offer.source"),
    ],
)
def test_a_coverage_target_that_cannot_be_measured_is_refused_naming_file_and_key(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    def broken(data: dict[str, Any]) -> None:
        with_rule_kinds(data)
        data["coverage_targets"]["job_ready_offer"].update(change)

    with pytest.raises(ConfigError) as caught:
        load(config_with(tmp_path, broken))
    assert "allerod.yaml" in str(caught.value) and message in str(caught.value)


def test_exemptions_without_reasons_to_choose_from_are_refused(tmp_path: Path) -> None:
    def no_reasons(data: dict[str, Any]) -> None:
        with_rule_kinds(data)
        del data["exemption_reasons"]

    with pytest.raises(ConfigError, match="max_exempt: exemptions need exemption_reasons"):
        load(config_with(tmp_path, no_reasons))


def test_the_cli_exempts_a_case_once_and_shows_the_month_with_its_forecast(tmp_path: Path) -> None:
    env = {"ACTIVATION_CONFIG_DIR": str(config_with(tmp_path, with_rule_kinds))}
    cases = []
    for ref in ("DK-1", "DK-2"):
        applied = run(
            tmp_path, "apply", "allerod", ref, "--group", "job_ready", "--now", "2026-11-02T10:00", "--json", env=env
        )
        assert applied.returncode == 0, applied.stderr
        cases.append(json.loads(applied.stdout)["case_id"])
    offered = run(
        tmp_path, "event", cases[0], "--kind", "offer", "--at", "2027-01-04T10:00", "--now", "2027-01-04T11:00", env=env
    )
    assert offered.returncode == 0, offered.stderr
    args = (
        "exempt",
        cases[1],
        "--target",
        "job_ready_offer",
        "--reason",
        "finds_job_themselves",
        "--by",
        "cw-01",
        "--now",
        "2027-02-01T10:00",
    )
    first = run(tmp_path, *args, env=env)
    assert (
        first.returncode == 0
        and f"Case {cases[1]} exempted from job_ready_offer (finds_job_themselves) by cw-01" in first.stdout
    )
    assert "already exempted" in run(tmp_path, *args, env=env).stdout
    shown = run(tmp_path, "coverage", "allerod", "--months", "1", "--now", "2027-05-10T10:00", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    [may] = json.loads(shown.stdout)["job_ready_offer"]
    # 2 cases due 3 May: one met, one exempt (floor(2 x 25 %) = 0 allowed, so it counts as not met).
    assert (may["month"], may["forecast"], may["cases"], may["met"], may["exempt"], may["over_cap"]) == (
        "2027-05",
        True,
        2,
        1,
        0,
        1,
    )
    assert may["share"] == 0.5
    for wrong, message in [
        (("exempt", cases[1], "--target", "job_ready_offer", "--reason", "bored"), "unknown reason 'bored'"),
        (
            ("exempt", "c-nobody", "--target", "job_ready_offer", "--reason", "finds_job_themselves"),
            "unknown case 'c-nobody'",
        ),
        (("coverage", "karlskrona"), "karlskrona has no coverage targets"),
    ]:
        assert_one_line_mistake(run(tmp_path, *wrong, env=env), message)
