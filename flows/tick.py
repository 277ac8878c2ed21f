"""One tick: intake, cases moved on, then the deadline sweep, in one flow run; what `activation tick` runs.

`activation serve` runs intake, each stage and the sweep as flow runs of their own on schedules; a
tick does the same work in a single run, so a replay or the demo costs one flow run per step of time.
With no Prefect server up, `activation tick` runs the same code without Prefect (`run_tick_without_prefect`)
rather than start one: a server start costs more than the work (BENCHMARKS.md, serve_idle).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from prefect import flow

from flows.advance import CASEWORKER_STAGES
from flows.common import fire_due, move_cases, resolve_now, run_name, without_prefect


@flow(name="tick", flow_run_name=lambda: run_name("tick"), retries=1, retry_delay_seconds=5)
async def tick(now: datetime | None = None, batch_size: int = 500) -> dict[str, dict[str, int]]:
    """Run intake, the next steps of recorded outcomes and the deadline sweep at `now`."""
    at = resolve_now(now)
    return {
        "intake": move_cases(["application"], at, batch_size),
        "advance": move_cases(CASEWORKER_STAGES, at, batch_size),
        "sweep": fire_due(at, max(batch_size, 1000)),
    }


def run_tick(now: datetime, batch_size: int = 500) -> dict[str, dict[str, int]]:
    """Run one tick at `now`."""
    return asyncio.run(tick(now=now, batch_size=batch_size))


def run_tick_without_prefect(now: datetime, batch_size: int = 500) -> dict[str, dict[str, int]]:
    """Run the tick's code at `now` without Prefect: no server, no flow run recorded, no retries."""
    with without_prefect():
        return asyncio.run(tick.fn(now=now, batch_size=batch_size))
