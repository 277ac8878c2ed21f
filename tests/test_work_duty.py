"""The work duty's hours a week: a week plan per case, one to-do per case-week that falls short of 37 hours."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from activation import services, work_duty
from activation.adapters import tables as t
from activation.adapters.sql import SqlStore
from activation.config import RuleBook, load
from activation.errors import ConflictError, InputError
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.rule_kinds_config import config_with, with_rule_kinds
from tests.test_cli import run
from tests.test_cli_errors import assert_one_line_mistake

NOW = at("2026-12-02 10:00", COPENHAGEN)  # a Wednesday
WEEK_50 = date(2026, 12, 7)
WEEK_51 = date(2026, 12, 14)


def dk(text: str) -> datetime:
    return at(text, COPENHAGEN)


@pytest.fixture
def kinds(tmp_path: Path) -> RuleBook:
    return load(config_with(tmp_path, with_rule_kinds))


def _case(store: SqlStore, rules: RuleBook, ref: str = "dk-1") -> str:
    case_id = services.record_application(store, rules, "allerod", ref, dk("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, dk("2026-11-02 10:00"))
    return case_id


def _plan(store: SqlStore, rules: RuleBook, case_id: str, week: date, *hours: float) -> work_duty.WeekPlanSaved:
    activities = [(f"Aktivitet {n}", h) for n, h in enumerate(hours, 1)]
    return work_duty.set_week_plan(store, rules, case_id, week, activities, NOW, "cw-01", "caseworker", "cli")


def _shortfall_todos(store: SqlStore, case_id: str) -> list[tuple[str, datetime]]:
    with store.transaction() as tx:
        todos = tx.list_todos(TodoFilter(case_id=case_id))
    return [(x.id, x.due_at) for x in todos if x.kind == "work_duty_week"]


def test_a_week_planned_short_of_37_hours_gives_the_caseworker_one_to_do(store: SqlStore, kinds: RuleBook) -> None:
    case_id = _case(store, kinds)
    saved = _plan(store, kinds, case_id, WEEK_50, 20, 9)  # praktik 20 h, Danish 9 h: 29 of 37
    assert (saved.plan.planned_hours, saved.shortfall, saved.todo_id) == (29, 8, f"{case_id}.wd202650")
    # 2 working days from Wednesday 2 Dec 10:00: Friday 4 Dec 10:00 (the office is open 08:00-13:00).
    assert _shortfall_todos(store, case_id) == [(f"{case_id}.wd202650", dk("2026-12-04 10:00"))]
    # Saved again, still short: the same week's to-do is not made twice.
    again = _plan(store, kinds, case_id, WEEK_50, 20, 9, 1)
    assert (again.shortfall, again.todo_id) == (7, None)
    assert len(_shortfall_todos(store, case_id)) == 1
    with store.engine.connect() as conn:
        plans = conn.execute(select(func.count()).select_from(t.week_plans)).scalar_one()
        audited = conn.execute(select(func.count()).where(t.audit_log.c.action == "week_plan")).scalar_one()
    assert (plans, audited) == (1, 2)  # the week's plan was replaced; both saves audited


def test_a_full_week_gives_no_to_do_and_fewer_hours_need_an_individual_assessment(
    store: SqlStore, kinds: RuleBook
) -> None:
    case_id = _case(store, kinds)
    full = _plan(store, kinds, case_id, WEEK_50, 30, 7)
    assert (full.shortfall, full.todo_id) == (0, None)
    assessed = work_duty.set_week_plan(
        store, kinds, case_id, WEEK_51, [("Behandling", 10)], NOW, "cw-01", "caseworker", "cli", required_hours=10
    )
    assert (assessed.plan.required_hours, assessed.todo_id) == (10, None)
    assert _shortfall_todos(store, case_id) == []


def test_the_weekly_check_finds_a_week_without_a_plan_once(store: SqlStore, kinds: RuleBook) -> None:
    planned, unplanned, never = _case(store, kinds, "dk-1"), _case(store, kinds, "dk-2"), _case(store, kinds, "dk-3")
    _plan(store, kinds, planned, WEEK_50, 37)
    _plan(store, kinds, planned, WEEK_51, 37)
    _plan(store, kinds, unplanned, WEEK_50, 37)
    # Week 51: the first case is planned in full, the second has no plan (0 of 37); the third was never
    # under the work duty (no plan in the four weeks before) and is left alone.
    assert work_duty.check_weeks(store, kinds, "allerod", WEEK_51, NOW) == [f"{unplanned}.wd202651"]
    assert work_duty.check_weeks(store, kinds, "allerod", WEEK_51, NOW) == []
    assert _shortfall_todos(store, never) == []


@pytest.mark.parametrize(
    ("week", "hours", "field"),
    [
        (date(2026, 12, 8), (10,), "week_start"),  # a Tuesday
        (WEEK_50, (30, 8), "activities"),  # 38 hours
        (WEEK_50, (0.25,), "activities.0.hours"),
    ],
)
def test_a_plan_that_cannot_be_is_refused_with_its_field(
    store: SqlStore, kinds: RuleBook, week: date, hours: tuple[float, ...], field: str
) -> None:
    case_id = _case(store, kinds)
    with pytest.raises(InputError) as caught:
        _plan(store, kinds, case_id, week, *hours)
    assert list(caught.value.fields) == [field]


def test_more_hours_than_the_rule_are_refused_and_a_municipality_without_it_says_so(
    store: SqlStore, kinds: RuleBook
) -> None:
    case_id = _case(store, kinds)
    with pytest.raises(InputError, match="required hours from 0 to 37"):
        work_duty.set_week_plan(store, kinds, case_id, WEEK_50, [], NOW, "cw", "caseworker", "cli", required_hours=40)
    swedish = services.record_application(store, kinds, "karlskrona", "se-1", at("2026-11-02 10:00")).case_id
    with pytest.raises(ConflictError, match="karlskrona has no work duty rule"):
        _plan(store, kinds, swedish, WEEK_50, 37)


def test_the_cli_plans_a_week_checks_the_next_and_says_each_mistake_in_one_line(tmp_path: Path) -> None:
    env = {"ACTIVATION_CONFIG_DIR": str(config_with(tmp_path, with_rule_kinds))}
    applied = run(tmp_path, "apply", "allerod", "DK-W", "--now", "2026-11-02T10:00", "--json", env=env)
    assert applied.returncode == 0, applied.stderr
    case_id = json.loads(applied.stdout)["case_id"]
    args = ("week-plan", case_id, "--week", "2026-12-07", "--activity", "Virksomhedspraktik=20",
            "--activity", "Danskuddannelse=9,5", "--by", "cw-01", "--now", "2026-12-02T10:00")  # fmt: skip
    first = run(tmp_path, *args, env=env)
    assert first.returncode == 0, first.stderr
    assert "29.5 of 37 hours" in first.stdout and f"7.5 hours short: to-do {case_id}.wd202650" in first.stdout
    assert "the week's to-do exists already" in run(tmp_path, *args, env=env).stdout
    checked = run(
        tmp_path, "week-check", "allerod", "--week", "2026-12-14", "--now", "2026-12-09T10:00", "--json", env=env
    )
    assert checked.returncode == 0 and json.loads(checked.stdout) == {"todos": [f"{case_id}.wd202651"]}
    for wrong, message in [
        (("week-plan", case_id, "--week", "next"), "malformed week 'next'"),
        (("week-plan", case_id, "--week", "2026-12-07", "--activity", "praktik"), "malformed activity 'praktik'"),
        (("week-plan", case_id, "--week", "2026-12-08", "--activity", "x=1"), "a week plan starts on a Monday"),
        (("week-check", "karlskrona", "--week", "2026-12-07"), None),
    ]:
        result = run(tmp_path, *wrong, env=env)
        if message is None:  # a municipality without the rule has no work-duty cases: nothing to do
            assert result.returncode == 0 and "0 to-dos" in result.stdout
        else:
            assert_one_line_mistake(result, message)
