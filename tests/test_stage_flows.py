"""Every stage that takes outcomes has its own flow, and together they cover the journey."""

from __future__ import annotations

from activation import journey


def test_each_caseworker_stage_has_a_flow_of_its_own() -> None:
    from flows.stages import STAGE_FLOWS

    with_outcomes = {s.name for s in journey.JOURNEY if s.outcomes and not s.automatic}
    assert set(STAGE_FLOWS) == with_outcomes
    assert len({f.name for f in STAGE_FLOWS.values()}) == len(STAGE_FLOWS)  # one deployment name each
