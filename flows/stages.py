"""One flow per stage of the journey that takes outcomes, made from the journey itself.

`activation serve` deploys them beside intake and the sweep, so operations see in Prefect's UI which
stage's work runs, fails or backs up. A stage added to activation/journey.py gets its flow (and its
deployment) without a change here. Their side effects (to-dos, deadlines, letters) are in tasks/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import Flow, flow

from activation import journey
from flows.common import move_cases, resolve_now, run_name


def stage_flow(stage: journey.Stage) -> Flow[..., Any]:
    """Make the flow that applies the outcomes recorded in one stage, in batches."""
    label = stage.name.replace("_", " ")

    async def apply_outcomes(now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
        return move_cases([stage.name], resolve_now(now), batch_size)

    # Deployments name their entrypoint `flows/stages.py:<function name>`: the name must be unique
    # and an attribute of this module (set below).
    apply_outcomes.__name__ = apply_outcomes.__qualname__ = f"{stage.name}_flow"
    apply_outcomes.__doc__ = f"Apply the outcomes recorded in the {label} stage: {', '.join(stage.outcomes)}."
    return flow(
        name=stage.name.replace("_", "-"),
        flow_run_name=lambda: run_name(label),
        retries=1,
        retry_delay_seconds=5,
    )(apply_outcomes)


def stage_flows() -> dict[str, Flow[..., Any]]:
    """Return a flow for every stage a caseworker's outcome moves on, in journey order."""
    return {s.name: stage_flow(s) for s in journey.JOURNEY if s.outcomes and not s.automatic}


STAGE_FLOWS = stage_flows()
globals().update({f.fn.__name__: f for f in STAGE_FLOWS.values()})
