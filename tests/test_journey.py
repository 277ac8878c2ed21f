"""The journey definition is complete, consistent, and drawn in README.md exactly as defined."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from activation import journey, records, samples
from activation.config import RuleBook

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_stage_the_mission_names_is_defined_in_order() -> None:
    assert journey.stage_names() == (
        "application",
        "first_meeting",
        "assessment",
        "plan",
        "placement",
        "follow_up",
        "exit",
        "after_exit_check",
        "closed",
    )


def test_every_outcome_leads_to_a_defined_stage() -> None:
    names = set(journey.stage_names())
    for stage in journey.JOURNEY:
        for outcome, go in stage.outcomes.items():
            assert go.to in names, f"{stage.name} --{outcome}--> {go.to}"


def test_every_caseworker_stage_creates_a_todo_with_a_deadline_and_a_known_role() -> None:
    for stage in journey.JOURNEY:
        if stage.automatic or stage.terminal:
            continue
        assert stage.todo is not None and stage.deadline, stage.name
        assert stage.todo.role in journey.ROLES


def test_holding_the_first_meeting_leads_to_the_assessment_todo() -> None:
    target, todo, key = journey.next_step("first_meeting", "held")
    assert (target.name, todo.kind if todo else None, key) == ("assessment", "assessment", "assessment")


def test_a_no_show_stays_in_the_first_meeting_stage_with_a_rebooking_todo_and_deadline() -> None:
    target, todo, key = journey.next_step("first_meeting", "no_show")
    assert (target.name, todo.kind if todo else None, key) == (
        "first_meeting",
        "rebook_first_meeting",
        "first_meeting_rebooking",
    )


def test_an_unknown_outcome_is_refused_listing_the_accepted_ones() -> None:
    with pytest.raises(journey.JourneyError, match="accepts: held, no_show, withdrawn"):
        journey.next_step("first_meeting", "completed")


def test_every_municipality_has_a_rule_for_every_deadline_key_of_the_journey(rules: RuleBook) -> None:
    for code, municipality in rules.municipalities.items():
        assert set(journey.deadline_keys()) == set(municipality.deadlines), code


def test_the_readme_diagram_is_the_one_generated_from_the_journey() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no mermaid block"
    assert blocks[0] == journey.mermaid(), "README diagram is stale: run `activation journey --mermaid`"


def _transitions() -> list[tuple[str, str, journey.Go]]:
    return [(s.name, outcome, go) for s in journey.JOURNEY for outcome, go in s.outcomes.items()]


def test_what_a_transition_reads_from_its_record_are_fields_the_record_has() -> None:
    for stage, outcome, go in _transitions():
        fields = set(records.RECORDS[go.record].model_fields) if go.record else set()
        named = {*go.letter_omits, *([go.catalogue_deadline] if go.catalogue_deadline else [])}
        named |= {"intervention", "starts_on", "ends_on"} if go.starts_placement else set()
        named |= {"group"} if go.changes_group else set()
        named |= {a.counted_from for a in go.also if a.counted_from}
        assert named <= fields, f"{stage} --{outcome}--> reads {sorted(named - fields)} missing from {go.record}"


def test_the_plan_picks_the_placements_deadline_and_the_placement_starts_one() -> None:
    signed, started = journey.transition("plan", "signed"), journey.transition("placement", "started")
    assert (signed.catalogue_deadline, signed.letter_omits) == ("intervention", ("intervention",))
    assert started.starts_placement and not signed.starts_placement
    assert [go.changes_group for _, _, go in _transitions()].count(True) == 1  # the assessment's


def test_the_no_shows_invitation_is_a_rebooking_and_follow_ups_are_held_when_due() -> None:
    _, no_show, _ = journey.next_step("first_meeting", "no_show")
    _, held, _ = journey.next_step("application", "received")
    assert no_show is not None and no_show.rebooking and no_show.form == "meeting_invitation"
    assert held is not None and not held.rebooking
    assert journey.scheduled_kinds() == {"follow_up", "placement_wrap_up", "after_exit_check"}


def test_every_form_has_a_sample_record_that_validates() -> None:
    assert set(samples.SAMPLES) == set(records.RECORDS)
    for form in records.RECORDS:
        assert records.validate(form, samples.filled(form, date(2026, 11, 16))), form
