"""Driving the production set-up for the throughput benchmark: deploy/production.sh, its databases, its Prefect API."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import URL, make_url, text

from activation.adapters.db import make_engine
from bench.common import BenchError

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "production.sh"


@dataclass
class Setup:
    """The running production set-up: its databases, its API and how to call the script."""

    server: str
    prefect_db: str
    project_db: str
    port: int
    run_dir: Path
    env: dict[str, str]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def project_url(self) -> str:
        return f"{self.server}/{self.project_db}"

    def script(self, command: str, timeout: float = 300, **extra: str) -> None:
        done = subprocess.run(
            ["bash", str(SCRIPT), command],
            cwd=ROOT,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise BenchError(f"production.sh {command} failed:\n{done.stdout}\n{done.stderr}")


def server_url(url: str) -> str:
    parsed = make_url(url)
    return URL.create("postgresql", parsed.username, parsed.password, parsed.host, parsed.port).render_as_string(
        hide_password=False
    )


def drop_databases(server: str, names: list[str]) -> None:
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the Prefect API ----------------------------------------------------------------------------


def deployments(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.post("/deployments/filter", json={"limit": 50})
    response.raise_for_status()
    return {d["name"]: d for d in response.json()}


def pause_all_but(client: httpx.Client, keep: set[str]) -> None:
    """Pause every deployment not in `keep`: no new runs, and the server deletes their scheduled ones."""
    for name, d in deployments(client).items():
        if name not in keep:
            # Not PATCH {"paused": true}: that leaves runs already due (late) to be picked up.
            client.post(f"/deployments/{d['id']}/pause_deployment").raise_for_status()


def settle(interval: int) -> None:
    """Give the runs that started with the (re)deployment time to finish: intake keeps running every interval."""
    time.sleep(max(15, 3 * interval))


def wait_idle(client: httpx.Client, seconds: float = 180) -> None:
    """Wait until no run is pending or running (the runs that started with the deployments are done)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = client.post(
            "/flow_runs/count", json={"flow_runs": {"state": {"type": {"any_": ["PENDING", "RUNNING"]}}}}
        )
        response.raise_for_status()
        if response.json() == 0:
            return
        time.sleep(1)
    going = client.post(
        "/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["PENDING", "RUNNING"]}}}, "limit": 20}
    ).json()
    described = "; ".join(f"{r['name']} {r['state_type']} since {r['state']['timestamp']}" for r in going)
    raise BenchError(f"runs still going after {seconds:.0f} s: {described}")


def online_workers(client: httpx.Client) -> set[str]:
    response = client.post("/work_pools/activation/workers/filter", json={})
    response.raise_for_status()
    return {w["name"] for w in response.json() if w["status"] == "ONLINE"}


def wait_workers(client: httpx.Client, names: set[str], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if names <= online_workers(client):
            return
        time.sleep(1)
    raise BenchError(f"workers {sorted(names)} not online within {seconds:.0f} s")


def runs_per_worker(client: httpx.Client, since: datetime, until: datetime, flow: str) -> dict[str, int]:
    """Runs of a flow that started in a time window, per worker that executed them (the workers' own events)."""
    response = client.post(
        "/flow_runs/filter",
        json={
            "flows": {"name": {"any_": [flow]}},
            "flow_runs": {"start_time": {"after_": since.isoformat(), "before_": until.isoformat()}},
            "limit": 200,
        },
    )
    response.raise_for_status()
    run_ids = [r["id"] for r in response.json()]
    counts: dict[str, int] = {}
    for i in range(0, len(run_ids), 50):
        chunk = run_ids[i : i + 50]
        events = client.post(
            "/events/filter",
            json={
                "filter": {
                    "event": {"name": ["prefect.worker.executed-flow-run"]},
                    "any_resource": {"id": [f"prefect.flow-run.{run_id}" for run_id in chunk]},
                    "occurred": {"since": (since - timedelta(minutes=5)).isoformat()},
                },
                "limit": 50,
            },
        )
        events.raise_for_status()
        for event in events.json()["events"]:
            name = event["resource"]["prefect.resource.name"]
            counts[name] = counts.get(name, 0) + 1
    return counts
