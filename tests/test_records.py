"""Records filled in with outcomes: validated field by field; the assessment can change the target group."""

from __future__ import annotations

from typing import Any

import pytest

from activation import records, services
from activation.config import RuleBook
from activation.errors import InputError
from activation.ports import TodoFilter
from tests.conftest import COPENHAGEN, at
from tests.fakes import FakeStore
from tests.forms_filled import ASSESSMENT, PLAN, filled


def test_capacity_bands_give_the_hours_of_a_40_hour_week() -> None:
    assert [records.CapacityBand(b).hours_per_week for b in ("1-25", "26-50", "51-75", "76-100")] == [10, 20, 30, 40]
    stored = records.validate("assessment", ASSESSMENT)
    assert stored["capacity_band"] == "26-50" and stored["barriers"] == ["mental_health", "housing"]


def test_a_plan_activity_must_end_after_it_starts_so_the_citizen_knows_the_end_date() -> None:
    bad = {**PLAN, "activities": [{**PLAN["activities"][0], "ends_on": "2026-11-01"}]}
    with pytest.raises(records.RecordError) as caught:
        records.validate("plan", bad)
    assert caught.value.fields == {"activities.0": "ends_on must be after starts_on"}


def test_a_plan_without_activities_or_signature_is_refused_field_by_field() -> None:
    with pytest.raises(records.RecordError) as caught:
        records.validate("plan", {"goal": "Work"})
    assert set(caught.value.fields) == {"activities", "follow_up_on", "signed_on"}


@pytest.mark.parametrize(
    ("record", "data", "field"),
    [
        ("assessment", {"capacity_band": "100%"}, "capacity_band"),
        ("assessment", {"capacity_band": "1-25", "barriers": ["gambling"]}, "barriers.0"),
        ("follow_up", {"ladder_step": "day_activity", "life_mastery": {"wellbeing": 11}}, "life_mastery"),
        ("follow_up", {"ladder_step": "top"}, "ladder_step"),
        ("exit", {"reason": "bored"}, "reason"),
        ("exit", {"reason": "job", "cpr": "010101-1234"}, "cpr"),
    ],
)
def test_bad_fields_are_named(record: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(records.RecordError) as caught:
        records.validate(record, data)
    assert field in caught.value.fields


def _danish_case_at_assessment(store: FakeStore, rules: RuleBook) -> tuple[str, str]:
    case_id = services.record_application(store, rules, "allerod", "dk-1", at("2026-11-02 10:00", COPENHAGEN)).case_id
    services.advance_cases(store, rules, at("2026-11-02 10:00", COPENHAGEN))
    with store.transaction() as tx:
        [meeting] = tx.list_todos(TodoFilter(case_id=case_id))
    services.complete_todo(store, meeting.id, "held", at("2026-11-05 10:00", COPENHAGEN))
    services.advance_cases(store, rules, at("2026-11-05 10:00", COPENHAGEN))
    with store.transaction() as tx:
        [assessment] = tx.list_todos(TodoFilter(case_id=case_id))
    return case_id, assessment.id


def test_an_outcome_that_needs_a_form_is_refused_without_it_and_with_bad_fields(rules: RuleBook) -> None:
    store = FakeStore()
    _, todo_id = _danish_case_at_assessment(store, rules)
    when = at("2026-11-12 10:00", COPENHAGEN)
    with pytest.raises(InputError, match="needs the assessment form"):
        services.complete_todo(store, todo_id, "completed", when)
    with pytest.raises(InputError, match="capacity_band"):
        services.complete_todo(store, todo_id, "completed", when, data={"capacity_band": "all"})
    with pytest.raises(InputError, match="unknown target group 'retired'"):
        services.complete_todo(store, todo_id, "completed", when, data={**ASSESSMENT, "group": "retired"}, rules=rules)
    with pytest.raises(InputError, match="records no form"):
        services.complete_todo(store, todo_id, "withdrawn", when, data=ASSESSMENT)
    with store.transaction() as tx:
        todo = tx.todo(todo_id)
        assert todo is not None
        assert todo.status == "open"  # nothing was written


def test_an_assessment_that_finds_the_citizen_job_ready_starts_the_job_ready_obligations(rules_2017: RuleBook) -> None:
    rules = rules_2017  # the 2017 rules, held at every moment: this tests the mechanism
    store = FakeStore()
    case_id, todo_id = _danish_case_at_assessment(store, rules)
    when = at("2026-11-12 10:00", COPENHAGEN)
    services.complete_todo(store, todo_id, "completed", when, data={**ASSESSMENT, "group": "job_ready"}, rules=rules)
    services.advance_cases(store, rules, when)
    assert store.state.cases[case_id].group == "job_ready"
    periods = {
        d["rule_key"]: (d["status"], d["due_at"]) for d in store.state.deadlines.values() if d["todo_id"] is None
    }
    # LAB § 96 stk. 4: after a change of group, an offer within 1 month; the old group's periods end.
    assert periods["job_ready.offer"] == ("open", at("2026-12-14 15:30", COPENHAGEN))
    assert periods["activity_ready.offer"][0] == "ended"
    assert filled("completed") == ASSESSMENT


def test_a_date_outside_this_century_is_refused_beside_its_field() -> None:
    # A typo like 9999-12-31 would overflow the deadline arithmetic after the to-do was completed.
    from activation import records

    with pytest.raises(records.RecordError) as refused:
        records.validate(
            "placement",
            {"intervention": "praktik", "provider": "Synthetic AB", "starts_on": "2026-12-01", "ends_on": "9999-12-31"},
        )
    assert refused.value.fields == {"ends_on": "a date between 2000-01-01 and 2099-12-31, please"}
