"""`activation serve`: the flows as Prefect deployments on schedules, with a local server if none is set."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import httpx

from flows.intake import intake
from flows.notify import deliver_notifications
from flows.stages import STAGE_FLOWS
from flows.sweep import deadline_sweep


def _wait_for(url: str, seconds: float, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {server.returncode}; see .prefect/server.log")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the Prefect server did not answer at {url} within {seconds:.0f} s")


def start_local_server(port: int, say: Callable[[str], Any]) -> subprocess.Popen[bytes]:
    """Start `prefect server start` in the background (its UI included) and wait until it answers."""
    home = os.environ.get("PREFECT_HOME", ".prefect")
    os.makedirs(home, exist_ok=True)
    log = open(os.path.join(home, "server.log"), "ab")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"},
    )
    api = f"http://127.0.0.1:{port}/api"
    say(f"Starting the Prefect server on http://127.0.0.1:{port} (the first start migrates its database, ~30 s)...")
    _wait_for(api, 240, server)
    os.environ["PREFECT_API_URL"] = api
    return server


def serve_all(
    interval: int = 60,
    sweep_interval: int = 300,
    start_server: bool = True,
    port: int = 4200,
    say: Callable[[str], Any] = print,
) -> None:
    """Serve intake, one flow per stage and the deadline sweep until interrupted."""
    server = None
    if not os.environ.get("PREFECT_API_URL") and start_server:
        server = start_local_server(port, say)
        say(f"Prefect UI: http://127.0.0.1:{port}  (operations watch the runs there)")
    from prefect import serve
    from prefect.deployments.runner import RunnerDeployment

    def deployment(flow_: Any, name: str, every: int) -> RunnerDeployment:
        # No deployment concurrency limit: Prefect 3.8 cancels runs whose slot lease lapses while
        # their subprocess starts ("concurrency slot lost during provisioning"), and the flows are
        # safe to overlap anyway, since every claim is exclusive in the database.
        return cast(RunnerDeployment, flow_.to_deployment(name=name, interval=every, tags=["activation"]))

    try:
        serve(
            deployment(intake, "intake", interval),
            *(deployment(stage_flow, name.replace("_", "-"), interval) for name, stage_flow in STAGE_FLOWS.items()),
            deployment(deadline_sweep, "deadline-sweep", sweep_interval),
            deployment(deliver_notifications, "deliver-notifications", interval),
            limit=4,  # at most four runs at once in this process; a slow sweep does not pile up
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
