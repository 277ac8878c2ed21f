"""`activation deploy`: a process work pool and one deployment per flow, run by `prefect worker start`.

Production runs the flows on workers, not in `activation serve`: a Prefect server (on PostgreSQL), a
process work pool (default "activation") and two or more `prefect worker start --pool activation`
processes, each of which starts one subprocess per flow run. This module creates or updates, against
the server at PREFECT_API_URL:

- the work pool (type "process"), created if missing, left alone (but for its limit) if present;
- intake, one deployment per stage flow in STAGE_FLOWS, the deadline sweep and, when flows/notify.py
  defines it, the notification delivery, each on an interval schedule, tagged "activation";
- the code comes from the project directory itself (`flow.from_source(<project dir>, entrypoint)`):
  workers on this machine (or one with the same checkout at the same path) run it in place, no image,
  no upload. The deployment's job variables carry ACTIVATION_DATABASE_URL and ACTIVATION_CONFIG_DIR, so
  a run finds the project's database whatever the worker's own environment says; a URL with a password
  is never stored in Prefect (the UI shows job variables): workers must then have it in their environment.

Concurrency: each deployment has a limit (stage flows: `flow_limit`, default 2; the sweep: 1) with the
CANCEL_NEW strategy: a scheduled run that finds the limit taken is cancelled at once ("Deployment
concurrency limit reached."), which for a flow that drains a queue every interval only means "the runs
already going will do it". That keeps a slow sweep or a large backlog from piling up runs. (`serve`
runs the flows in process, one run per flow at a time, and needs none.) A run can be cancelled with
"concurrency slot lost during provisioning", which happens when a
run's slot lease expires (default 300 s, held in the server's memory) before its process reports
RUNNING, or when the server restarted in between and forgot its leases. With workers a run reports
RUNNING within seconds of PENDING; production.sh keeps leases on disk
(PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE=...filesystem) so a server restart keeps them too, and
tests/test_production.py checks that no run is cancelled that way. Every claim in the database is
exclusive anyway (FOR UPDATE SKIP LOCKED, unique keys), so overlapping runs are safe, just wasteful.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from activation.adapters.db import ENV_DATABASE_URL, database_url
from activation.config import ENV_CONFIG_DIR
from flows.stages import STAGE_FLOWS

DEFAULT_POOL = "activation"
PROJECT_DIR = Path(__file__).resolve().parent.parent
TAG = "activation"


@dataclass(frozen=True)
class Planned:
    """One deployment to create: the flow's entrypoint in the project, its schedule and its limit."""

    name: str
    entrypoint: str
    interval: int
    limit: int
    tags: tuple[str, ...] = field(default=(TAG,))


def _notify_flow() -> str | None:
    """The attribute in flows/notify.py holding the "deliver-notifications" flow, if that module exists."""
    if importlib.util.find_spec("flows.notify") is None:
        return None
    module = importlib.import_module("flows.notify")
    for attr, value in vars(module).items():
        if getattr(value, "name", None) == "deliver-notifications" and hasattr(value, "fn"):
            return attr
    return None


def planned_deployments(
    interval: int = 60,
    sweep_interval: int = 300,
    flow_limit: int = 2,
    sweep_limit: int = 1,
    stage_interval: int | None = None,
) -> list[Planned]:
    """Intake, one per stage, the sweep (and the notification delivery when it exists), in that order."""
    every_stage = stage_interval or interval
    planned = [Planned("intake", "flows/intake.py:intake", interval, flow_limit, (TAG, "intake"))]
    planned += [
        Planned(
            stage.replace("_", "-"),
            f"flows/stages.py:{stage_flow.fn.__name__}",
            every_stage,
            flow_limit,
            (TAG, "stage"),
        )
        for stage, stage_flow in STAGE_FLOWS.items()
    ]
    planned.append(
        Planned("deadline-sweep", "flows/sweep.py:deadline_sweep", sweep_interval, sweep_limit, (TAG, "sweep"))
    )
    notify = _notify_flow()
    if notify:
        planned.append(Planned("deliver-notifications", f"flows/notify.py:{notify}", interval, 1, (TAG, "notify")))
    return planned


def run_env(say: Callable[[str], Any] = print) -> dict[str, str]:
    """Environment for the runs: the project's database and rules, as this process sees them."""
    from sqlalchemy.engine import make_url

    env: dict[str, str] = {}
    url = database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # A relative SQLite path would be read from the run's working directory (the project).
        url = f"sqlite:///{(Path.cwd() / url.removeprefix('sqlite:///')).resolve()}"
    if make_url(url).password:
        say(
            f"The database URL has a password: it is not stored in the deployments; start the workers with"
            f" {ENV_DATABASE_URL} in their environment."
        )
    else:
        env[ENV_DATABASE_URL] = url
    if os.environ.get(ENV_CONFIG_DIR):
        env[ENV_CONFIG_DIR] = str(Path(os.environ[ENV_CONFIG_DIR]).resolve())
    return env


def ensure_work_pool(name: str, concurrency_limit: int | None = None) -> str:
    """Create the process work pool if missing; return "created" or "exists" (its limit set when given)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            pool = client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    concurrency_limit=concurrency_limit,
                    description="Activation flows: intake, stages, deadline sweep (activation deploy).",
                )
            )
            return "created"
        if pool.type != "process":
            raise RuntimeError(f"work pool {name!r} exists with type {pool.type!r}; activation needs a process pool")
        if concurrency_limit is not None and pool.concurrency_limit != concurrency_limit:
            client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=concurrency_limit))
        return "exists"


def deploy_all(
    pool: str = DEFAULT_POOL,
    interval: int = 60,
    sweep_interval: int = 300,
    flow_limit: int = 2,
    sweep_limit: int = 1,
    pool_limit: int | None = None,
    say: Callable[[str], Any] = print,
    stage_interval: int | None = None,
) -> dict[str, Any]:
    """Ensure the work pool and create or update every deployment; safe to run again."""
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError("PREFECT_API_URL is not set: point it at the Prefect server, e.g. http://127.0.0.1:4200/api")
    import httpx
    from prefect import Flow
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import RunnerDeployment

    try:
        pool_state = ensure_work_pool(pool, pool_limit)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach the Prefect API at {os.environ['PREFECT_API_URL']}: {exc}") from None
    env = run_env(say)
    planned = planned_deployments(interval, sweep_interval, flow_limit, sweep_limit, stage_interval)
    deployments: list[RunnerDeployment] = []
    ids: list[Any] = []
    for p in planned:
        # Sync from here: from_source returns the flow itself, loaded from the file in the project.
        flow_ = cast("Flow[..., Any]", Flow.from_source(source=str(PROJECT_DIR), entrypoint=p.entrypoint))
        deployment = cast(
            RunnerDeployment,
            flow_.to_deployment(
                name=p.name,
                interval=p.interval,
                tags=list(p.tags),
                job_variables={"env": env},
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=p.limit, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
                ),
            ),
        )
        # What `prefect.deploy(..., build=False, push=False)` does per deployment, minus its console
        # output (which would spoil --json) and with errors raised, not tabulated: create or update by
        # name, with the pull step "set working directory to the project" from the local source.
        ids.append(deployment.apply(work_pool_name=pool))
        deployments.append(deployment)
        say(f"deployed {deployment.flow_name}/{deployment.name}: every {p.interval} s, at most {p.limit} at once")
    return {
        "work_pool": pool,
        "work_pool_state": pool_state,
        "project_dir": str(PROJECT_DIR),
        "env": sorted(env),
        "deployments": [
            {
                "name": f"{d.flow_name}/{d.name}",
                "id": str(i),
                "interval_seconds": p.interval,
                "concurrency_limit": p.limit,
                "entrypoint": p.entrypoint,
            }
            for d, i, p in zip(deployments, ids, planned, strict=True)
        ],
    }
