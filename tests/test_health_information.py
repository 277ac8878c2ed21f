"""Health information: the citizen's consent first, then the certificate request with its own deadline."""

from __future__ import annotations

import pytest

from activation import services
from activation.adapters.sql import SqlStore
from activation.config import RuleBook
from activation.errors import InputError
from activation.model import TodoView
from activation.ports import TodoFilter
from tests.conftest import at


def _kinds(store: SqlStore, case_id: str) -> dict[str, TodoView]:
    with store.transaction() as tx:
        return {x.kind: x for x in tx.list_todos(TodoFilter(case_id=case_id))}


def test_consent_comes_first_and_the_certificate_request_follows_with_its_own_deadline(
    store: SqlStore, rules: RuleBook
) -> None:
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    consent = services.request_health_information(store, rules, case_id, at("2026-11-18 10:00"))
    assert (consent.kind, consent.side, consent.outcomes) == ("health_consent", True, ("given", "refused"))
    assert consent.due_at == at("2026-11-25 10:00")  # 5 working days
    with pytest.raises(InputError, match="health information is already under way"):
        services.request_health_information(store, rules, case_id, at("2026-11-18 11:00"))

    services.complete_todo(store, consent.id, "given", at("2026-11-19 10:00"), rules=rules)
    todos = _kinds(store, case_id)
    assert set(todos) == {"first_meeting", "health_certificate"}  # the journey's own to-do is untouched
    certificate = todos["health_certificate"]
    assert certificate.due_at == at("2026-12-17 10:00")  # 4 weeks of waiting
    # The doctor is slow: the team lead hears of it 2 working days after the deadline.
    fired = services.sweep(store, at("2026-12-21 11:00")).fired
    assert [
        (a.rule_key, a.recipient) for a in fired if a.kind == "escalation" and a.rule_key == "health_certificate"
    ] == [("health_certificate", "team_lead:arbetsmarknad")]


def test_refused_consent_ends_the_request_without_a_certificate_todo(store: SqlStore, rules: RuleBook) -> None:
    case_id = services.record_application(store, rules, "allerod", "dk-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    consent = services.request_health_information(store, rules, case_id, at("2026-11-18 10:00"))
    services.complete_todo(store, consent.id, "refused", at("2026-11-19 10:00"), rules=rules)
    assert set(_kinds(store, case_id)) == {"first_meeting"}
    with pytest.raises(InputError, match="unknown case"):
        services.request_health_information(store, rules, "c-nothere", at("2026-11-19 10:00"))


def test_a_coordinated_plan_is_due_before_the_rehabilitation_team_meets(store: SqlStore, rules: RuleBook) -> None:
    case_id = services.record_application(store, rules, "allerod", "dk-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    plan = services.start_beside(store, rules, case_id, "coordinated_plan", at("2026-11-18 10:00"))
    assert (plan.kind, plan.rule_key, plan.side) == ("coordinated_plan", "coordinated_plan", True)
    assert plan.due_at == at("2026-12-16 10:00")  # 4 weeks (LAB § 30 a gives no number: a local choice)
    with pytest.raises(InputError, match="choose from health_information, coordinated_plan"):
        services.start_beside(store, rules, case_id, "party", at("2026-11-18 10:00"))
