"""Letters render in the municipality's language from validated input, or explain which field is wrong."""

from __future__ import annotations

from typing import Any

import pytest

import forms
from activation.config import RuleBook

CONTEXT = {
    "case_id": "c-abcd2345",
    "municipality": "Karlskrona kommun",
    "team": "Arbetsmarknadsenheten",
    "caseworker": None,
    "meeting_by": "2026-11-23T15:30:00+00:00",
    "timezone": "Europe/Stockholm",
    "rebooking": False,
}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sv", "Samtalet hålls senast 2026-11-23 kl. 16:30"),
        ("da", "Samtalen holdes senest 23.11.2026 kl. 16:30"),
        ("en", "at the latest on 23 November 2026 at 16:30"),
    ],
)
def test_the_invitation_shows_the_meeting_deadline_in_local_time_in_each_language(language: str, expected: str) -> None:
    letter = forms.render("meeting_invitation", language, CONTEXT)
    assert expected in letter
    assert "c-abcd2345" in letter


def test_a_rebooking_invitation_says_the_citizen_missed_the_meeting() -> None:
    letter = forms.render("meeting_invitation", "sv", {**CONTEXT, "rebooking": True})
    assert "Ny kallelse" in letter and "Du kom inte" in letter


def test_bad_input_is_refused_field_by_field() -> None:
    with pytest.raises(forms.FormError) as caught:
        forms.render("meeting_invitation", "sv", {**CONTEXT, "case_id": "191212121212", "meeting_by": "tomorrow"})
    assert set(caught.value.fields) == {"case_id", "meeting_by"}


def test_an_unknown_field_is_refused_so_personal_data_cannot_slip_into_a_letter() -> None:
    with pytest.raises(forms.FormError) as caught:
        forms.render("meeting_invitation", "sv", {**CONTEXT, "personnummer": "19121212-1212"})
    assert "personnummer" in caught.value.fields


def test_an_unknown_form_or_language_is_refused() -> None:
    with pytest.raises(forms.FormError, match="unknown form"):
        forms.render("nope", "sv", CONTEXT)
    with pytest.raises(forms.FormError, match="not one of da, sv, en"):
        forms.render("meeting_invitation", "fi", CONTEXT)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", "fra 01.12.2026 til 01.03.2027"),
        ("sv", "från 2026-12-01 till 2027-03-01"),
        ("en", "from 01 December 2026 to 01 March 2027"),
    ],
)
def test_the_plan_letter_tells_the_citizen_each_activitys_end_date(language: str, expected: str) -> None:
    from tests.forms_filled import PLAN

    context = {
        "case_id": "c-abcd2345",
        "municipality": "Allerød Kommune",
        "team": "Jobcenter",
        "timezone": "Europe/Copenhagen",
    }
    letter = forms.render("plan_letter", language, {**context, **PLAN})
    assert expected in letter


def test_signing_the_plan_queues_the_plan_letter_with_the_plan_as_its_content(rules: RuleBook) -> None:
    from activation import services
    from activation.ports import TodoFilter
    from tests.conftest import at
    from tests.fakes import FakeStore
    from tests.forms_filled import ASSESSMENT, PLAN

    store = FakeStore()
    case_id = services.record_application(store, rules, "karlskrona", "ext-1", at("2026-11-17 10:00")).case_id
    services.advance_cases(store, rules, at("2026-11-17 10:00"))
    for moment, outcome, data in (
        ("2026-11-18 10:00", "held", None),
        ("2026-11-19 10:00", "completed", ASSESSMENT),
        ("2026-11-20 10:00", "signed", PLAN),
    ):
        with store.transaction() as tx:
            [todo] = tx.list_todos(TodoFilter(case_id=case_id))
        services.complete_todo(store, todo.id, outcome, at(moment), data=data)
        services.advance_cases(store, rules, at(moment))
    [plan_letter] = [row["letter"] for row in store.state.letters.values() if row["letter"].form == "plan_letter"]
    assert plan_letter.language == "sv"
    assert "Din genomförandeplan" in forms.render(plan_letter.form, plan_letter.language, plan_letter.context)


@pytest.mark.parametrize("language", ["da", "sv", "en"])
@pytest.mark.parametrize(
    ("form", "record"),
    [
        ("assessment_letter", {"capacity_band": "26-50", "barriers": ["mental_health"]}),
        (
            "placement_agreement",
            {"intervention": "Arbetspraktik", "provider": "Shop", "starts_on": "2026-12-01", "ends_on": "2027-02-26"},
        ),
        ("follow_up_note", {"ladder_step": "day_activity", "life_mastery": {"wellbeing": 6}}),
        ("exit_summary", {"reason": "job"}),
    ],
)
def test_every_journey_letter_renders_in_every_language(form: str, record: dict[str, Any], language: str) -> None:
    context = {
        "case_id": "c-abcd2345",
        "municipality": "Växjö kommun",
        "team": "Koordinatorerna",
        "timezone": "Europe/Stockholm",
    }
    letter = forms.render(form, language, {**context, **record})
    assert "c-abcd2345" in letter and "Koordinatorerna" in letter


def test_every_letter_the_journey_sends_has_a_schema_and_templates_in_three_languages() -> None:
    from activation import journey
    from forms.render import TEMPLATES

    letters = {go.letter for s in journey.JOURNEY for go in s.outcomes.values() if go.letter}
    letters |= {t.form for t in journey.todos() if t.form}
    assert letters <= set(forms.available_forms())
    for form in letters:
        for language in ("da", "sv", "en"):
            assert (TEMPLATES / f"{form}.{language}.txt.j2").exists(), (form, language)
