"""Dates across the fields of a record: a follow-up after signing, an end after the start, no years-long typos;
and problems said in a caseworker's words, never Pydantic's."""

from __future__ import annotations

from typing import Any

import pytest

import forms
from activation import records
from tests.forms_filled import PLACEMENT, PLAN


def _refused(record: str, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(records.RecordError) as caught:
        records.validate(record, data)
    return caught.value.fields


def test_a_plan_signed_in_2030_with_its_follow_up_in_2020_is_refused_on_the_follow_up() -> None:
    fields = _refused("plan", {**PLAN, "signed_on": "2030-03-01", "follow_up_on": "2020-03-01"})
    assert fields["follow_up_on"] == records.FOLLOW_UP_AFTER_SIGNING
    assert fields["activities.0"] == records.FAR_FROM_SIGNING  # the activities of 2026 point at the typo too


def test_the_dates_are_judged_even_when_another_field_is_wrong() -> None:
    # Pydantic checks across fields only once each field is valid; the caseworker learns all at once.
    fields = _refused("plan", {**PLAN, "goal": "", "follow_up_on": "2026-11-01"})
    assert fields["follow_up_on"] == records.FOLLOW_UP_AFTER_SIGNING and "goal" in fields
    row = {**PLAN["activities"][0], "responsible": None, "ends_on": "2026-11-01"}
    fields = _refused("plan", {**PLAN, "activities": [row]})
    assert fields == {"activities.0.responsible": "Write a value here.", "activities.0": records.END_AFTER_START}
    placement = _refused("placement", {**PLACEMENT, "provider": "", "ends_on": "2026-11-01"})
    assert placement["ends_on"] == records.END_AFTER_START


def test_a_follow_up_on_the_signing_day_is_refused_and_the_day_after_is_accepted() -> None:
    assert _refused("plan", {**PLAN, "follow_up_on": PLAN["signed_on"]}) == {
        "follow_up_on": records.FOLLOW_UP_AFTER_SIGNING
    }
    records.validate("plan", {**PLAN, "follow_up_on": "2026-11-17"})


def test_a_follow_up_years_after_signing_is_a_typo_in_the_year() -> None:
    assert _refused("plan", {**PLAN, "follow_up_on": "2036-01-15"}) == {"follow_up_on": records.TOO_FAR_APART}


def test_an_activity_years_away_from_the_signing_is_refused_on_its_row() -> None:
    far = {**PLAN["activities"][0], "starts_on": "2016-12-01", "ends_on": "2017-03-01"}
    assert _refused("plan", {**PLAN, "activities": [far]}) == {"activities.0": records.FAR_FROM_SIGNING}
    long = {**PLAN["activities"][0], "ends_on": "2031-03-01"}
    assert _refused("plan", {**PLAN, "activities": [long]}) == {"activities.0": records.TOO_FAR_APART}


def test_a_placement_that_ends_before_it_starts_or_years_later_is_refused_on_its_end_date() -> None:
    assert _refused("placement", {**PLACEMENT, "ends_on": "2026-11-01"}) == {"ends_on": records.END_AFTER_START}
    assert _refused("placement", {**PLACEMENT, "ends_on": "2031-12-01"}) == {"ends_on": records.TOO_FAR_APART}


@pytest.mark.parametrize(
    ("record", "data", "field", "said"),
    [
        ("plan", {**PLAN, "activities": [{**PLAN["activities"][0], "responsible": None}]},
         "activities.0.responsible", "Write a value here."),
        ("plan", {**PLAN, "activities": [{**PLAN["activities"][0], "starts_on": None}]},
         "activities.0.starts_on", "Write a date here."),
        ("plan", {**PLAN, "signed_on": "23/11/2026"}, "signed_on",
         "Write the date as year-month-day, e.g. 2026-12-31."),
        ("placement", {**PLACEMENT, "hours_per_week": "twenty"}, "hours_per_week", "Write a whole number."),
        ("assessment", {"capacity_band": "all of it"}, "capacity_band", "Choose one of the options."),
        ("exit", {"reason": "job", "personnummer": "19900101-0000"}, "personnummer",
         "This field is not part of the form."),
    ],
)  # fmt: skip
def test_problems_are_said_in_a_caseworkers_words_not_pydantics(
    record: str, data: dict[str, Any], field: str, said: str
) -> None:
    fields = _refused(record, data)
    assert fields[field] == said
    assert not any(problem.startswith("Input should be") for problem in fields.values())


def test_the_plan_letter_refuses_a_follow_up_before_the_signing_too() -> None:
    context = {"case_id": "c-abcd1234", "municipality": "Karlskrona", "team": "Arbetsmarknad", **PLAN}
    context.pop("intervention", None)
    forms.render("plan_letter", "sv", context)
    with pytest.raises(forms.FormError, match="follow_up_on must be after signed_on"):
        forms.render("plan_letter", "sv", {**context, "follow_up_on": "2026-11-01"})
