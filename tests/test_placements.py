"""Placements from the intervention catalogue: their start deadline, the wrap-up, and occupancy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import InputError
from activation.model import TodoView
from activation.ports import TodoFilter
from tests.conftest import at
from tests.forms_filled import PLACEMENT, PLAN, filled


def _open_todo(store: SqlStore, case_id: str) -> TodoView:
    with store.transaction() as tx:
        [todo] = [x for x in tx.list_todos(TodoFilter(case_id=case_id)) if not x.side]
    return todo


def _walk(
    store: SqlStore, rules: RuleBook, case_id: str, moves: list[tuple[datetime, str, dict[str, Any] | None]]
) -> None:
    for moment, outcome, data in moves:
        todo = _open_todo(store, case_id)
        services.complete_todo(store, todo.id, outcome, moment, data=data or filled(outcome), rules=rules)
        services.advance_cases(store, rules, moment)


def _to_placement(store: SqlStore, rules: RuleBook, plan: dict[str, Any], municipality: str = "linkoping") -> str:
    case_id = services.record_application(store, rules, municipality, "se-1", at("2026-11-02 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-02 10:00"))
    _walk(
        store,
        rules,
        case_id,
        [
            (at("2026-11-04 10:00"), "held", None),
            (at("2026-11-09 10:00"), "completed", None),
            (at("2026-11-10 10:00"), "signed", plan),
        ],
    )
    return case_id


def test_a_plan_for_treatment_gives_the_placement_start_the_catalogues_14_days(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _to_placement(store, rules, {**PLAN, "intervention": "treatment"})
    start = _open_todo(store, case_id)
    assert (start.kind, start.rule_key) == ("placement_start", "interventions.treatment")
    assert start.due_at == at("2026-11-24 10:00")  # 14 days (the Danish SEL § 101 figure, a Swedish local choice)


def test_a_plan_without_an_intervention_uses_the_general_placement_deadline(store: SqlStore, rules: RuleBook) -> None:
    case_id = _to_placement(store, rules, PLAN)
    start = _open_todo(store, case_id)
    assert (start.rule_key, start.due_at) == ("placement_start", at("2026-12-01 10:00"))  # 3 weeks


def test_an_intervention_outside_the_catalogue_is_refused(store: SqlStore, rules: RuleBook) -> None:
    with pytest.raises(InputError, match="'circus' is not in the catalogue; choose from internship"):
        _to_placement(store, rules, {**PLAN, "intervention": "circus"})


def test_a_started_placement_plans_the_wrap_up_a_week_after_it_ends_and_counts_as_occupied(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = _to_placement(store, rules, {**PLAN, "intervention": "internship"})
    _walk(store, rules, case_id, [(at("2026-12-01 09:00"), "started", PLACEMENT)])
    with store.transaction() as tx:
        todos = {x.kind: x for x in tx.list_todos(TodoFilter(case_id=case_id))}
    with store.reads() as reads:
        occupied = reads.occupancy("linkoping", date(2027, 1, 15))
        after = reads.occupancy("linkoping", date(2027, 3, 1))
    assert set(todos) == {"follow_up", "placement_wrap_up"}
    wrap_up = todos["placement_wrap_up"]
    # The placement ends Friday 26 Feb 2027; the week counts from Saturday 00:00 and ends Saturday 6 Mar,
    # closed, so at Monday 8 Mar's closing.
    assert wrap_up.due_at == at("2027-03-08 16:30")
    assert wrap_up.side and wrap_up.outcomes == ("held", "not_held")
    assert (occupied, after) == ({"internship": 1}, {})
    # Holding the wrap-up does not move the case: it is still in follow-up.
    services.complete_todo(store, wrap_up.id, "held", at("2027-03-02 10:00"), rules=rules)
    services.advance_cases(store, rules, at("2027-03-02 10:00"))
    with store.transaction() as tx:
        remaining = [x.kind for x in tx.list_todos(TodoFilter(case_id=case_id))]
        [case] = tx.cases([case_id]).values()
    assert remaining == ["follow_up"]
    assert case.stage == "follow_up"


def test_a_placement_must_end_after_it_starts(store: SqlStore, rules: RuleBook) -> None:
    case_id = _to_placement(store, rules, PLAN)
    todo = _open_todo(store, case_id)
    with pytest.raises(InputError, match="ends_on must be after starts_on"):
        services.complete_todo(
            store, todo.id, "started", at("2026-12-01 09:00"), data={**PLACEMENT, "ends_on": "2026-11-01"}, rules=rules
        )


def test_a_placement_longer_than_the_law_allows_is_refused_citing_the_rule(store: SqlStore, rules: RuleBook) -> None:
    case_id = _to_placement(store, rules, {**PLAN, "intervention": "education"}, municipality="allerod")
    todo = _open_todo(store, case_id)
    eight_weeks = {**PLACEMENT, "intervention": "education", "starts_on": "2026-12-01", "ends_on": "2027-01-26"}
    with pytest.raises(
        InputError, match=r"at most 6 weeks \(Guidance and upskilling offers are at most 6 weeks each, LAB § 75 a"
    ):
        services.complete_todo(store, todo.id, "started", at("2026-12-01 09:00"), data=eight_weeks, rules=rules)
    six_weeks = {**eight_weeks, "ends_on": "2027-01-12"}
    services.complete_todo(store, todo.id, "started", at("2026-12-01 09:00"), data=six_weeks, rules=rules)


def test_a_mentor_at_psychiatric_discharge_runs_at_least_six_months(store: SqlStore, rules: RuleBook) -> None:
    case_id = _to_placement(store, rules, {**PLAN, "intervention": "mentor_discharge"}, municipality="allerod")
    todo = _open_todo(store, case_id)
    three_months = {**PLACEMENT, "intervention": "mentor_discharge", "starts_on": "2026-12-01", "ends_on": "2027-03-01"}
    with pytest.raises(InputError, match=r"runs at least 6 months .*LAB § 31 b"):
        services.complete_todo(store, todo.id, "started", at("2026-12-01 09:00"), data=three_months, rules=rules)
    six_months = {**three_months, "ends_on": "2027-06-01"}
    services.complete_todo(store, todo.id, "started", at("2026-12-01 09:00"), data=six_months, rules=rules)
