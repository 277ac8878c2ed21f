"""`activation serve` as operations start it: a local Prefect server, deployments on schedules, work done."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.prefect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_flows_on_a_schedule_until_the_first_meeting_todo_appears(tmp_path: Path) -> None:
    port = _free_port()
    web_port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "ACTIVATION_CONFIG_DIR")}
    env.update(
        {
            "ACTIVATION_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            "PREFECT_HOME": str(tmp_path / ".prefect"),
        }
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # Loaded in bulk (as a replay would), so the served intake flow has the first to-do to create;
    # `activation apply` would create it at once.
    from activation import config, services
    from activation.adapters.db import make_engine, migrate
    from activation.adapters.sql import SqlStore
    from activation.ports import SystemClock

    engine = make_engine(env["ACTIVATION_DATABASE_URL"])
    migrate(engine)
    store = SqlStore(engine)
    case_id = services.record_application(store, config.load(), "vaxjo", "ext-serve-1", SystemClock().now()).case_id
    engine.dispose()
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "serve",
            "--interval",
            "5",
            "--sweep-interval",
            "5",
            "--port",
            str(port),
            "--web-port",
            str(web_port),
        ],
        cwd=tmp_path,
        env=env,
        # A file, not a pipe: an unread pipe fills up with Prefect's logs and blocks the server.
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def completed_runs(flow_name: str) -> list[dict[str, object]]:
        # Filter by flow: with seven stage flows and the sweep every 5 s, an unfiltered page of
        # completed runs soon holds no intake run at all.
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/flow_runs/filter",
            json={
                "flows": {"name": {"any_": [flow_name]}},
                "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                "limit": 50,
            },
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json())

    try:
        todos: list[dict[str, object]] = []
        intake_runs: list[dict[str, object]] = []
        deadline = time.monotonic() + 240
        # The to-do is visible as soon as the task commits; the run reaches COMPLETED a moment later.
        while time.monotonic() < deadline and not (todos and intake_runs):
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(3)
            todos = json.loads(cli("todos", "--case", case_id, "--json").stdout)
            if todos:
                intake_runs = completed_runs("intake")
        assert [t["kind"] for t in todos] == ["first_meeting"], "no to-do within 240 s of serving"
        assert intake_runs, "the intake run did not complete within 240 s"
        assert all(str(r["name"]).startswith("intake ") for r in intake_runs)
        # The web inbox is served beside the flows, at the address serve printed.
        assert f"Inbox: http://127.0.0.1:{web_port}/" in log.read_text()
        assert httpx.get(f"http://127.0.0.1:{web_port}/sign-in", timeout=10).status_code == 200
        runs = intake_runs + completed_runs("deadline-sweep")
        assert all("ext-serve-1" not in json.dumps(r["parameters"]) + str(r["name"]) for r in runs)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        # The local Prefect server is a child of serve; make sure nothing is left listening.
        subprocess.run(["pkill", "-f", "--", f"--port {port}"], check=False)
